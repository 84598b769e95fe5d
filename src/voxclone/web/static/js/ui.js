// Small DOM helpers shared by the playground's modules.

/** `document.getElementById` that fails loudly when the page and the script disagree. */
export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing element #${id}`);
  return el;
}

/** Create an element with attributes and children (strings become text nodes, never HTML). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Say something in the page's live status region (read out by screen readers). */
export function announce(message, { error = false } = {}) {
  const el = $("status");
  el.textContent = message;
  el.classList.toggle("error", error);
}

/**
 * `text` as a sentence: a capital first letter and a final full stop. The server's messages have
 * neither ("the API key is invalid or has been revoked"), and some are followed by advice.
 */
export function sentence(text) {
  const s = String(text ?? "").trim();
  if (!s) return "";
  const capital = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}

/** A user-facing message, in whole sentences, for any thrown value. */
export function describeError(err) {
  if (!err) return "Something went wrong.";
  if (err.name === "AbortError") return "Stopped.";
  if (err.name === "NotAllowedError") return "Microphone access was refused. Allow it in the browser, or upload a file.";
  if (err.name === "NotFoundError") return "No microphone found. Connect one, or upload a file.";
  const message = sentence(err.message || String(err)) || "Something went wrong.";
  if (err.status === 401) return `${message} Check the API key and sign in again.`;
  if (err.status === 402) return `${message} Ask an administrator to add credits.`;
  if (err.status === 429 || err.status === 503) return `${message} The server is busy; try again in a moment.`;
  if (err.status >= 500 && err.requestId) return `${message} Request id: ${err.requestId}.`;
  return message;
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

export function formatSeconds(s) {
  return `${Number(s).toFixed(2)} s`;
}

export function formatDate(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

/** Trigger a file download of `blob` under `filename`. */
export function setDownload(link, blob, filename) {
  if (link.href && link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  link.hidden = false;
}
