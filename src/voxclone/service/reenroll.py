"""Re-enroll clones whose profiles an engine no longer reads (``voxclone admin reenroll``).

When what a profile means changes, the engine bumps its profile version and keeps no code for the
old one (see :meth:`voxclone.engines.base.Engine.profile_outdated`). Clones whose reference audio
was kept are enrolled again from it with the current method; the others keep answering
``voice_outdated`` until their owner re-creates them. The server runs this at start, in the
background; a clone used before its turn is re-enrolled on first use.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from voxclone.errors import NotFound, ServiceError
from voxclone.service.clones import CloneService
from voxclone.store import repositories as repo
from voxclone.store.db import Database
from voxclone.voices.profile import VoiceProfile

log = logging.getLogger(__name__)


@dataclass
class ReenrollReport:
    """What a pass did: clone ids re-enrolled, left outdated (no reference kept), and failed."""

    checked: int = 0
    reenrolled: list[str] = field(default_factory=list)
    no_reference: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def reenroll_outdated(
    *, db: Database, clones: CloneService, engine_name: str, stop: threading.Event | None = None
) -> ReenrollReport:
    """Re-enroll every outdated clone of ``engine_name`` that kept its reference audio (blocking).

    ``stop``, when set, ends the pass before the next clone (server shutdown).
    """
    report = ReenrollReport()
    with db.sessions() as session:
        rows = repo.iter_clone_keys(session, engine=engine_name)
    for clone_id, profile_key, reference_key in rows:
        if stop is not None and stop.is_set():
            break
        report.checked += 1
        try:
            profile = VoiceProfile.from_bytes(db.blobs.get(profile_key))
        except (NotFound, ServiceError) as e:  # deleted meanwhile, or unreadable
            report.failed[clone_id] = e.message
            continue
        if not clones.is_outdated(profile):
            continue
        if reference_key is None:
            report.no_reference.append(clone_id)
            continue
        try:
            clones.reenroll(voice_id=clone_id, profile_key=profile_key, reference_key=reference_key)
        except ServiceError as e:  # e.g. the reference no longer passes today's intake checks
            log.warning("could not re-enroll %s: %s", clone_id, e.message)
            report.failed[clone_id] = e.message
        else:
            report.reenrolled.append(clone_id)
    return report
