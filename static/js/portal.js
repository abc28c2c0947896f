// The portal's own behaviour, kept out of the templates: the Content-Security-Policy allows no
// inline scripts or on*= handlers (script-src 'self').

// <select data-submit-on-change> submits its form when changed (the language switcher).
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.hasAttribute("data-submit-on-change") && field.form) {
    field.form.submit();
  }
});

// The occupation form: the highest level offered stays within the reach of the ticked majors
// (input[data-level-cap], the highest level a major's training level allows; a smaller digit is
// a higher level). The server refuses the same with the submit rule's words.
function capLevelsByMajors(form) {
  const select = form.querySelector("select[data-capped-by-majors]");
  if (!select) {
    return;
  }
  const caps = [...form.querySelectorAll("input[data-level-cap]:checked")].map((box) => Number(box.dataset.levelCap));
  const cap = caps.length ? Math.min(...caps) : 0;
  for (const option of select.options) {
    option.disabled = option.value !== "" && Number(option.value) < cap;
  }
  if (select.selectedOptions.length && select.selectedOptions[0].disabled) {
    select.value = String(cap);
  }
}

document.addEventListener("change", (event) => {
  const box = event.target;
  if (box instanceof HTMLInputElement && box.hasAttribute("data-level-cap") && box.form) {
    capLevelsByMajors(box.form);
  }
});
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form").forEach(capLevelsByMajors);
});
