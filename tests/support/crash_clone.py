"""Create or delete a voice clone through the real service and SIGKILL this process at one step.

Run as a script by the crash-consistency tests::

    python crash_clone.py --data-dir D [--database-url URL] --account NAME --action create|delete \
        --kill-at EVENT:N

``EVENT:N`` kills the process right after the N-th occurrence of EVENT once the account (and, for
``delete``, the clone) exists: ``mkdir`` (a folder was created), ``fsync`` (a file's bytes were
written), ``replace`` (a file was renamed into place), ``unlink`` (a file was removed), ``flush``
(the database session flushed rows, not yet committed), ``commit`` (a database transaction
committed). The hooks wrap ``os`` functions and SQLAlchemy session events from here; the runtime
code has no test knobs. Enrollment is replaced by a fixed profile (crash consistency does not
depend on it), everything else — database, blob store, transactions — is the real thing.

The module also provides :class:`TinyEngine`, the engine both this script and the test use.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from voxclone.engines.base import Engine, Utterance, VoiceInfo
from voxclone.errors import NotFound
from voxclone.voices.profile import VoiceProfile


class TinyEngine(Engine):
    """Just enough engine for the clone service (no synthesis is run here)."""

    name = "tiny"
    sample_rate = 24000

    def languages(self) -> tuple[str, ...]:
        return ("en-us",)

    def builtin_voices(self) -> list[VoiceInfo]:
        return []

    def builtin_profile(self, voice_id: str) -> VoiceProfile:
        raise NotFound(f"no voice {voice_id}", code="voice_not_found")

    def enroll(self, audio: np.ndarray, sample_rate: int) -> VoiceProfile:
        return profile()

    def _plan(self, text: str, voice: VoiceProfile, language: str | None) -> object:
        return None

    def stream(self, utterance: Utterance) -> Iterator[np.ndarray]:
        yield np.zeros(10, np.float32)


def profile() -> VoiceProfile:
    return VoiceProfile("tiny", 1, {"freq": np.array([123.0], np.float32)})


def settings(data_dir: str, database_url: str | None) -> Any:
    from voxclone.settings import Settings

    return Settings(data_dir=data_dir, database_url=database_url, synthesis_workers=1, onnx_threads=1)


def _arm(event: str, count: int) -> None:
    """Kill this process right after the ``count``-th ``event`` from now on."""
    seen = 0

    def hit() -> None:
        nonlocal seen
        seen += 1
        if seen == count:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    if event in ("flush", "commit"):
        from sqlalchemy import event as sa_event
        from sqlalchemy.orm import Session

        sa_event.listen(Session, f"after_{event}", lambda *_: hit())
        return
    names = {"mkdir": "mkdir", "fsync": "fsync", "replace": "replace", "unlink": "unlink"}
    original: Callable[..., Any] = getattr(os, names[event])

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        hit()
        return result

    setattr(os, names[event], wrapped)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--action", choices=("create", "delete"), required=True)
    parser.add_argument("--kill-at", required=True)
    parser.add_argument("--account", required=True, help="name of a new account to create")
    args = parser.parse_args()

    from voxclone.service import clones as clones_module
    from voxclone.service.container import Services

    def fixed_enrollment(self: Any, data: bytes, filename: Any, content_type: Any, **_: Any) -> Any:
        return clones_module.Enrolled(
            profile=profile().to_bytes(),
            duration_s=5.0,
            quality={"score": 100},
            reference=np.zeros(24000, np.float32),
            sample_rate=24000,
        )

    clones_module.CloneService.enroll_reference = fixed_enrollment  # type: ignore[method-assign]
    services = Services.build(settings=settings(args.data_dir, args.database_url), engine=TinyEngine())
    account, _ = services.accounts.create_key(account=args.account, credits="1")

    async def create() -> str:
        created = await services.clones.create(
            account=account, name="crash", audio=b"RIFF-reference-bytes", filename="r.wav", content_type=None
        )
        return created.record.voice_id

    event, _, count = args.kill_at.partition(":")
    if args.action == "delete":
        voice_id = asyncio.run(create())
        print(f"created {voice_id}", flush=True)
        _arm(event, int(count))
        services.clones.delete(account=account, voice_id=voice_id)
    else:
        _arm(event, int(count))
        print(f"created {asyncio.run(create())}", flush=True)
    print("finished without being killed", flush=True)


if __name__ == "__main__":
    main()
