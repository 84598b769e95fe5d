// Render the quality report the server returns with a new clone.

import { $, h } from "./ui.js";

// Known metrics, in display order: [key, label, formatter]. Unknown numeric keys are shown too.
const METRICS = [
  ["duration_s", "Recording", (v) => `${v.toFixed(1)} s`],
  ["speech_duration_s", "Speech", (v) => `${v.toFixed(1)} s`],
  ["speech_ratio", "Speech ratio", (v) => `${Math.round(v * 100)} %`],
  ["peak_dbfs", "Peak", (v) => `${v.toFixed(1)} dBFS`],
  ["loudness_lufs", "Loudness", (v) => `${v.toFixed(1)} LUFS`],
  ["snr_db", "Est. SNR", (v) => `${v.toFixed(0)} dB`],
  ["clipping_ratio", "Clipping", (v) => `${(v * 100).toFixed(2)} %`],
  ["sample_rate", "Sample rate", (v) => `${(v / 1000).toFixed(1)} kHz`],
  ["bandwidth_hz", "Bandwidth", (v) => `${(v / 1000).toFixed(1)} kHz`],
  ["reverb_rt60_s", "Reverb (RT60)", (v) => `${v.toFixed(2)} s`],
  ["longest_pause_s", "Longest pause", (v) => `${v.toFixed(1)} s`],
  ["music_score", "Music / noise", (v) => `${Math.round(v * 100)} %`],
];
const SKIP = new Set(["score", "warnings", "notes"]);

function prettyKey(key) {
  const s = key.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function verdict(score) {
  if (score >= 80) return ["good", "Good reference"];
  if (score >= 55) return ["fair", "Usable; see the tips below"];
  return ["poor", "Poor reference; re-record if you can"];
}

/**
 * Show a clone's quality report.
 * @param {object} clone the server's clone object (with `quality`, and maybe `notes`, `similarity`)
 */
export function showQuality(clone) {
  const q = (clone && clone.quality) || {};
  const box = $("quality");
  const scoreEl = $("quality-score");
  const score = typeof q.score === "number" ? q.score : null;
  scoreEl.className = "score";
  if (score === null) {
    scoreEl.textContent = "–";
    $("quality-verdict").textContent = "No score returned";
  } else {
    const [cls, text] = verdict(score);
    scoreEl.textContent = `${Math.round(score)}`;
    scoreEl.classList.add(cls);
    scoreEl.setAttribute("aria-label", `Score ${Math.round(score)} out of 100`);
    $("quality-verdict").textContent = `/ 100 · ${text}`;
  }

  const metrics = $("quality-metrics");
  metrics.replaceChildren();
  const shown = new Set();
  const addMetric = (label, value) => metrics.append(h("div", {}, h("dt", { text: label }), h("dd", { text: value })));
  for (const [key, label, fmt] of METRICS) {
    if (typeof q[key] === "number" && Number.isFinite(q[key])) {
      addMetric(label, fmt(q[key]));
      shown.add(key);
    }
  }
  for (const [key, value] of Object.entries(q)) {
    if (shown.has(key) || SKIP.has(key)) continue;
    if (typeof value === "number" && Number.isFinite(value)) addMetric(prettyKey(key), `${+value.toFixed(3)}`);
  }
  if (typeof clone.similarity === "number") addMetric("Self-similarity", clone.similarity.toFixed(2));
  else if (clone.similarity_status === "pending") addMetric("Self-similarity", "measuring…");
  else if (clone.similarity_status === "failed") addMetric("Self-similarity", "could not be measured");
  box.dataset.similarityStatus = clone.similarity_status || "";

  const warnings = $("quality-warnings");
  warnings.replaceChildren();
  for (const w of Array.isArray(q.warnings) ? q.warnings : []) {
    warnings.append(h("li", { "data-code": w.code || "" },
      h("strong", { text: w.message || w.code || "Warning" }),
      w.fix ? h("span", { class: "fix", text: w.fix }) : null));
  }
  if (!warnings.children.length) warnings.append(h("li", { class: "ok", text: "No problems found." }));

  const notes = $("quality-notes");
  notes.replaceChildren();
  const allNotes = [...(Array.isArray(clone.notes) ? clone.notes : []), ...(Array.isArray(q.notes) ? q.notes : [])];
  for (const n of allNotes) notes.append(h("li", { text: String(n) }));

  box.hidden = false;
}

export function hideQuality() {
  $("quality").hidden = true;
}
