// Small enhancements for pages that work without JavaScript; loaded from our own origin only (CSP).
document.addEventListener("input", (event) => {
  // A range input shows its value in the <output> its data-output attribute names.
  const target = event.target;
  if (target instanceof HTMLInputElement && target.dataset.output) {
    const output = document.getElementById(target.dataset.output);
    if (output) output.value = target.value;
  }
});
