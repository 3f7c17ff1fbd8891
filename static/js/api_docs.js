// The API documentation page: Swagger UI draws a few controls without an accessible name (the enum
// parameters' drop-downs, the dialog's close button) or with one that hides its visible text (the
// dialog's "Authorize" button), and code examples that scroll but cannot be reached by keyboard.
// Each is fixed as Swagger UI draws it.
(() => {
  "use strict";
  const root = document.getElementById("swagger-ui");
  const fix = () => {
    for (const select of root.querySelectorAll("tr[data-param-name] select:not([aria-label])")) {
      select.setAttribute("aria-label", select.closest("tr").dataset.paramName);
    }
    for (const button of root.querySelectorAll(".close-modal:not([aria-label])")) button.setAttribute("aria-label", "Close");
    for (const button of root.querySelectorAll(".auth-btn-wrapper .authorize[aria-label]")) button.removeAttribute("aria-label");
    for (const code of root.querySelectorAll(".highlight-code > pre:not([tabindex])")) code.tabIndex = 0;
  };
  new MutationObserver(fix).observe(root, { childList: true, subtree: true });
})();
