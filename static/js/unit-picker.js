/* A search box for long lists of units (select[data-unit-picker]): type part of a name, with or without
   diacritics ("ninh kieu", "Ninh Kiều"), and the list keeps only the matching units, still grouped by kind;
   a single match is selected. Plain DOM, no framework; without JavaScript the <select> works as it is.
   The labels come from the page (data-search-label / data-count-* on the script tag's dataset). */
(function () {
  "use strict";
  var script = document.currentScript;
  var labels = script ? script.dataset : {};

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D")
      .toLowerCase().replace(/\s+/g, " ").trim();
  }

  function enhance(select, index) {
    var id = "unit-search-" + index;
    var wrap = document.createElement("div");
    wrap.className = "unit-search";
    var label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = labels.searchLabel || "Tìm đơn vị";
    var input = document.createElement("input");
    input.type = "search";
    input.id = id;
    input.autocomplete = "off";
    input.setAttribute("aria-controls", select.id);
    input.setAttribute("enterkeyhint", "search");
    var status = document.createElement("p");
    status.className = "helptext unit-search-status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    wrap.appendChild(label);
    wrap.appendChild(input);
    wrap.appendChild(status);
    select.parentNode.insertBefore(wrap, select);

    var options = Array.prototype.slice.call(select.options).map(function (option) {
      return {option: option, text: fold(option.textContent), blank: option.value === ""};
    });

    input.addEventListener("input", function () {
      var words = fold(input.value).split(" ").filter(Boolean);
      var shown = [];
      options.forEach(function (item) {
        var match = item.blank || words.every(function (w) { return item.text.indexOf(w) !== -1; });
        item.option.hidden = !match;
        item.option.disabled = !match;
        if (match && !item.blank) { shown.push(item.option); }
      });
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        group.hidden = !Array.prototype.some.call(group.children, function (o) { return !o.hidden; });
      });
      if (!words.length) {
        status.textContent = "";
        return;
      }
      if (shown.length === 1) { select.value = shown[0].value; select.dispatchEvent(new Event("change")); }
      status.textContent = shown.length === 0 ? (labels.countNone || "Không có đơn vị nào phù hợp.")
        : (labels.countSome || "Có {n} đơn vị phù hợp.").replace("{n}", String(shown.length));
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("select[data-unit-picker]"), enhance);
})();
