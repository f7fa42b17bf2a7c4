/* tipwatch Progress Report: the charts of index.html, drawn interactively with vega-embed.

   Each <figure class="chart"> holds its static SVG (what prints, what screen readers read, and
   what shows without JavaScript) and its Vega-Lite spec as JSON. This script mounts the specs
   one after the other into each figure's live container; a figure whose chart is drawn gets
   data-chart="live", and the stylesheet then hides its static SVG on screen only. A chart that
   fails keeps its static SVG (data-chart="failed"). The <html> element counts them
   (data-charts, data-charts-live, data-charts-failed, and data-charts-done once all are
   mounted), so that a reader's browser console or a test can tell what happened. */
(function () {
  "use strict";
  var root = document.documentElement;
  var figures = Array.prototype.filter.call(
    document.querySelectorAll("figure.chart"),
    function (figure) { return figure.querySelector("script.chart-spec") !== null; }
  );
  var live = 0;
  var failed = 0;
  root.setAttribute("data-charts", String(figures.length));

  function count() {
    root.setAttribute("data-charts-live", String(live));
    root.setAttribute("data-charts-failed", String(failed));
  }

  function mount(figure) {
    var target = figure.querySelector(".chart-live");
    var spec = JSON.parse(figure.querySelector("script.chart-spec").textContent);
    // SVG rather than canvas: the browser hit-tests it, so tooltips stay right when the page
    // scales the chart down to a narrow screen. No actions menu: it links to an online editor.
    return vegaEmbed(target, spec, { renderer: "svg", actions: false, tooltip: { theme: "light" } })
      .then(function () {
        figure.setAttribute("data-chart", "live");
        live += 1;
      });
  }

  function next(index) {
    if (index >= figures.length) {
      count();
      root.setAttribute("data-charts-done", "true");
      return;
    }
    var figure = figures[index];
    var step;
    try {
      step = mount(figure);
    } catch (error) {
      step = Promise.reject(error);
    }
    step.catch(function (error) {
      figure.setAttribute("data-chart", "failed");
      failed += 1;
      if (window.console) { window.console.error("tipwatch: chart " + figure.id + " not drawn:", error); }
    }).then(function () {
      count();
      // One chart per task, so the page stays responsive while a long report draws.
      window.setTimeout(function () { next(index + 1); }, 0);
    });
  }

  if (typeof window.vegaEmbed !== "function") {
    failed = figures.length;
    count();
    root.setAttribute("data-charts-done", "true");
    return;
  }
  next(0);
})();
