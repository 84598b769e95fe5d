// The "Clone a voice" and "Your voices" cards: record or upload a reference, create the clone,
// list clones with a test sample each, delete them.

import { ConsentStep } from "./consent.js";
import { floatToWav } from "./pcm.js";
import { extensionFor, Recorder, recordingSupported } from "./recorder.js";
import { hideQuality, showQuality } from "./quality.js";
import { $, announce, describeError, formatBytes, formatDate, h } from "./ui.js";
import { decodeToMono, drawWaveform, peakDbfs } from "./waveform.js";

const MAX_SECONDS = 10;
const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
const SAMPLE_TEXT = "Hello! This is a short test of my cloned voice.";

export class ClonePanel {
  /**
   * @param {import("./api.js").Api} api
   * @param {{onCreated: (clone: object) => Promise<void>, onDeleted: (id: string) => void,
   *          onUse: (id: string) => void, onCharged: () => void}} hooks
   */
  constructor(api, hooks) {
    this.api = api;
    this.hooks = hooks;
    this.reference = null; // {blob, filename}
    this.recorder = null;
    this.samples = null;
    this.sampleUrls = new Map(); // voice_id -> object URL of its test sample (generated once)
    this.recStart = $("rec-start");
    this.recStop = $("rec-stop");
    this.fileInput = $("ref-file");
    this.name = $("clone-name");
    this.create = $("clone-go");
    this.consent = new ConsentStep(api);
    this.recStart.addEventListener("click", () => this.record());
    this.recStop.addEventListener("click", () => this.recorder && this.recorder.stop());
    this.fileInput.addEventListener("change", () => this.pickFile());
    $("clone-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.createClone();
    });
    $("clones-refresh").addEventListener("click", () => this.refresh());
    if (!recordingSupported()) {
      this.recStart.disabled = true;
      this.recStop.hidden = true;
      $("rec-countdown").textContent = "Recording needs an https (or localhost) page; upload a file instead.";
      $("rec-countdown").classList.add("hint");
    }
    new ResizeObserver(() => this.samples && drawWaveform($("waveform"), this.samples)).observe($("waveform"));
    if (recordingSupported()) this.showCountdown(0);
  }

  showCountdown(elapsed) {
    const left = Math.max(0, MAX_SECONDS - elapsed);
    $("rec-countdown").textContent = `${left.toFixed(1)} s`;
    $("rec-progress").value = elapsed;
  }

  async record() {
    if (this.recorder) return;
    this.recorder = new Recorder({
      maxSeconds: MAX_SECONDS,
      onLevel: (rms, peak) => {
        // A perceptual-ish scale: −60 dBFS → 0, 0 dBFS → 1.
        const db = rms > 0 ? 20 * Math.log10(rms) : -60;
        const level = Math.min(1, Math.max(0, (db + 60) / 60));
        const meter = $("rec-level");
        meter.value = level;
        meter.textContent = `${Math.round(level * 100)} %`;
        meter.dataset.peak = peak.toFixed(3);
      },
      onTick: (t) => this.showCountdown(t),
    });
    this.fileInput.value = "";
    this.recStart.setAttribute("aria-pressed", "true");
    this.recStart.disabled = true;
    this.recStop.disabled = false;
    this.fileInput.disabled = true;
    document.body.dataset.recState = "recording";
    announce(`Recording… speak naturally. It stops by itself after ${MAX_SECONDS} seconds.`);
    try {
      const { blob, seconds, mimeType } = await this.recorder.start();
      document.body.dataset.recState = "recorded";
      await this.setReference(blob, `recording.${extensionFor(mimeType)}`, "Recording", seconds);
    } catch (e) {
      document.body.dataset.recState = "error";
      announce(describeError(e), { error: true });
    } finally {
      this.recorder = null;
      this.recStart.setAttribute("aria-pressed", "false");
      this.recStart.disabled = false;
      this.recStop.disabled = true;
      this.fileInput.disabled = false;
      // The focused Stop button is now disabled: move focus to the next useful control.
      if (document.activeElement === this.recStop || document.activeElement === document.body) {
        (this.reference ? this.create : this.recStart).focus();
      }
    }
  }

  async pickFile() {
    const file = this.fileInput.files && this.fileInput.files[0];
    if (!file) return;
    if (file.size > MAX_UPLOAD_BYTES) {
      announce(`That file is ${formatBytes(file.size)}; the limit is 10 MB. Trim it to 5–10 s of speech.`, { error: true });
      return;
    }
    if (!this.name.value.trim()) this.name.value = file.name.replace(/\.[^.]+$/, "").slice(0, 200);
    await this.setReference(file, file.name, `${file.name} · ${formatBytes(file.size)}`);
  }

  /**
   * Make `blob` the reference to clone: preview it (player, waveform, duration, peak).
   * @param {Blob} blob the audio
   * @param {string} filename name sent with the upload (its extension hints the format)
   * @param {string} label what to call it in the page
   * @param {number} [seconds] duration, when known without decoding (recordings)
   */
  async setReference(blob, filename, label, seconds) {
    this.reference = { blob, filename };
    $("clone-error").textContent = "";
    hideQuality();
    const audio = $("ref-audio");
    const play = (b) => {
      if (audio.src.startsWith("blob:")) URL.revokeObjectURL(audio.src);
      audio.src = URL.createObjectURL(b);
    };
    play(blob);
    $("ref-preview").hidden = false;
    if (!this.name.value.trim()) this.name.value = `My voice ${new Date().toLocaleTimeString()}`;
    this.create.disabled = false;
    let info = seconds ? `${label} · ${seconds.toFixed(1)} s` : label;
    try {
      const { samples, sampleRate, duration } = await decodeToMono(blob);
      // A MediaRecorder file has no duration in its header (its player would show 0:00 and no
      // progress): the player plays the decoded samples as a WAV instead. The upload is unchanged.
      if (seconds) play(floatToWav(samples, sampleRate));
      this.samples = samples;
      drawWaveform($("waveform"), samples);
      const peak = peakDbfs(samples);
      const level = Number.isFinite(peak) ? Math.min(0, peak).toFixed(1).replace("-0.0", "0.0") : "−∞";
      const loud = peak > -0.5 ? " (at full scale: lower the input gain)" : "";
      info = `${label} · ${duration.toFixed(1)} s · peak ${level} dBFS${loud}`;
      $("waveform").setAttribute("aria-label", `Waveform of the reference audio, ${duration.toFixed(1)} seconds`);
      $("waveform").dataset.drawn = "true";
    } catch {
      this.samples = null;
      info = `${label} · the browser cannot preview this format; the server will still check it`;
    }
    $("ref-info").textContent = info;
    announce(`${info}. Name it and press Create clone.`);
  }

  async createClone() {
    if (!this.reference) {
      announce("Record or upload a reference first.", { error: true });
      return;
    }
    const name = this.name.value.trim();
    if (!name) {
      announce("Give the clone a name.", { error: true });
      this.name.focus();
      return;
    }
    $("clone-error").textContent = "";
    document.body.dataset.cloneState = "creating";
    this.create.disabled = true;
    this.create.setAttribute("aria-busy", "true");
    announce("Creating the clone… checking the reference.");
    try {
      const clone = await this.api.createClone(
        this.reference.blob, name, this.reference.filename, this.consent.fields());
      this.consent.reset();
      showQuality(clone);
      $("quality-title").textContent = `Quality report: ${clone.name || name}`;
      await Promise.all([this.hooks.onCreated(clone), this.refresh()]);
      $("quality").focus();
      announce(`Clone “${clone.name || name}” created and selected in Speak.`);
      document.body.dataset.cloneState = "created";
      if (clone.similarity_status === "pending") this.awaitSimilarity(clone);
    } catch (e) {
      document.body.dataset.cloneState = "error";
      $("clone-error").textContent = describeError(e);
      announce(describeError(e), { error: true });
    } finally {
      this.create.disabled = false;
      this.create.removeAttribute("aria-busy");
      this.hooks.onCharged();
    }
  }

  /**
   * Poll a new clone until its background self-check is done (about a second per poll, at most a
   * minute), then show the score in the report if that clone's report is still open.
   */
  async awaitSimilarity(clone) {
    this.watching = clone.voice_id;
    for (let i = 0; i < 60 && this.watching === clone.voice_id; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      let now;
      try {
        now = await this.api.clone(clone.voice_id);
      } catch {
        return; // deleted meanwhile, or the server is away: the report keeps "measuring…"
      }
      if (now.similarity_status === "pending") continue;
      if (this.watching === clone.voice_id && !$("quality").hidden) {
        showQuality(now);
        $("quality-title").textContent = `Quality report: ${now.name || clone.name}`;
        if (typeof now.similarity === "number") announce(`Self-similarity of ${now.name}: ${now.similarity.toFixed(2)}.`);
      }
      return;
    }
  }

  async refresh() {
    try {
      const clones = await this.api.clones();
      this.render(clones);
    } catch (e) {
      announce(describeError(e), { error: true });
    }
  }

  render(clones) {
    const list = $("clone-list");
    list.replaceChildren();
    $("clones-empty").hidden = clones.length > 0;
    for (const c of clones) {
      const score = c.quality && typeof c.quality.score === "number" ? ` · quality ${Math.round(c.quality.score)}` : "";
      const duration = typeof c.duration_s === "number" ? ` · ${c.duration_s.toFixed(1)} s of speech used` : "";
      list.append(h("li", { "data-voice-id": c.voice_id },
        h("span", { class: "meta" },
          h("span", { class: "name", text: c.name }),
          h("span", { class: "sub", text: `${formatDate(c.created_at)}${duration}${score}` })),
        h("span", { class: "buttons" },
          // Each accessible name starts with the button's visible text (WCAG 2.5.3 label in name),
          // so "click Play sample" works for speech-input users.
          h("button", { type: "button", class: "btn btn-small", "aria-label": `Play sample of ${c.name}`,
            onclick: (e) => this.playSample(c, e.currentTarget) }, "Play sample"),
          h("button", { type: "button", class: "btn btn-small", "aria-label": `Report on the quality of ${c.name}`,
            onclick: () => this.showReport(c) }, "Report"),
          h("button", { type: "button", class: "btn btn-small", "aria-label": `Use ${c.name} in Speak`,
            onclick: () => this.hooks.onUse(c.voice_id) }, "Use"),
          h("button", { type: "button", class: "btn btn-small btn-danger", "aria-label": `Delete ${c.name}`,
            onclick: () => this.remove(c) }, "Delete"))));
    }
  }

  showReport(clone) {
    this.watching = null;
    showQuality(clone);
    $("quality-title").textContent = `Quality report: ${clone.name}`;
    $("quality").focus();
    $("quality").scrollIntoView({ block: "nearest" });
  }

  async playSample(clone, button) {
    const audio = $("sample-audio");
    button.disabled = true;
    try {
      let url = this.sampleUrls.get(clone.voice_id);
      if (!url) {
        announce(`Generating a test sample of ${clone.name}…`);
        const blob = await this.api.speech({ text: SAMPLE_TEXT, voice_id: clone.voice_id, response_format: "wav" });
        url = URL.createObjectURL(blob);
        this.sampleUrls.set(clone.voice_id, url);
        this.hooks.onCharged();
      }
      audio.src = url;
      await audio.play();
      announce(`Playing a test sample of ${clone.name}.`);
      button.dataset.played = "true";
    } catch (e) {
      announce(describeError(e), { error: true });
    } finally {
      button.disabled = false;
    }
  }

  async remove(clone) {
    if (!window.confirm(`Delete the clone “${clone.name}”? Its profile and reference audio are removed.`)) return;
    try {
      await this.api.deleteClone(clone.voice_id);
      const url = this.sampleUrls.get(clone.voice_id);
      if (url) URL.revokeObjectURL(url);
      this.sampleUrls.delete(clone.voice_id);
      announce(`Deleted “${clone.name}”.`);
      this.hooks.onDeleted(clone.voice_id);
      await this.refresh();
      $("clones-refresh").focus();
    } catch (e) {
      announce(describeError(e), { error: true });
    }
  }
}
