// Decode an audio file in the browser and draw its waveform on a canvas.

/**
 * Decode any audio the browser understands to mono float samples.
 * @param {Blob} blob
 * @returns {Promise<{samples: Float32Array, sampleRate: number, duration: number}>}
 */
export async function decodeToMono(blob) {
  const bytes = await blob.arrayBuffer();
  const ctx = new OfflineAudioContext(1, 1, 48000);
  const buf = await ctx.decodeAudioData(bytes);
  const samples = new Float32Array(buf.length);
  for (let c = 0; c < buf.numberOfChannels; c += 1) {
    const ch = buf.getChannelData(c);
    for (let i = 0; i < ch.length; i += 1) samples[i] += ch[i] / buf.numberOfChannels;
  }
  return { samples, sampleRate: buf.sampleRate, duration: buf.duration };
}

/**
 * Peak level of the samples in dBFS: at most 0 (−Infinity for silence). Lossy decoders (the Opus
 * of a MediaRecorder recording, MP3) overshoot ±1 on audio recorded at full scale; full scale is
 * the most a recording holds, so such a peak is 0 dBFS, never a positive level.
 */
export function peakDbfs(samples) {
  let peak = 0;
  for (const s of samples) peak = Math.max(peak, Math.abs(s));
  return peak > 0 ? 20 * Math.log10(Math.min(1, peak)) : -Infinity;
}

/**
 * Draw min/max envelope columns, sharp on high-DPI screens. Sample values near full scale
 * (clipping) are drawn in the danger colour.
 * @param {HTMLCanvasElement} canvas
 * @param {Float32Array} samples
 */
export function drawWaveform(canvas, samples) {
  const dpr = window.devicePixelRatio || 1;
  const cssWidth = canvas.clientWidth || canvas.width;
  const cssHeight = canvas.clientHeight || canvas.height;
  canvas.width = Math.max(1, Math.round(cssWidth * dpr));
  canvas.height = Math.max(1, Math.round(cssHeight * dpr));
  const g = canvas.getContext("2d");
  const style = getComputedStyle(canvas);
  const wave = style.getPropertyValue("--wave").trim() || "#1f4fd1";
  const clip = style.getPropertyValue("--danger").trim() || "#b3261e";
  const w = canvas.width;
  const hgt = canvas.height;
  const mid = hgt / 2;
  g.clearRect(0, 0, w, hgt);
  g.fillStyle = wave;
  g.globalAlpha = 0.35;
  g.fillRect(0, Math.floor(mid), w, Math.max(1, Math.round(dpr)));
  g.globalAlpha = 1;
  if (!samples.length) return;
  const per = samples.length / w;
  for (let x = 0; x < w; x += 1) {
    const a = Math.floor(x * per);
    const b = Math.min(samples.length, Math.max(a + 1, Math.floor((x + 1) * per)));
    let lo = 1;
    let hi = -1;
    for (let i = a; i < b; i += 1) {
      const s = samples[i];
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
    g.fillStyle = hi >= 0.99 || lo <= -0.99 ? clip : wave;
    const y0 = mid - hi * mid;
    const y1 = mid - lo * mid;
    g.fillRect(x, y0, 1, Math.max(1, y1 - y0));
  }
}
