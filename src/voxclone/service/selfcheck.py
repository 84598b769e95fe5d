"""The clone self-check, off the request path: a supervised background worker.

``POST /api/v1/voice-clones`` stores a clone with ``similarity_status = "pending"`` and its
prepared reference in a check blob; this worker then claims pending clones one at a time (an
atomic conditional ``UPDATE`` in the shared database, so any replica may finish any clone, and a
claim older than ``claim_timeout_s`` — its process died — is taken over), runs
:meth:`~voxclone.engines.base.Engine.self_check`, stores the score (``done``) or ``failed``, and
removes the check blob.

Low priority: a check starts only while ``busy()`` says no synthesis or enrollment is in flight
in this process, so it uses CPU that listeners do not need. The worker is one thread started and
stopped by the app's lifespan (:meth:`SimilarityWorker.start`, :meth:`SimilarityWorker.close`).
"""

from __future__ import annotations

import io
import logging
import os
import threading
from collections.abc import Callable
from datetime import timedelta

import numpy as np
from sqlalchemy.exc import SQLAlchemyError

from voxclone.engines.base import Engine
from voxclone.errors import NotFound, ServiceError
from voxclone.store import repositories as repo
from voxclone.store.db import Database
from voxclone.store.models import utcnow
from voxclone.voices.profile import VoiceProfile

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a check that killed its process this often is marked failed, not retried
_BUSY_WAIT_S = 0.25


def encode_check_audio(audio: np.ndarray, sample_rate: int, *, held_out: np.ndarray | None = None) -> bytes:
    """The prepared reference (float32 mono, ``sample_rate`` Hz) and, for a long upload, the rest
    of its speech (``held_out``, what the check scores the clone against) as a check blob (``.npz``)."""
    buf = io.BytesIO()
    arrays: dict[str, np.ndarray] = {
        "audio": np.asarray(audio, dtype=np.float32),
        "sample_rate": np.asarray(sample_rate, dtype=np.int64),
    }
    if held_out is not None:
        arrays["held_out"] = np.asarray(held_out, dtype=np.float32)
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def decode_check_audio(data: bytes) -> tuple[np.ndarray, int, np.ndarray | None]:
    """Inverse of :func:`encode_check_audio`: ``(audio, sample_rate, held_out or None)``."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        held_out = np.asarray(npz["held_out"], dtype=np.float32) if "held_out" in npz.files else None
        return np.asarray(npz["audio"], dtype=np.float32), int(npz["sample_rate"]), held_out


def _lower_this_threads_priority(niceness: int = 10) -> None:
    """Make the calling thread yield the CPU to request threads (Linux: per-thread nice value;
    work the engine hands to its own thread pools keeps their priority). Best effort."""
    setpriority = getattr(os, "setpriority", None)
    if setpriority is None:
        return
    try:
        setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except OSError as e:  # not allowed here: the check still runs, idle-gated
        log.debug("could not lower the self-check thread's priority: %s", e)


class SimilarityWorker:
    """Computes pending clone self-checks of ``engine`` in the background.

    Parameters
    ----------
    db : Database
        The shared database and blob store.
    engine : Engine
        This server's engine; only clones made by an engine of the same name are checked here.
    busy : callable
        Returns ``True`` while foreground work (synthesis, enrollment) is in flight; checks wait.
    claim_timeout_s : float
        Seconds after which a claimed, unfinished check counts as abandoned (its process died)
        and may be claimed again, > 0. Must exceed the longest self-check.
    poll_s : float
        Seconds between looks for pending checks made elsewhere (other replicas, a crashed
        process), > 0; a clone created here wakes the worker at once (:meth:`wake`).
    """

    def __init__(
        self,
        *,
        db: Database,
        engine: Engine,
        busy: Callable[[], bool],
        claim_timeout_s: float = 120.0,
        poll_s: float = 5.0,
    ):
        self._db = db
        self._engine = engine
        self._busy = busy
        self.claim_timeout_s = claim_timeout_s
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.checked = 0  # checks finished by this worker (done or failed)

    # ------------------------------------------------------------------------------ life cycle

    def start(self) -> None:
        """Start the worker thread (once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="voxclone-similarity", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for pending checks now (a clone was just created or re-enrolled here)."""
        self._wake.set()

    def close(self, *, timeout_s: float = 60.0) -> None:
        """Stop after the check in progress (if any); wait up to ``timeout_s`` seconds for it.

        A check still running then is left claimed; another process takes it over once its
        claim is ``claim_timeout_s`` old.
        """
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("the self-check worker did not stop within %.0f s", timeout_s)
            self._thread = None

    def _run(self) -> None:
        _lower_this_threads_priority()
        while not self._stop.is_set():
            try:
                worked = self.run_once(wait_idle=True)
            except (SQLAlchemyError, OSError) as e:  # the database may be away for a moment
                log.warning("self-check worker: %s; retrying in %.0f s", e, self.poll_s)
                worked = False
            except Exception:  # never let the worker die: log, pause, go on
                log.exception("self-check worker failed; retrying in %.0f s", self.poll_s)
                worked = False
            if not worked:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    # ------------------------------------------------------------------------------------ work

    def run_once(self, *, wait_idle: bool = False) -> bool:
        """Claim and finish one pending check; ``False`` when none is waiting (blocking).

        With ``wait_idle``, first wait until ``busy()`` is false (or the worker is stopping).
        """
        if wait_idle:
            while self._busy():
                if self._stop.wait(_BUSY_WAIT_S):
                    return False
        stale_before = utcnow() - timedelta(seconds=self.claim_timeout_s)
        with self._db.write_sessions.begin() as session:
            claimed = repo.claim_similarity_check(
                session, engine=self._engine.name, stale_before=stale_before
            )
        if claimed is None:
            return False
        similarity, status = self._measure(claimed)
        with (
            self._db.blobs.transaction(group=claimed.clone_id) as blobs,
            self._db.write_sessions.begin() as session,
        ):
            finished = repo.finish_similarity_check(
                session,
                clone_id=claimed.clone_id,
                check_key=claimed.check_key,
                similarity=similarity,
                status=status,
            )
            if finished and claimed.check_key:
                blobs.delete(claimed.check_key)
            blobs.join(session)
        self.checked += 1
        log.info("self-check of %s: %s %s", claimed.clone_id, status, similarity)
        return True

    def _measure(self, claimed: repo.ClaimedCheck) -> tuple[float | None, str]:
        """``(score, status)`` of one claimed clone: ``done`` with a 0–1 score, ``unavailable``
        (no calibrated measure), or ``failed`` (no prepared reference, or the check failed)."""
        if not self._engine.capabilities.self_check:
            return None, "unavailable"
        if claimed.check_key is None or claimed.attempts > MAX_ATTEMPTS:
            return None, "failed"
        try:
            profile = VoiceProfile.from_bytes(self._db.blobs.get(claimed.profile_key))
            audio, sample_rate, held_out = decode_check_audio(self._db.blobs.get(claimed.check_key))
            score = self._engine.self_check(profile, audio, sample_rate, held_out=held_out)
        except NotFound:  # deleted meanwhile: the update below changes nothing
            return None, "failed"
        except (ServiceError, ValueError, OSError) as e:
            log.warning("self-check of %s failed: %s", claimed.clone_id, e)
            return None, "failed"
        if score is None:
            return None, "unavailable"
        return round(float(score), 4), "done"
