// A load plan's memory as one bar: weights, KV cache, reserve, free (with a text legend).
import { h } from "../dom.js";
import { formatBytes, memorySegments } from "../format.js";

export function memoryBar(plan) {
  const segments = memorySegments(plan?.memory);
  if (!segments.length) return h("p", { class: "hint" }, "No memory figures in this plan.");
  const summary = segments.map((s) => `${s.label} ${formatBytes(s.bytes)}`).join(", ");
  return h(
    "figure",
    { class: "memory" },
    h(
      "div",
      { class: "bar", role: "img", "aria-label": `GPU memory of ${formatBytes(plan.memory.totalBytes)}: ${summary}` },
      segments.map((s) =>
        h("span", {
          class: `seg seg-${s.key}`,
          style: null,
          "data-percent": s.percent.toFixed(1),
          title: `${s.label}: ${formatBytes(s.bytes)} (${s.percent.toFixed(1)} %)`,
        }),
      ),
    ),
    h(
      "figcaption",
      {},
      segments.map((s) =>
        h("span", { class: "legend" }, h("i", { class: `swatch seg-${s.key}` }), `${s.label} ${formatBytes(s.bytes)}`),
      ),
    ),
  );
}

/** Widths are set after creation (CSP forbids inline style attributes, not CSSOM). */
export function sizeBars(root) {
  for (const seg of root.querySelectorAll(".seg[data-percent]")) seg.style.width = `${seg.dataset.percent}%`;
}
