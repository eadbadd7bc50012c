// The report's interactive county map (swc_raster/report_map.py writes the SVG and the JSON it reads).
// Plain browser JavaScript, no libraries, nothing fetched: pan and zoom change the SVG viewBox;
// every number shown comes pre-formatted from the JSON, so the map prints what the tables print.
(function () {
  "use strict";
  var root = document.getElementById("onemap");
  if (!root) return;
  var data = JSON.parse(document.getElementById("onemap-data").textContent);
  var svg = document.getElementById("onemap-svg");
  var tip = document.getElementById("onemap-tip");
  var info = document.getElementById("onemap-info");
  var legend = document.getElementById("onemap-legend");
  var yearSel = document.getElementById("onemap-year");
  var themeSel = document.getElementById("onemap-theme");
  var countySel = document.getElementById("onemap-county");
  var gradeBox = document.getElementById("onemap-grade");
  var paths = Array.prototype.slice.call(svg.querySelectorAll("path.county"));
  var labels = Array.prototype.slice.call(svg.querySelectorAll(".om-labels text"));
  var images = Array.prototype.slice.call(svg.querySelectorAll("image.grade"));
  var full = svg.viewBox.baseVal;
  var home = [full.x, full.y, full.width, full.height];
  var view = home.slice();
  var state = { year: data.year, theme: data.themes[0].id, code: data.region || data.order[0] };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function theme() {
    for (var i = 0; i < data.themes.length; i++) if (data.themes[i].id === state.theme) return data.themes[i];
    return data.themes[0];
  }
  function value(code, key) {
    var row = (data.rows[state.year] || {})[code];
    for (var i = 0; i < data.fields.length; i++) if (data.fields[i].k === key) return row ? row[i] : "—";
    return "—";
  }
  function gradeOn() { return !!(gradeBox && gradeBox.checked); }

  // ---- view: pan and zoom by the viewBox; labels keep their screen size and hide when the county is too small
  function pixelsPerUnit() {
    var box = svg.getBoundingClientRect();
    return Math.min(box.width / view[2], box.height / view[3]) || 1;
  }
  function applyView() {
    svg.setAttribute("viewBox", view.join(" "));
    var ppu = pixelsPerUnit();
    var size = 13 / ppu;
    labels.forEach(function (t) {
      t.setAttribute("font-size", size.toFixed(2));
      t.setAttribute("stroke-width", (3 / ppu).toFixed(2));
      var wide = Number(t.getAttribute("data-w")) * ppu > t.textContent.length * 13 + 6;
      t.setAttribute("visibility", wide ? "visible" : "hidden");
    });
  }
  function zoom(factor, cx, cy) {
    if (!factor) { view = home.slice(); applyView(); return; }
    var w = Math.min(home[2] * 1.5, Math.max(home[2] / 40, view[2] / factor));
    var k = w / view[2];
    var h = view[3] * k;
    if (cx === undefined) { cx = view[0] + view[2] / 2; cy = view[1] + view[3] / 2; }
    view = [cx - (cx - view[0]) * k, cy - (cy - view[1]) * k, w, h];
    applyView();
  }
  function toUser(evt) {
    var p = svg.createSVGPoint();
    p.x = evt.clientX; p.y = evt.clientY;
    return p.matrixTransform(svg.getScreenCTM().inverse());
  }
  svg.addEventListener("wheel", function (evt) {
    evt.preventDefault();
    var p = toUser(evt);
    zoom(evt.deltaY < 0 ? 1.25 : 0.8, p.x, p.y);
  }, { passive: false });
  var drag = null;
  svg.addEventListener("pointerdown", function (evt) {
    drag = { x: evt.clientX, y: evt.clientY, view: view.slice(), moved: false, ppu: pixelsPerUnit() };
  });
  window.addEventListener("pointermove", function (evt) {
    if (!drag) return;
    var dx = evt.clientX - drag.x, dy = evt.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    if (!drag.moved) { drag.moved = true; svg.classList.add("dragging"); }
    view = [drag.view[0] - dx / drag.ppu, drag.view[1] - dy / drag.ppu, drag.view[2], drag.view[3]];
    applyView();
  });
  window.addEventListener("pointerup", function () {
    if (drag && drag.moved) { svg.classList.remove("dragging"); setTimeout(function () { drag = null; }, 0); }
    else drag = null;
  });
  root.querySelectorAll(".om-zoom button").forEach(function (b) {
    b.addEventListener("click", function () { zoom(Number(b.getAttribute("data-zoom"))); });
  });

  // ---- colours, grade layer and legend
  function paint() {
    var fill = theme().fill[state.year] || {};
    var grade = gradeOn();
    paths.forEach(function (p) {
      p.setAttribute("fill", fill[p.getAttribute("data-code")] || "#D9D9D9");
      p.setAttribute("fill-opacity", grade ? "0" : "1");
    });
    var shown = false;
    images.forEach(function (im) {
      var on = grade && im.getAttribute("data-year") === state.year;
      im.setAttribute("visibility", on ? "visible" : "hidden");
      shown = shown || on;
    });
    legend.textContent = "";
    var items = grade ? data.grades : theme().legend;
    legend.appendChild(el("b", {}, grade ? data.text.gradeLegend : theme().label));
    items.forEach(function (item) {
      var span = el("span");
      var swatch = el("i");
      swatch.style.background = item[0];
      span.appendChild(swatch);
      span.appendChild(document.createTextNode(item[1]));
      legend.appendChild(span);
    });
    if (grade && !shown) legend.appendChild(el("em", {}, data.text.noGrade));
  }

  // ---- the panel of the selected county (or the region)
  function chart(code) {
    var values = data.series[code] || [];
    var targets = data.targets[code] || {};
    var all = values.filter(function (v) { return v !== null; });
    Object.keys(targets).forEach(function (y) { all.push(targets[y]); });
    if (!all.length) return null;
    var lo = Math.floor(Math.min.apply(null, all) / 5) * 5, hi = Math.ceil(Math.max.apply(null, all) / 5) * 5;
    if (hi === lo) hi = lo + 5;
    var W = 300, H = 130, L = 34, R = 58, T = 10, B = 22, n = data.years.length;
    var ns = "http://www.w3.org/2000/svg";
    var c = document.createElementNS(ns, "svg");
    c.setAttribute("viewBox", "0 0 " + W + " " + H);
    c.setAttribute("class", "om-chart");
    function X(i) { return L + (n > 1 ? (i * (W - L - R)) / (n - 1) : (W - L - R) / 2); }
    function Y(v) { return T + ((hi - v) * (H - T - B)) / (hi - lo); }
    function add(tag, attrs, text) {
      var node = document.createElementNS(ns, tag);
      for (var k in attrs) node.setAttribute(k, attrs[k]);
      if (text !== undefined) node.textContent = text;
      c.appendChild(node);
      return node;
    }
    [lo, hi].forEach(function (v) {
      add("text", { x: L - 4, y: Y(v) + 4, "font-size": 10, "text-anchor": "end" }, String(v));
    });
    data.years.forEach(function (y, i) {
      add("text", { x: X(i), y: H - 6, "font-size": 10, "text-anchor": "middle",
        "font-weight": y === state.year ? "bold" : "normal" }, y);
    });
    Object.keys(targets).forEach(function (y) {
      add("line", { x1: L, x2: W - R, y1: Y(targets[y]), y2: Y(targets[y]), stroke: "#c62828", "stroke-dasharray": "4 3" });
      add("text", { x: W - R + 3, y: Y(targets[y]) + 4, "font-size": 10, fill: "#c62828" }, y + " " + data.text.target);
    });
    var pts = [];
    values.forEach(function (v, i) { if (v !== null) pts.push(X(i).toFixed(1) + "," + Y(v).toFixed(1)); });
    add("polyline", { points: pts.join(" "), fill: "none", stroke: "#2f6f3e", "stroke-width": 2 });
    values.forEach(function (v, i) {
      if (v !== null) add("circle", { cx: X(i), cy: Y(v), r: data.years[i] === state.year ? 4 : 2.5, fill: "#2f6f3e" });
    });
    return c;
  }
  function table(rows) {
    var t = el("table");
    rows.forEach(function (r) {
      var tr = el("tr", r[2] ? { "data-field": r[2] } : {});
      tr.appendChild(el("th", {}, r[0]));
      tr.appendChild(el("td", {}, r[1]));
      t.appendChild(tr);
    });
    return t;
  }
  function showInfo() {
    var code = state.code;
    info.textContent = "";
    info.setAttribute("data-code", code);
    info.setAttribute("data-year", state.year);
    info.appendChild(el("h3", {}, (data.names[code] || code) + " · " + state.year));
    var row = (data.rows[state.year] || {})[code] || [];
    data.groups.forEach(function (title, g) {
      var rows = [];
      data.fields.forEach(function (f, i) { if (f.g === g) rows.push([f.l, row[i] === undefined ? "—" : row[i], f.k]); });
      info.appendChild(el("h4", {}, title));
      info.appendChild(table(rows));
    });
    var c = chart(code);
    if (c) { info.appendChild(el("h4", {}, data.text.series)); info.appendChild(c); }
    if (data.trend && data.trend.rows[code]) {
      info.appendChild(el("h4", {}, data.trend.title));
      var tr = data.trend.rows[code];
      info.appendChild(table(data.trend.fields.map(function (l, i) { return [l, tr[i]]; })));
    }
    paths.forEach(function (p) {
      var on = p.getAttribute("data-code") === code;
      p.classList.toggle("sel", on);
      if (on) p.parentNode.appendChild(p); // drawn last, so its outline is not covered
    });
    countySel.value = code;
  }
  function select(code) { state.code = code; showInfo(); }

  // ---- events
  paths.forEach(function (p) {
    var code = p.getAttribute("data-code");
    p.addEventListener("click", function () { if (!(drag && drag.moved)) select(code); });
    p.addEventListener("keydown", function (evt) { if (evt.key === "Enter" || evt.key === " ") select(code); });
    p.addEventListener("mousemove", function (evt) {
      var box = root.querySelector(".om-mapbox").getBoundingClientRect();
      tip.hidden = false;
      tip.textContent = (data.names[code] || code) + "  " + value(code, "rate_pct") + "%";
      tip.style.left = evt.clientX - box.left + 14 + "px";
      tip.style.top = evt.clientY - box.top + 10 + "px";
    });
    p.addEventListener("mouseleave", function () { tip.hidden = true; });
  });
  yearSel.addEventListener("change", function () { state.year = yearSel.value; paint(); showInfo(); });
  themeSel.addEventListener("change", function () { state.theme = themeSel.value; paint(); });
  countySel.addEventListener("change", function () { select(countySel.value); });
  if (gradeBox) gradeBox.addEventListener("change", paint);
  window.addEventListener("resize", applyView);

  paint();
  showInfo();
  applyView();
  root.setAttribute("data-ready", "1");
})();
