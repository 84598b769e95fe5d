// The "Agent" card: types a text in word by word over the real-time WebSocket, as an LLM would,
// plays the audio as it arrives, and lights up each word as it is spoken (when the engine reports
// word timestamps). Protocol: README, "Real-time WebSocket".

import { PcmStreamPlayer } from "./pcm.js";
import { $, announce, h } from "./ui.js";

const WS_PATH = "api/v1/tts_websocket";

/** `ws://` / `wss://` URL of the WebSocket route, relative to the page like every API URL. */
export function websocketUrl(base = document.baseURI) {
  const url = new URL(WS_PATH, base);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

/** Words as the server reports them: punctuation trimmed from the ends (engines/base.text_words). */
export function normalWord(token) {
  return token.replace(/^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu, "").toLowerCase();
}

function base64Bytes(b64) {
  const raw = atob(b64);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += 1) out[i] = raw.charCodeAt(i);
  return out;
}

export class AgentPanel {
  /**
   * @param {import("./api.js").Api} api the page's API client (its key and health route)
   * @param {object} opts
   * @param {() => string} opts.voice the voice id chosen in the Speak card
   * @param {() => void} [opts.onCharged] called when a session ends (credits changed)
   */
  constructor(api, opts) {
    this.api = api;
    this.voice = opts.voice;
    this.onCharged = opts.onCharged || (() => {});
    this.form = $("agent-form");
    this.text = $("agent-text");
    this.interval = $("agent-interval");
    this.go = $("agent-go");
    this.stopBtn = $("agent-stop");
    this.transcript = $("agent-transcript");
    this.ws = null;
    this.player = null;
    this.timers = new Set();
    this.interval.addEventListener("input", () => {
      $("agent-interval-out").textContent = `${this.interval.value} ms`;
    });
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.run().catch((err) => announce(String(err.message || err), { error: true }));
    });
    this.stopBtn.addEventListener("click", () => this.stop("Stopped."));
  }

  setBusy(busy) {
    this.go.disabled = busy;
    this.stopBtn.disabled = !busy;
    this.form.setAttribute("aria-busy", String(busy));
  }

  async timestampsAvailable() {
    try {
      const health = await this.api.health();
      const caps = health && health.engine && health.engine.capabilities;
      return Boolean(caps && caps.timestamps);
    } catch {
      return false;
    }
  }

  async run() {
    this.stop();
    const words = this.text.value.split(/\s+/).filter(Boolean);
    if (!words.length) {
      announce("Type a text for the agent to say.", { error: true });
      return;
    }
    const voice = this.voice();
    const timestamps = await this.timestampsAvailable();
    const ctx = new AudioContext({ sampleRate: 24000 });
    await ctx.resume();
    this.transcript.replaceChildren();
    const spans = [];
    for (const [i, w] of words.entries()) {
      const span = h("span", { class: "agent-word", "data-state": "pending" }, w);
      spans.push(span);
      this.transcript.append(span, i < words.length - 1 ? " " : "");
    }
    for (const id of ["agent-first", "agent-seconds", "agent-charged"]) $(id).textContent = "–";
    const firstSentenceEnd = words.findIndex((w) => /[.!?…]["')\]]*$/.test(w));
    let sentenceEndAt = null;
    let offset = 0; // seconds of session audio scheduled so far
    let nextSpan = 0;
    const player = new PcmStreamPlayer(ctx, {
      onFirstAudio: () => {
        if (sentenceEndAt !== null) $("agent-first").textContent = `${Math.round(performance.now() - sentenceEndAt)} ms`;
      },
    });
    this.player = player;
    const ws = new WebSocket(websocketUrl());
    this.ws = ws;
    this.setBusy(true);
    const highlight = (word, at) => {
      // the next typed word that is this word (the server's words are the text's, in order)
      let k = nextSpan;
      while (k < spans.length && normalWord(spans[k].textContent) !== normalWord(word.word)) k += 1;
      if (k >= spans.length) return;
      nextSpan = k + 1;
      const span = spans[k];
      const delay = Math.max(0, (at - ctx.currentTime) * 1000);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        for (const s of spans) if (s.dataset.state === "speaking") s.dataset.state = "spoken";
        span.dataset.state = "speaking";
      }, delay);
      this.timers.add(timer);
    };
    ws.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type === "audio") {
        const bytes = base64Bytes(msg.audio);
        const startsAt = Math.max(player.nextTime, ctx.currentTime + player.lead);
        for (const word of msg.words || []) highlight(word, startsAt + (word.start - offset));
        player.push(bytes);
        offset += bytes.length / 2 / 24000;
        $("agent-seconds").textContent = `${offset.toFixed(2)} s`;
      } else if (msg.type === "done") {
        $("agent-charged").textContent = String(msg.credits_charged);
        announce(`Spoke ${Number(msg.audio_seconds).toFixed(1)} s of audio.`);
      } else if (msg.type === "error") {
        announce(`${msg.message} (${msg.code})`, { error: true });
      }
    };
    ws.onclose = () => {
      this.setBusy(false);
      this.onCharged();
      player.finished().then(() => {
        for (const s of spans) if (s.dataset.state === "speaking") s.dataset.state = "spoken";
      });
    };
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error("The WebSocket connection failed."));
    });
    ws.send(JSON.stringify({ type: "start", voice_id: voice, timestamps, api_key: this.api.getKey() }));
    const pause = Number(this.interval.value) || 80;
    for (const [i, w] of words.entries()) {
      if (this.ws !== ws || ws.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify({ type: "text", text: (i ? " " : "") + w }));
      spans[i].dataset.state = "typed";
      if (i === firstSentenceEnd) sentenceEndAt = performance.now();
      await new Promise((r) => setTimeout(r, pause));
    }
    if (firstSentenceEnd < 0) sentenceEndAt = performance.now();
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "end" }));
  }

  /** Close the session and silence the audio (the server charges what it sent). */
  stop(message) {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
    }
    if (this.player) {
      this.player.stop();
      this.player = null;
    }
    this.setBusy(false);
    if (message) announce(message);
  }
}
