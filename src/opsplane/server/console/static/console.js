/* opsplane console: draws the burn-down chart of an SLO page with uPlot.
 *
 * The page embeds the chart's data as JSON (<script type="application/json">): epoch seconds
 * in `x`, percentages in `budget` (null where there was no data) and `ideal`, and the
 * deployments to mark. No inline script runs: the Content-Security-Policy forbids it.
 */
"use strict";

(function () {
  const HEIGHT = 280;

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function percent(_u, value) {
    return value == null ? "—" : value.toFixed(1) + "%";
  }

  /* Dashed vertical lines with the version at each deployment, and a line at 0 % (budget
   * spent). The element records how many markers it drew, for tests and curious people. */
  function annotations(el, deployments) {
    return {
      hooks: {
        draw: [
          function (u) {
            const ctx = u.ctx;
            const px = uPlot.pxRatio;
            const { left, top, width, height } = u.bbox;
            ctx.save();
            ctx.lineWidth = 1.5 * px;
            ctx.setLineDash([]);
            const zero = Math.round(u.valToPos(0, "y", true));
            if (zero >= top && zero <= top + height) {
              ctx.strokeStyle = cssVar("--chart-zero");
              ctx.beginPath();
              ctx.moveTo(left, zero);
              ctx.lineTo(left + width, zero);
              ctx.stroke();
            }
            ctx.strokeStyle = ctx.fillStyle = cssVar("--chart-deploy");
            ctx.setLineDash([5 * px, 4 * px]);
            ctx.font = `600 ${11 * px}px system-ui, sans-serif`;
            ctx.textBaseline = "top";
            let drawn = 0;
            deployments.forEach(function (d, i) {
              const x = Math.round(u.valToPos(d.x, "x", true));
              if (x < left || x > left + width) return;
              ctx.beginPath();
              ctx.moveTo(x, top);
              ctx.lineTo(x, top + height);
              ctx.stroke();
              // Stagger the labels so that close deployments stay readable.
              const label = d.label.length > 24 ? d.label.slice(0, 23) + "…" : d.label;
              const right = x + 4 * px + ctx.measureText(label).width > left + width;
              ctx.textAlign = right ? "right" : "left";
              ctx.fillText(label, x + (right ? -4 : 4) * px, top + (4 + 14 * (i % 3)) * px);
              drawn += 1;
            });
            ctx.restore();
            el.dataset.markers = String(drawn);
          },
        ],
      },
    };
  }

  function burnDown(el) {
    const source = document.getElementById(el.dataset.source);
    if (!source || typeof uPlot === "undefined") return;
    const data = JSON.parse(source.textContent);
    const axis = { stroke: cssVar("--chart-axis"), grid: { stroke: cssVar("--chart-grid"), width: 1 }, ticks: { show: false } };
    const options = {
      width: el.clientWidth,
      height: HEIGHT,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      cursor: { drag: { x: false, y: false } },
      scales: {
        y: { range: (_u, min, max) => [Math.min(0, Math.floor(min / 10) * 10), Math.max(100, max)] },
      },
      axes: [axis, Object.assign({}, axis, { values: (_u, ticks) => ticks.map((t) => t + "%"), size: 56 })],
      series: [
        { value: "{YYYY}-{MM}-{DD} {HH}:{mm} UTC" },
        {
          label: "Budget left",
          stroke: cssVar("--chart-budget"),
          fill: cssVar("--chart-budget-fill"),
          width: 2,
          spanGaps: false,
          value: percent,
        },
        { label: "Ideal burn", stroke: cssVar("--chart-ideal"), dash: [6, 4], width: 1.5, value: percent },
      ],
      plugins: [annotations(el, data.deployments)],
    };
    const plot = new uPlot(options, [data.x, data.budget, data.ideal], el);
    new ResizeObserver(function () {
      if (el.clientWidth !== plot.width) plot.setSize({ width: el.clientWidth, height: HEIGHT });
    }).observe(el);
    el.dataset.rendered = "true";
  }

  document.querySelectorAll('[data-chart="burn-down"]').forEach(burnDown);
})();
