// Searchable multi-select: a filter box over a list of checkboxes. Without JavaScript the list still works.
document.querySelectorAll("[data-picker]").forEach(function (picker) {
  var filter = picker.querySelector(".picker-filter");
  var options = picker.querySelectorAll(".option");
  filter.hidden = false;
  filter.addEventListener("input", function () {
    var needle = filter.value.trim().toLowerCase();
    options.forEach(function (option) {
      var checked = option.querySelector("input").checked;
      option.hidden = needle !== "" && !checked && option.textContent.toLowerCase().indexOf(needle) === -1;
    });
  });
});
