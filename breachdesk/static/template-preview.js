// Live preview of a notice template: posts the source as typed and shows the rendered notice or the problems.
(function () {
  const editor = document.querySelector(".template-editor");
  if (!editor) return;
  const form = editor.querySelector("form");
  const status = editor.querySelector("[data-preview-status]");
  const subject = editor.querySelector("[data-preview-subject]");
  const text = editor.querySelector("[data-preview-text]");
  let timer = null;
  async function refresh() {
    const body = new FormData(form);
    try {
      const response = await fetch(editor.dataset.previewUrl, {method: "POST", body: body,
                                                               headers: {"X-CSRFToken": body.get("csrf_token")}});
      const answer = await response.json();
      if (answer.problems && answer.problems.length) {
        status.textContent = "Cannot render: " + answer.problems.join("; ");
        status.classList.add("warn");
        return;
      }
      status.textContent = "As it would be sent:";
      status.classList.remove("warn");
      subject.textContent = answer.subject;
      text.textContent = answer.text;
    } catch (error) {
      status.textContent = "Preview unavailable: " + error;
    }
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 400); });
  form.addEventListener("change", refresh);
  refresh();
})();
