"use strict";
(function () {
  // Matrix: a click (or Enter) on a cell lists its conversations in the
  // catalog's panel.
  function show(cell) {
    var panel = document.getElementById(cell.getAttribute("data-panel"));
    if (!panel) return;
    document.querySelectorAll("td.cell.selected").forEach(function (c) {
      c.classList.remove("selected");
    });
    cell.classList.add("selected");
    panel.replaceChildren();
    var title = document.createElement("p");
    title.textContent = cell.getAttribute("data-title");
    panel.appendChild(title);
    var rules = cell.querySelector("ul.rules");
    if (rules) {
      var r = rules.cloneNode(true);
      r.className = "rules-shown";
      panel.appendChild(r);
    }
    var list = cell.querySelector("ol.convs");
    if (list) {
      var copy = list.cloneNode(true);
      copy.hidden = false;
      copy.className = "convs-shown";
      panel.appendChild(copy);
    }
    var more = cell.getAttribute("data-more");
    if (more) {
      var p = document.createElement("p");
      p.className = "note";
      p.textContent = more;
      panel.appendChild(p);
    }
  }
  document.querySelectorAll("td.cell").forEach(function (cell) {
    cell.addEventListener("click", function () { show(cell); });
    cell.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); show(cell); }
    });
  });

  // Conversations: filter by text and verdict, sort by a column.
  var table = document.getElementById("conv-table");
  if (!table) return;
  var body = table.tBodies[0];
  var filter = document.getElementById("conv-filter");
  var verdict = document.getElementById("conv-verdict");
  var shown = document.getElementById("conv-shown");
  function apply() {
    var needle = filter.value.trim().toLowerCase();
    var v = verdict.value;
    var n = 0;
    Array.prototype.forEach.call(body.rows, function (tr) {
      var ok = (!v || tr.getAttribute("data-verdict") === v) &&
        (!needle || tr.textContent.toLowerCase().indexOf(needle) >= 0);
      tr.hidden = !ok;
      if (ok) n++;
    });
    shown.textContent = String(n);
  }
  filter.addEventListener("input", apply);
  verdict.addEventListener("change", apply);
  function key(tr, i) {
    var td = tr.cells[i];
    var v = td.getAttribute("data-v");
    return v !== null ? v : td.textContent;
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
    th.addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (o) {
        o.removeAttribute("aria-sort");
      });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var numeric = th.classList.contains("num");
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a, i), y = key(b, i);
        var c = numeric ? Number(x) - Number(y) : (x < y ? -1 : x > y ? 1 : 0);
        return asc ? c : -c;
      });
      rows.forEach(function (tr) { body.appendChild(tr); });
    });
  });
})();
