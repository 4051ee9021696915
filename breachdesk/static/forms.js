// Forms: the cursor goes to the first field that needs a change, and a time zone chooser marked
// data-browser-zone starts at the browser's own zone (with any "now" time beside it on that clock).
(function () {
  var invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) {
    invalid.focus();
  }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  document.querySelectorAll("input[data-browser-zone]").forEach(function (input) {
    var known = input.list && Array.prototype.some.call(input.list.options, function (option) {
      return option.value === zone;
    });
    if (!known || input.value === zone) {
      return;
    }
    input.value = zone;
    input.form.querySelectorAll("input[data-local-now]").forEach(function (when) {
      var now = new Date();
      now.setMinutes(now.getMinutes() - now.getTimezoneOffset());
      when.value = now.toISOString().slice(0, 16);
    });
  });
})();
