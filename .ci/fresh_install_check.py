"""Drive a freshly installed ``voxclone serve`` through its HTTP API (called by .ci/fresh_install.sh).

Waits for the "listening" line, then checks: health says ok with every capability available, the
docs' Swagger UI bundle is served, a clone is created from a reference the server itself speaks, and
the clone speaks. Uses only the standard library and httpx (a voxclone dependency).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import time
import wave
from pathlib import Path

import httpx

START_TIMEOUT_S = 600
REFERENCE_TEXT = (
    "Good morning. This is a short recording of my own voice, read slowly and clearly, "
    "so that the service can learn how I sound when I speak."
)


def wait_for_server(log: Path, pid: int) -> tuple[str, str]:
    """The base URL and API key the server printed, once it says it is listening."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        listening = re.search(r"voxclone listening on (http://\S+)", text)
        if listening:
            key = re.search(r"^(oute_\S+)$", text, re.MULTILINE)
            if key is None:
                sys.exit("the server printed no API key for its first account")
            return listening.group(1), key.group(1)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            sys.exit("the server exited before it was listening")
        time.sleep(0.5)
    sys.exit(f"the server was not listening after {START_TIMEOUT_S} s")


def wav_seconds(data: bytes) -> tuple[float, int]:
    """Duration (s) and peak sample (16-bit) of a WAV answer."""
    with wave.open(io.BytesIO(data)) as w:
        frames = w.readframes(w.getnframes())
        seconds = w.getnframes() / w.getframerate()
    samples = memoryview(frames).cast("h")
    return seconds, max((abs(s) for s in samples), default=0)


def check(base: str, key: str) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, timeout=300) as http:
        health = http.get("/api/v1/health").json()
        assert health["status"] == "ok", health
        assert all(c["status"] == "available" for c in health["capabilities"].values()), health
        print(f"health: ok, capabilities {sorted(health['capabilities'])}")

        bundle = http.get("/docs-assets/swagger-ui-bundle.js")
        assert bundle.status_code == 200 and len(bundle.content) > 100_000, bundle.status_code

        voices = http.get("/api/v1/voices", headers=headers).json()["data"]["voices"]
        builtin = next(v["voice_id"] for v in voices if v.get("type", "builtin") != "clone")
        reference = http.post(
            "/api/v1/tts_non_stream", headers=headers, json={"text": REFERENCE_TEXT, "voice_id": builtin}
        )
        assert reference.status_code == 200, reference.text
        seconds, _ = wav_seconds(reference.content)
        print(f"reference: {seconds:.1f} s spoken by {builtin}")

        created = http.post(
            "/api/v1/voice-clones",
            headers=headers,
            files={"audio": ("reference.wav", reference.content, "audio/wav")},
            data={"name": "fresh install"},
        )
        assert created.status_code == 201, created.text
        clone = created.json()["data"]
        assert clone["voice_id"].startswith("vc_"), clone
        print(f"clone: {clone['voice_id']}, similarity {clone.get('similarity')}")

        speech = http.post(
            "/api/v1/tts_non_stream",
            headers=headers,
            json={"text": "Hello from a fresh install.", "voice_id": clone["voice_id"]},
        )
        assert speech.status_code == 200, speech.text
        seconds, peak = wav_seconds(speech.content)
        assert seconds > 0.5 and peak > 1000, (seconds, peak)
        print(f"speech: {seconds:.1f} s in the clone's voice, peak {peak}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--log", type=Path, required=True, help="the server's stdout")
    ap.add_argument("--pid", type=int, required=True, help="the server's process id")
    args = ap.parse_args()
    base, key = wait_for_server(args.log, args.pid)
    check(base, key)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
