// Microphone recording with MediaRecorder, a live level meter and a time limit.

const PREFERRED_TYPES = [
  "audio/webm;codecs=opus",
  "audio/ogg;codecs=opus",
  "audio/mp4",
  "audio/webm",
];

function pickMimeType() {
  if (typeof MediaRecorder === "undefined" || !MediaRecorder.isTypeSupported) return "";
  return PREFERRED_TYPES.find((t) => MediaRecorder.isTypeSupported(t)) || "";
}

/** File extension the server's decoder recognises for a recorder MIME type. */
export function extensionFor(mimeType) {
  if (mimeType.includes("ogg")) return "ogg";
  if (mimeType.includes("mp4")) return "m4a";
  return "webm";
}

export function recordingSupported() {
  return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && typeof MediaRecorder !== "undefined");
}

/**
 * One recording session: `start()` asks for the microphone and records until `stop()` or the
 * time limit; the promise it returns resolves to the recorded Blob.
 */
export class Recorder {
  /**
   * @param {object} opts
   * @param {number} [opts.maxSeconds] stop automatically after this long (default 10)
   * @param {(level: number, peak: number) => void} [opts.onLevel] RMS and peak, 0–1, ~20 times a second
   * @param {(elapsed: number) => void} [opts.onTick] seconds recorded so far
   */
  constructor(opts = {}) {
    this.maxSeconds = opts.maxSeconds || 10;
    this.onLevel = opts.onLevel || (() => {});
    this.onTick = opts.onTick || (() => {});
    this.recorder = null;
    this.stream = null;
    this.ctx = null;
    this.timer = null;
  }

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    const mimeType = pickMimeType();
    this.recorder = new MediaRecorder(this.stream, mimeType ? { mimeType } : {});
    const parts = [];
    this.recorder.addEventListener("dataavailable", (e) => {
      if (e.data && e.data.size) parts.push(e.data);
    });
    const done = new Promise((resolve, reject) => {
      this.recorder.addEventListener("stop", () => {
        const type = this.recorder.mimeType || mimeType || "audio/webm";
        this.cleanup();
        resolve({ blob: new Blob(parts, { type }), seconds: this.elapsed, mimeType: type });
      });
      this.recorder.addEventListener("error", (e) => {
        this.cleanup();
        reject(e.error || new Error("recording failed"));
      });
    });
    this.startMeter();
    this.recorder.start(250);
    this.t0 = performance.now();
    this.elapsed = 0;
    this.timer = setInterval(() => this.tick(), 50);
    return done;
  }

  startMeter() {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return;
    this.ctx = new AC();
    const source = this.ctx.createMediaStreamSource(this.stream);
    this.analyser = this.ctx.createAnalyser();
    this.analyser.fftSize = 1024;
    source.connect(this.analyser);
    this.samples = new Float32Array(this.analyser.fftSize);
  }

  tick() {
    this.elapsed = Math.min(this.maxSeconds, (performance.now() - this.t0) / 1000);
    this.onTick(this.elapsed);
    if (this.analyser) {
      this.analyser.getFloatTimeDomainData(this.samples);
      let sum = 0;
      let peak = 0;
      for (const s of this.samples) {
        sum += s * s;
        peak = Math.max(peak, Math.abs(s));
      }
      this.onLevel(Math.sqrt(sum / this.samples.length), peak);
    }
    if (this.elapsed >= this.maxSeconds) this.stop();
  }

  stop() {
    if (this.recorder && this.recorder.state !== "inactive") this.recorder.stop();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  cleanup() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
    this.stream = null;
    if (this.ctx) this.ctx.close().catch(() => {});
    this.ctx = null;
    this.analyser = null;
    this.onLevel(0, 0);
  }
}
