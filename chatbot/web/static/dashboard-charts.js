/* One chart of the dashboard: a Chart.js canvas described for screen readers, its figures as a table, and a CSV
 * download of the same rows. Only the pieces of Chart.js we use are registered, so esbuild leaves the rest out. */

import { BarController, BarElement, CategoryScale, Chart, Legend, LineController, LineElement, LinearScale,
  PointElement, Tooltip } from "chart.js";
import { el } from "./common.js";

Chart.register(BarController, BarElement, CategoryScale, Legend, LineController, LineElement, LinearScale,
  PointElement, Tooltip);

// Colours that keep at least 3:1 against white (WCAG 1.4.11) and differ in lightness, not only in hue.
var COLOURS = ["#0b5394", "#b3541e", "#2e7d32", "#6a1b9a", "#5f6b78"];

function reducedMotion() {
  return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

/** CSV text from a header and rows; every field is quoted, quotes doubled. */
export function csv(header, rows) {
  return [header].concat(rows).map(function (row) {
    return row.map(function (value) {
      return '"' + String(value === null || value === undefined ? "" : value).replace(/"/g, '""') + '"';
    }).join(",");
  }).join("\r\n") + "\r\n";
}

/** Offer text as a file the browser saves. */
export function download(name, type, text) {
  var url = URL.createObjectURL(new Blob([text], { type: type }));
  var link = el("a", { href: url, download: name, hidden: true });
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
}

/**
 * A card with a chart. spec: {id, title, kind: "bar"|"line", labels, series: [{label, values}], header, rows,
 * describe: a sentence of what the chart shows, unit: axis title, horizontal}.
 * Returns {node, draw, destroy}: draw once the node is in the page (Chart.js measures its box).
 */
export function chartCard(spec, fileName) {
  var titleId = "title-" + spec.id;
  var canvas = el("canvas", { role: "img", "aria-label": spec.title + ". " + spec.describe });
  var table = el("table", {}, [
    el("caption", { class: "sr-only", text: spec.title }),
    el("thead", {}, [el("tr", {}, spec.header.map(function (h, i) {
      return el("th", { scope: "col", class: i ? "number" : null, text: h });
    }))]),
    el("tbody", {}, spec.rows.map(function (row) {
      return el("tr", {}, row.map(function (value, i) {
        return el(i ? "td" : "th", { scope: i ? null : "row", class: i ? "number" : null,
          text: value === null ? "–" : String(value) });
      }));
    }))
  ]);
  var node = el("section", { class: "card", "aria-labelledby": titleId, "data-chart": spec.id }, [
    el("figure", {}, [
      el("figcaption", {}, [el("h2", { id: titleId, text: spec.title })]),
      el("div", { class: "chart" }, [canvas]),
      el("div", { class: "chart-tools" }, [
        el("details", {}, [el("summary", { text: "Show the figures" }), el("div", { class: "scroll" }, [table])]),
        el("button", { type: "button", text: "Download CSV", "aria-label": "Download CSV: " + spec.title,
          onclick: function () { download(fileName, "text/csv;charset=utf-8", csv(spec.header, spec.rows)); } })
      ])
    ])
  ]);
  var config = {
    type: spec.kind,
    data: {
      labels: spec.labels,
      datasets: spec.series.map(function (s, i) {
        return { label: s.label, data: s.values, backgroundColor: COLOURS[i % COLOURS.length],
          borderColor: COLOURS[i % COLOURS.length], spanGaps: true, pointRadius: 2 };
      })
    },
    options: {
      animation: reducedMotion() ? false : { duration: 250 },
      maintainAspectRatio: false,
      indexAxis: spec.horizontal ? "y" : "x",
      plugins: { legend: { display: spec.series.length > 1 } },
      scales: spec.horizontal
        ? { x: { beginAtZero: true, title: { display: !!spec.unit, text: spec.unit } } }
        : { y: { beginAtZero: true, title: { display: !!spec.unit, text: spec.unit } } }
    }
  };
  var chart = null;
  return {
    node: node,
    draw: function () { chart = new Chart(canvas, config); },
    destroy: function () { if (chart) chart.destroy(); }
  };
}
