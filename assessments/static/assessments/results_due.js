// The results due date under a plan form (assessments/_due_live.html): when the end field
// changes, ask the portal's own API (/api/v1/calendar/due-date) and show the date, or why it
// cannot be computed yet. Texts come translated in the element's data attributes.
(() => {
  const show = (box, due, rule) => {
    box.querySelector("[data-due]").textContent = due;
    const ruleBox = box.querySelector("[data-rule]");
    ruleBox.textContent = rule;
    box.hidden = false;
  };

  let latest = 0; // answers may arrive out of order: only the last request's is shown

  const update = async (box, field) => {
    const day = (field.value || "").slice(0, 10);
    const asked = ++latest;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
      box.hidden = true;
      return;
    }
    try {
      const response = await fetch(`${box.dataset.url}?end=${encodeURIComponent(day)}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      const data = await response.json();
      if (asked !== latest) return;
      if (response.ok) {
        const rule = box.querySelector("[data-rule]").dataset.text.replace("{n}", data.working_days);
        show(box, data.due, rule);
      } else if (response.status === 422 && data.unknown_years) {
        show(box, box.dataset.unknown.replace("{year}", data.unknown_years[0]), "");
      } else {
        show(box, box.dataset.failed, "");
      }
    } catch (error) {
      if (asked === latest) show(box, box.dataset.failed, "");
    }
  };

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-results-due]").forEach((box) => {
      const field = box.closest("form")?.querySelector(`[name="${box.dataset.endField}"]`)
        || document.querySelector(`[name="${box.dataset.endField}"]`);
      if (!field) return;
      let shown = field.value;
      const changed = () => {
        if (field.value === shown) return;
        shown = field.value;
        update(box, field);
      };
      field.addEventListener("change", changed);
      field.addEventListener("input", changed);
      if (field.value) update(box, field);
    });
  });
})();
