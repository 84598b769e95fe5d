"""Where ``POST /api/v1/voice-clones`` spends its time, on the real Kokoro engine.

Prints the intake/enrollment stages of one 10 s reference (decode, VAD, quality analysis,
two-speaker check, preparation, enrollment, and the self-check that now runs in the background),
then times whole POSTs through the app (wall and process CPU seconds), each on an idle server:
before the next POST it waits for the previous clone's background self-check to finish.

Usage: ``python bench/clone_time.py [--shared ../shared] [--posts 3] [--threads 2]``. Timings on
a shared machine are inflated by other load; the CPU seconds are the steadier figure.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from _loadlib import reference_wav
from voxclone.api.app import create_app
from voxclone.audio.decode import decode_audio
from voxclone.audio.intake import ReferenceAnalyzer
from voxclone.audio.prepare import normalise_loudness, remove_dc, scale_segments, trim_and_tighten
from voxclone.audio.speaker import resample
from voxclone.audio.speakers import check_speakers
from voxclone.audio.vad import VAD_RATE
from voxclone.engines.registry import create_engine
from voxclone.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def stages(engine: object, analyzer: ReferenceAnalyzer, data: bytes) -> dict[str, float]:
    """Wall seconds of each stage of one clone creation, self-check included."""
    out: dict[str, float] = {}
    t = time.perf_counter()

    def tick(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        out[name] = round(now - t, 3)
        t = now

    rate = engine.sample_rate  # type: ignore[attr-defined]
    d = decode_audio(data)
    tick("decode")
    mono = remove_dc(d.audio, d.sample_rate)
    x16 = resample(mono, d.sample_rate, VAD_RATE)
    vad = analyzer.vad().detect(x16)
    tick("vad")
    analyzer._measure(x16, vad, d.source_rate, len(mono) / d.sample_rate, d.peak_dbfs, d.clipping_ratio)
    tick("quality")
    check_speakers(analyzer.encoder, x16, vad.segments)
    tick("two_speaker_check")
    audio = resample(mono, d.sample_rate, rate)
    segments = scale_segments(vad.segments, VAD_RATE, rate, len(audio))
    audio, _, _ = trim_and_tighten(audio, rate, segments)
    audio = normalise_loudness(audio, rate)
    tick("prepare")
    profile = engine.enroll(audio, rate)  # type: ignore[attr-defined]
    tick("enroll")
    engine.self_check(profile, audio, rate)  # type: ignore[attr-defined]
    tick("self_check")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--posts", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="ONNX threads per job")
    args = parser.parse_args()
    data = reference_wav(args.shared)
    if data is None:
        raise SystemExit(f"no speech-dev data under {args.shared}; pass --shared")
    settings = Settings(data_dir=Path(tempfile.mkdtemp()), onnx_threads=args.threads)
    engine = create_engine(settings)
    analyzer = ReferenceAnalyzer(threads=1, encoder=engine.speaker_encoder)
    stages(engine, analyzer, data)  # warm up
    print("stages (s):", stages(engine, analyzer, data))
    with TestClient(create_app(settings, engine=engine)) as client:
        _, key = client.app.state.services.accounts.create_key(credits="100")  # type: ignore[attr-defined]
        headers = {"Authorization": f"Bearer {key}"}
        for i in range(args.posts):
            cpu, wall = time.process_time(), time.perf_counter()
            r = client.post(
                "/api/v1/voice-clones",
                headers=headers,
                files={"audio": ("ref.wav", data, "audio/wav")},
                data={"name": f"bench {i}"},
            )
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            clone = r.json()["data"]
            status = clone.get("similarity_status")
            print(f"POST {r.status_code}: {wall:.3f} s wall, {cpu:.3f} CPU-s, similarity {status}")
            t = time.perf_counter()
            while clone.get("similarity_status") == "pending":
                time.sleep(0.2)
                url = f"/api/v1/voice-clones/{clone['voice_id']}"
                clone = client.get(url, headers=headers).json()["data"]
            print(f"  self-check {clone.get('similarity')} after {time.perf_counter() - t:.2f} s more")


if __name__ == "__main__":
    main()
