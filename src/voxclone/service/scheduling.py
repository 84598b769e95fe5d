"""What the synthesis pool runs next, and how much it can take: deadlines, fair share, capacity.

Every synthesis is a :class:`Task`: a sequence of chunks, each run as one job on a worker. The
pool runs the job of whichever task needs it soonest (:func:`choose`):

- a live stream's first chunk is due at once; its next chunk is due when its listener's playback
  would run dry (playback starts with the first chunk; audio produced so far minus time elapsed),
  less a lead of about two chunk computations;
- a whole file is due by its size: all of it by its arrival plus its estimated length (as if it
  were played from the moment it was asked for), so it yields to live streams but is not starved;
- an enrollment (a clone being created, a person waiting) is due at once;
- background work (self-checks) runs only when no other job waits.

Jobs already due are served by account in turn (the account served longest ago first, then the
earliest deadline), so one account's burst cannot starve another; when nothing is due yet, the
earliest deadline runs (the pool never idles while work waits).

:class:`Throughput` learns the pool's speed (audio seconds per second of one worker) from the chunks
it runs; the pool admits a new live stream only while the streams playing fit in that capacity.
"""

from __future__ import annotations

import enum
import math
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

LEAD_STEPS = 2.0  # start a stream's next chunk this many chunk computations before playback runs dry
LEAD_MIN_S = 0.25
_WINDOW = 48  # chunks remembered by the throughput estimate
_MIN_MEASURED_S = 1.0  # worker-seconds measured before the estimate is trusted
_FIRST_WINDOW = 16  # first chunks remembered by the start estimate
# A burst of new streams is let in only while their first chunks, made one after another, take at
# most this share of the audio a first chunk holds: the first listener's buffer must outlast the
# others' first chunks and its own next one (bench/scheduler_sim.py: 3 streams starting together at
# C = 4.6 stalled 0.2 / 3 / 10 %, 2 did not).
START_BUFFER_SHARE = 0.75
RAMP_LEAD_S = 5.0  # a stream counts as starting until this much of its audio is made ahead of playback


class Kind(enum.Enum):
    """What a task is; it sets when its chunks are due and how it is admitted."""

    STREAM = "stream"  # a listener plays it as it arrives (HTTP streams, WebSocket sessions)
    FILE = "file"  # delivered whole when done
    ENROLL = "enroll"  # a clone being created: a person is waiting
    BACKGROUND = "background"  # nobody is waiting: runs only when the workers have nothing else


@dataclass
class Task:
    """One synthesis as the scheduler sees it. Times are ``time.monotonic()`` seconds.

    ``audio_s`` is the estimated length of the whole result (seconds of audio), used for whole
    files; ``produced_s`` counts the audio its chunks have produced so far.
    """

    kind: Kind
    account: str = ""
    audio_s: float = 0.0
    arrival: float = field(default_factory=time.monotonic)
    first_audio_at: float | None = None
    produced_s: float = 0.0
    step_s: float = 0.0  # how long its last chunk took to compute (wall seconds)
    producing: bool = False  # chunks are being made (false between a WebSocket session's segments)

    def deadline(self) -> float:
        """When its next chunk should start (monotonic seconds)."""
        if self.kind is Kind.FILE:
            return self.arrival + self.audio_s
        if self.kind is Kind.BACKGROUND:
            return math.inf
        if self.kind is Kind.ENROLL or self.first_audio_at is None:
            return self.arrival
        lead = max(LEAD_MIN_S, LEAD_STEPS * self.step_s)
        return self.first_audio_at + self.produced_s - lead

    def starting(self, now: float) -> bool:
        """A live stream with no audio yet, or still making audio with less than ``RAMP_LEAD_S``
        of it ahead of playback (an idle session, between segments, is not starting)."""
        if self.kind is not Kind.STREAM:
            return False
        if self.first_audio_at is None:
            return True
        return self.producing and self.first_audio_at + self.produced_s - now < RAMP_LEAD_S

    def record(self, *, audio_s: float, wall_s: float, now: float) -> bool:
        """A chunk of ``audio_s`` seconds took ``wall_s`` seconds and ended at ``now``; returns
        whether it was the task's first audio."""
        first = audio_s > 0 and self.first_audio_at is None
        if first:
            self.first_audio_at = now
        self.produced_s += audio_s
        self.step_s = wall_s
        return first


def jobs_at_once(*, workers: int, parallel: float) -> float:
    """Jobs that run at full speed at once: the workers, as far as the cores allow (``parallel`` =
    cores / threads per job), at least one."""
    return max(1.0, min(float(workers), parallel))


@dataclass(frozen=True)
class Waiting:
    """A job waiting for a worker: its task, and its arrival order among jobs (ties)."""

    task: Task
    seq: int


def choose(waiting: Sequence[Waiting], *, now: float, served: dict[str, int]) -> int:
    """Index in ``waiting`` (not empty) of the job to run next.

    ``served`` maps an account to the turn it was last served in (absent: never); the caller
    updates it after each choice.
    """
    foreground = [i for i, w in enumerate(waiting) if w.task.kind is not Kind.BACKGROUND]
    candidates = foreground or list(range(len(waiting)))
    deadlines = {i: waiting[i].task.deadline() for i in candidates}
    due = [i for i in candidates if deadlines[i] <= now]
    if not due:
        return min(candidates, key=lambda i: (deadlines[i], waiting[i].seq))

    def account_turn(i: int) -> tuple[int, float, int]:
        # the account served longest ago first; among its jobs, the earliest deadline
        return (served.get(waiting[i].task.account, -1), deadlines[i], waiting[i].seq)

    return min(due, key=account_turn)


class Throughput:
    """The pool's measured speed, from the chunks it runs.

    Each chunk is recorded with the number of synthesis jobs that were running (``busy``).
    :meth:`capacity` is the aggregate speed in audio seconds per wall second: measured directly
    from chunks run with every worker busy when there are enough of them, else the speed of the
    chunks seen so far times the jobs the cores can run at full speed at once. Sums over the last
    chunks (a long chunk weighs more than a short one); ``None`` until about a second of work.
    """

    def __init__(self, *, window: int = _WINDOW):
        self._chunks: deque[tuple[float, float, int]] = deque(maxlen=window)
        self._firsts: deque[tuple[float, float]] = deque(maxlen=_FIRST_WINDOW)
        self._lock = threading.Lock()

    def record(self, *, audio_s: float, wall_s: float, busy: int = 1, first: bool = False) -> None:
        """A chunk of ``audio_s`` seconds took ``wall_s`` wall seconds with ``busy`` jobs running;
        ``first``: it was a stream's first chunk (what a new listener waits for)."""
        if wall_s <= 0 or not math.isfinite(wall_s) or audio_s < 0:
            return
        with self._lock:
            self._chunks.append((audio_s, wall_s, max(1, busy)))
            if first:
                self._firsts.append((wall_s, audio_s))

    def first_chunk(self) -> tuple[float, float] | None:
        """Mean ``(wall seconds, audio seconds)`` of the recent streams' first chunks, or ``None``
        before the first."""
        with self._lock:
            firsts = list(self._firsts)
        if not firsts:
            return None
        return sum(w for w, _ in firsts) / len(firsts), sum(a for _, a in firsts) / len(firsts)

    def capacity(self, *, workers: int, parallel: float) -> float | None:
        """Audio seconds the pool makes per wall second with ``workers`` jobs running, or ``None``.

        ``parallel``: jobs the cores can run at once at full speed (cores / threads per job).
        """
        with self._lock:
            chunks = list(self._chunks)
        full = [(a, w) for a, w, busy in chunks if busy >= workers]
        if sum(w for _, w in full) >= _MIN_MEASURED_S:
            return workers * sum(a for a, _ in full) / sum(w for _, w in full)
        wall = sum(w for _, w, _ in chunks)
        if wall < _MIN_MEASURED_S:
            return None
        return sum(a for a, _, _ in chunks) / wall * jobs_at_once(workers=workers, parallel=parallel)
