// The "Speak" card: stream synthesis, play it as it arrives, offer the result for download.

import { PcmStreamPlayer, PCM_SAMPLE_RATE } from "./pcm.js";
import { $, announce, describeError, formatBytes, formatSeconds, setDownload } from "./ui.js";

const EXTENSIONS = { wav: "wav", mp3: "mp3", opus: "opus", flac: "flac", aac: "aac", pcm: "pcm" };

export class SpeakPanel {
  /**
   * @param {import("./api.js").Api} api
   * @param {{onCharged: () => void}} hooks called after each generation (to refresh the balance)
   */
  constructor(api, hooks) {
    this.api = api;
    this.hooks = hooks;
    this.ctx = null;
    this.abort = null;
    this.player = null;
    this.stopped = false; // set by Stop; the current generation then ends as "stopped"
    this.form = $("tts-form");
    this.text = $("tts-text");
    this.voice = $("tts-voice");
    this.speed = $("tts-speed");
    this.format = $("tts-format");
    this.language = $("tts-language");
    this.go = $("tts-go");
    this.stopBtn = $("tts-stop");
    this.download = $("tts-download");
    this.audio = $("tts-audio");
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.generate();
    });
    this.stopBtn.addEventListener("click", () => this.stop());
    this.speed.addEventListener("input", () => this.showSpeed());
    this.text.addEventListener("input", () => this.showCount());
    this.text.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        if (!this.go.disabled) this.form.requestSubmit();
      }
    });
    this.showSpeed();
    this.showCount();
  }

  showSpeed() {
    $("speed-out").textContent = `${Number(this.speed.value).toFixed(2)}×`;
  }

  showCount() {
    $("text-count").textContent = `${this.text.value.length} / ${this.text.maxLength}`;
  }

  /** Fill the voice menu: built-in voices and clones in separate groups. */
  setVoices(voices, selectId) {
    const previous = selectId || this.voice.value;
    this.voice.replaceChildren();
    const groups = [["clone", "Your clones"], ["builtin", "Built-in voices"]];
    for (const [type, label] of groups) {
      const items = voices.filter((v) => (v.type || "builtin") === type);
      if (!items.length) continue;
      const group = document.createElement("optgroup");
      group.label = label;
      for (const v of items) {
        const opt = new Option(v.language ? `${v.name} (${v.language})` : v.name, v.voice_id);
        opt.dataset.language = v.language || "";
        group.append(opt);
      }
      this.voice.append(group);
    }
    if (previous && [...this.voice.options].some((o) => o.value === previous)) this.voice.value = previous;
  }

  /** Replace the language menu with these codes (names for the known ones). */
  setLanguages(codes) {
    const current = this.language.value;
    const names = new Map([...this.language.options].map((o) => [o.value, o.textContent]));
    this.language.replaceChildren(new Option("Detect from text", ""));
    for (const code of codes) this.language.append(new Option(names.get(code) || code, code));
    if ([...this.language.options].some((o) => o.value === current)) this.language.value = current;
  }

  selectVoice(voiceId) {
    this.voice.value = voiceId;
    this.text.focus();
  }

  setBusy(busy) {
    this.go.disabled = busy;
    this.stopBtn.disabled = !busy;
    this.form.setAttribute("aria-busy", String(busy));
  }

  resetStats() {
    for (const id of ["ttfa", "ttfb", "bytes-received", "audio-seconds", "played-seconds"]) $(id).textContent = "–";
    $("tts-note").textContent = "";
    this.download.hidden = true;
    this.audio.hidden = true;
    this.audio.removeAttribute("src");
    document.body.dataset.ttsState = "idle";
  }

  stop() {
    this.stopped = true;
    if (this.abort) this.abort.abort();
    if (this.player) this.player.stop();
    this.audio.pause();
  }

  body() {
    const body = {
      text: this.text.value.trim(),
      voice_id: this.voice.value,
      speed: Number(this.speed.value),
    };
    if (this.language.value) body.language = this.language.value;
    return body;
  }

  async generate() {
    const body = this.body();
    if (!body.text) {
      announce("Type some text to speak.", { error: true });
      this.text.focus();
      return;
    }
    if (!body.voice_id) {
      announce("Choose a voice first.", { error: true });
      this.voice.focus();
      return;
    }
    // The AudioContext must be created or resumed inside the click, or autoplay rules block it.
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!this.ctx && AC) this.ctx = new AC();
    if (this.ctx && this.ctx.state === "suspended") this.ctx.resume();
    this.stop();
    this.stopped = false;
    this.resetStats();
    this.setBusy(true);
    this.abort = new AbortController();
    const format = this.format.value;
    document.body.dataset.ttsState = "requesting";
    announce("Generating…");
    const t0 = performance.now();
    try {
      if (this.ctx && (format === "wav" || format === "pcm")) {
        await this.streamPcm(body, format, t0);
      } else {
        // No WebAudio: let the <audio> element play it (raw PCM cannot be played there).
        await this.streamEncoded(body, format === "pcm" ? "wav" : format, t0);
      }
      document.body.dataset.ttsState = this.stopped ? "stopped" : "done";
      announce(this.stopped ? "Stopped. What was received can be downloaded." : "Done. Audio ready to download.");
    } catch (e) {
      document.body.dataset.ttsState = e.name === "AbortError" ? "stopped" : "error";
      announce(describeError(e), { error: e.name !== "AbortError" });
    } finally {
      this.setBusy(false);
      this.abort = null;
      this.hooks.onCharged();
    }
  }

  /** pcm over the wire, scheduled on WebAudio chunk by chunk; the download is built locally. */
  async streamPcm(body, format, t0) {
    const res = await this.api.stream({ ...body, response_format: "pcm" }, { signal: this.abort.signal });
    const player = new PcmStreamPlayer(this.ctx, {
      sampleRate: PCM_SAMPLE_RATE,
      startedAt: t0,
      onFirstAudio: (ms) => {
        $("ttfa").textContent = `${Math.round(ms)} ms`;
        document.body.dataset.ttsState = "playing";
        announce("Playing…");
      },
      onProgress: (s) => {
        $("played-seconds").textContent = formatSeconds(s);
      },
    });
    this.player = player;
    await readBody(res, t0, (value) => {
      player.push(value);
      $("audio-seconds").textContent = formatSeconds(player.seconds);
    });
    if (!player.totalSamples) throw new Error("The server returned no audio.");
    const stamp = fileStamp();
    if (format === "pcm") setDownload(this.download, player.raw(), `voxclone-${stamp}.pcm`);
    else setDownload(this.download, player.wav(), `voxclone-${stamp}.wav`);
    this.download.textContent = `Download ${format.toUpperCase()}`;
    announce("Playing… the download is ready.");
    await player.finished();
    $("played-seconds").dataset.seconds = String(player.playedSamples / PCM_SAMPLE_RATE);
  }

  /** Compressed formats: Media Source Extensions where the browser supports the type, else
   * collect the stream and play it when it is complete. */
  async streamEncoded(body, format, t0) {
    const res = await this.api.stream({ ...body, response_format: format }, { signal: this.abort.signal });
    const type = (res.headers.get("Content-Type") || `audio/${format}`).split(";")[0].trim();
    const canStream = typeof MediaSource !== "undefined" && MediaSource.isTypeSupported(type);
    const parts = [];
    const audio = this.audio;
    audio.hidden = false;
    let started = false;
    const onPlaying = () => {
      started = true;
      $("ttfa").textContent = `${Math.round(performance.now() - t0)} ms`;
      document.body.dataset.ttsState = "playing";
      announce("Playing…");
    };
    audio.addEventListener("playing", onPlaying, { once: true });
    const played = new Promise((resolve) => {
      audio.addEventListener("ended", resolve, { once: true });
      audio.addEventListener("pause", resolve, { once: true }); // Stop, or the end
      audio.addEventListener("error", resolve, { once: true });
    });
    let blocked = false;
    const play = () => audio.play().catch(() => { blocked = true; });
    audio.ontimeupdate = () => { $("played-seconds").textContent = formatSeconds(audio.currentTime); };

    let source = null;
    let buffer = null;
    if (canStream) {
      source = new MediaSource();
      audio.src = URL.createObjectURL(source);
      await new Promise((r) => source.addEventListener("sourceopen", r, { once: true }));
      buffer = source.addSourceBuffer(type);
    } else {
      $("tts-note").textContent = `This browser cannot play ${format.toUpperCase()} while it downloads; it plays when complete.`;
    }
    await readBody(res, t0, async (value) => {
      parts.push(value);
      if (buffer) {
        await appendBuffer(buffer, value);
        if (parts.length === 1) play();
      }
    });
    const blob = new Blob(parts, { type });
    if (source) {
      if (source.readyState === "open") source.endOfStream();
    } else {
      audio.src = URL.createObjectURL(blob);
      await play();
    }
    const stamp = fileStamp();
    setDownload(this.download, blob, `voxclone-${stamp}.${EXTENSIONS[format] || format}`);
    this.download.textContent = `Download ${format.toUpperCase()}`;
    if (blocked && !started) {
      $("tts-note").textContent = "The browser blocked autoplay: press play on the player.";
      return;
    }
    announce("Playing… the download is ready.");
    await played;
    if (Number.isFinite(audio.duration)) $("audio-seconds").textContent = formatSeconds(audio.duration);
    $("played-seconds").dataset.seconds = String(audio.currentTime);
  }
}

/** Read a streamed response body: shows time to first byte and bytes received, and hands each
 * chunk to ``onChunk`` (awaited, so chunks are handled in order). */
async function readBody(res, t0, onChunk) {
  let received = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return received;
    if (!received) $("ttfb").textContent = `${Math.round(performance.now() - t0)} ms`;
    received += value.length;
    $("bytes-received").textContent = formatBytes(received);
    $("bytes-received").dataset.bytes = String(received);
    await onChunk(value);
  }
}

/** A timestamp for download names, e.g. ``2026-11-24T10-41-55``. */
function fileStamp() {
  return new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
}

function appendBuffer(buffer, bytes) {
  return new Promise((resolve, reject) => {
    buffer.addEventListener("updateend", () => resolve(), { once: true });
    buffer.addEventListener("error", () => reject(new Error("the browser could not play this audio")), { once: true });
    buffer.appendBuffer(bytes);
  });
}
