// The portal's own behaviour, kept out of the templates: the Content-Security-Policy allows no
// inline scripts or on*= handlers (script-src 'self').

// <select data-submit-on-change> submits its form when changed (the language switcher).
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.hasAttribute("data-submit-on-change") && field.form) {
    field.form.submit();
  }
});
