"""Create or delete a voice clone through the real service and SIGKILL this process at one step.

Run as a script by the crash-consistency tests::

    python crash_clone.py --data-dir D [--database-url URL] --account NAME --action create|delete \
        --kill-at EVENT:N [--consent]

``EVENT:N`` kills the process right after the N-th occurrence of EVENT once the account (and, for
``delete``, the clone) exists: ``mkdir`` (a folder was created), ``fsync`` (a file's bytes were
written), ``replace`` (a file was renamed into place), ``unlink`` (a file was removed), ``flush``
(the database session flushed rows, not yet committed), ``commit`` (a database transaction
committed). The hooks wrap ``os`` functions and SQLAlchemy session events from here; the runtime
code has no test knobs. Enrollment is replaced by a fixed profile (crash consistency does not
depend on it), everything else — database, blob store, transactions — is the real thing.
With ``--consent`` the clone is created with a spoken consent: a real challenge, fixed evidence
(the checks are replaced like enrollment) and the consent recording :data:`CONSENT_AUDIO`, stored
as the clone's ``consent`` blob with its evidence row.

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


CONSENT_AUDIO = b"RIFF-consent-bytes"
REFERENCE_AUDIO = b"RIFF-reference-bytes"


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
    parser.add_argument("--consent", action="store_true", help="create the clone with a spoken consent")
    args = parser.parse_args()

    from voxclone.service import clones as clones_module
    from voxclone.service.consent import ConsentService, Evidence, PendingConsent
    from voxclone.service.container import Services

    def fixed_enrollment(
        self: Any,
        data: bytes,
        filename: Any,
        content_type: Any,
        *,
        consent: PendingConsent | None = None,
        consent_audio: bytes | None = None,
    ) -> Any:
        evidence = None
        if consent is not None:
            assert consent_audio is not None
            evidence = Evidence(
                challenge_id=consent.challenge_id,
                language=consent.language,
                phrase=consent.phrase,
                transcript=consent.phrase,
                word_score=1.0,
                speaker_score=0.9,
                source="consent_audio",
                audio=consent_audio,
            )
        return clones_module.Enrolled(
            profile=profile().to_bytes(),
            duration_s=5.0,
            quality={"score": 100},
            reference=np.zeros(24000, np.float32),
            sample_rate=24000,
            evidence=evidence,
        )

    clones_module.CloneService.enroll_reference = fixed_enrollment  # type: ignore[method-assign]
    ConsentService.available = lambda self: True  # type: ignore[method-assign]  # no recogniser runs
    services = Services.build(settings=settings(args.data_dir, args.database_url), engine=TinyEngine())
    account, _ = services.accounts.create_key(account=args.account, credits="1")
    challenge_id = services.consent.create_challenge(account=account).challenge_id if args.consent else None

    async def create() -> str:
        created = await services.clones.create(
            account=account,
            name="crash",
            audio=REFERENCE_AUDIO,
            filename="r.wav",
            content_type=None,
            consent_challenge_id=challenge_id,
            consent_audio=CONSENT_AUDIO if challenge_id else None,
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
