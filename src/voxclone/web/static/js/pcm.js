// Raw 16-bit little-endian mono PCM: play it through WebAudio as it arrives, and wrap it as WAV.

export const PCM_SAMPLE_RATE = 24000;

/**
 * Schedules PCM chunks back to back on an AudioContext as they arrive from a stream.
 *
 * A short lead (`leadSeconds`) absorbs network jitter; if the stream falls behind playback the
 * next chunk starts as soon as possible instead of in the past.
 */
export class PcmStreamPlayer {
  /**
   * @param {AudioContext} context a running (or resumable) context, created in a user gesture
   * @param {object} [opts]
   * @param {number} [opts.sampleRate] samples per second of the PCM (default 24000)
   * @param {number} [opts.leadSeconds] delay before the first chunk plays (default 0.05)
   * @param {(ms: number) => void} [opts.onFirstAudio] called once, with the delay in ms from
   *   `startedAt` until the first sample is heard
   * @param {(seconds: number) => void} [opts.onProgress] called as chunks finish playing
   * @param {number} [opts.startedAt] `performance.now()` of the request (default: construction)
   */
  constructor(context, opts = {}) {
    this.ctx = context;
    this.sampleRate = opts.sampleRate || PCM_SAMPLE_RATE;
    this.lead = opts.leadSeconds ?? 0.05;
    this.onFirstAudio = opts.onFirstAudio || (() => {});
    this.onProgress = opts.onProgress || (() => {});
    this.startedAt = opts.startedAt ?? performance.now();
    this.carry = null; // an odd trailing byte waiting for its partner
    this.chunks = []; // Int16Array pieces, for the download
    this.totalSamples = 0;
    this.playedSamples = 0;
    this.nextTime = 0;
    this.sources = new Set();
    this.firstAudioMs = null;
    this.stopped = false;
    this.pendingEnd = null;
  }

  /** Feed bytes from the stream (any length; odd bytes carry over to the next call). */
  push(bytes) {
    if (this.stopped || !bytes || !bytes.length) return;
    let data = bytes;
    if (this.carry) {
      data = new Uint8Array(bytes.length + 1);
      data[0] = this.carry[0];
      data.set(bytes, 1);
      this.carry = null;
    }
    const n = data.length >> 1;
    if (data.length & 1) this.carry = data.slice(data.length - 1);
    if (!n) return;
    const view = new DataView(data.buffer, data.byteOffset, n * 2);
    const pcm = new Int16Array(n);
    const floats = new Float32Array(n);
    for (let i = 0; i < n; i += 1) {
      const s = view.getInt16(i * 2, true);
      pcm[i] = s;
      floats[i] = s / 32768;
    }
    this.chunks.push(pcm);
    this.totalSamples += n;
    this.schedule(floats);
  }

  schedule(floats) {
    const buffer = this.ctx.createBuffer(1, floats.length, this.sampleRate);
    buffer.copyToChannel(floats, 0);
    const src = this.ctx.createBufferSource();
    src.buffer = buffer;
    src.connect(this.ctx.destination);
    const now = this.ctx.currentTime;
    const at = Math.max(this.nextTime, now + this.lead);
    if (this.firstAudioMs === null) {
      this.firstAudioMs = performance.now() - this.startedAt + (at - now) * 1000;
      this.onFirstAudio(this.firstAudioMs);
    }
    src.start(at);
    this.nextTime = at + buffer.duration;
    this.sources.add(src);
    src.onended = () => {
      this.sources.delete(src);
      if (this.stopped) return;
      this.playedSamples += floats.length;
      this.onProgress(this.playedSamples / this.sampleRate);
      if (this.pendingEnd && !this.sources.size) this.pendingEnd();
    };
  }

  /** The stream is over: resolves when everything scheduled has been heard. */
  finished() {
    if (!this.sources.size || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.pendingEnd = resolve;
    });
  }

  /** Silence everything now. */
  stop() {
    this.stopped = true;
    for (const src of this.sources) {
      try { src.stop(); } catch { /* already stopped */ }
    }
    this.sources.clear();
    if (this.pendingEnd) this.pendingEnd();
  }

  get seconds() {
    return this.totalSamples / this.sampleRate;
  }

  /** Everything received so far as a WAV file. */
  wav() {
    return pcmToWav(this.chunks, this.sampleRate);
  }

  /** Everything received so far as raw s16le bytes. */
  raw() {
    return new Blob(this.chunks.map((c) => littleEndianBytes(c)), { type: "application/octet-stream" });
  }
}

function littleEndianBytes(int16) {
  const out = new Uint8Array(int16.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < int16.length; i += 1) view.setInt16(i * 2, int16[i], true);
  return out;
}

/**
 * Wrap 16-bit mono PCM in a canonical 44-byte-header WAV file.
 * @param {Int16Array[]} chunks samples in order
 * @param {number} sampleRate samples per second
 * @returns {Blob} `audio/wav`
 */
export function pcmToWav(chunks, sampleRate) {
  const samples = chunks.reduce((n, c) => n + c.length, 0);
  const dataBytes = samples * 2;
  const header = new DataView(new ArrayBuffer(44));
  const ascii = (off, s) => { for (let i = 0; i < s.length; i += 1) header.setUint8(off + i, s.charCodeAt(i)); };
  ascii(0, "RIFF");
  header.setUint32(4, 36 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  header.setUint32(16, 16, true); // fmt chunk size
  header.setUint16(20, 1, true); // PCM
  header.setUint16(22, 1, true); // mono
  header.setUint32(24, sampleRate, true);
  header.setUint32(28, sampleRate * 2, true); // byte rate
  header.setUint16(32, 2, true); // block align
  header.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  header.setUint32(40, dataBytes, true);
  return new Blob([header.buffer, ...chunks.map((c) => littleEndianBytes(c))], { type: "audio/wav" });
}

/**
 * Float samples (−1…1; beyond is clipped) as a 16-bit mono WAV file.
 * @param {Float32Array} samples
 * @param {number} sampleRate samples per second
 * @returns {Blob} `audio/wav`
 */
export function floatToWav(samples, sampleRate) {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i += 1) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    pcm[i] = Math.round(s * 32767);
  }
  return pcmToWav([pcm], sampleRate);
}
