// A "Copy" button for a value shown on the page: <button data-copy="ELEMENT-ID" hidden>. The button is
// hidden until this script shows it, so without JavaScript (or without a clipboard) nobody is offered it.
document.addEventListener("DOMContentLoaded", () => {
  if (!navigator.clipboard) return;
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      const said = document.querySelector(`[data-copied-for="${button.dataset.copy}"]`);
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        if (said) said.textContent = "Copied.";
      } catch {
        if (said) said.textContent = "Could not copy: select the token and copy it yourself.";
      }
    });
  }
});
