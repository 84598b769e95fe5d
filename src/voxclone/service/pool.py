"""The synthesis pool: worker threads, admission, and chunk-by-chunk scheduling.

``workers`` jobs run at once on worker threads. Each synthesis is a task of several jobs (one per
chunk); which job runs next is decided by :mod:`voxclone.service.scheduling` (deadlines, fair share
per account). Admission refuses at once with ``Overloaded`` (503 ``server_busy`` with
``Retry-After``) instead of letting latency grow without bound:

- any task: when ``workers + queue_size`` tasks are already running or waiting;
- a live stream (``admission="capacity"``, the default): when the streams already playing use up
  ``headroom`` of the measured capacity (real-time streams = audio seconds one worker makes per
  second × workers), so that admitted listeners do not stall; and when the streams still starting
  (:meth:`~voxclone.service.scheduling.Task.starting`) would hold its first audio back beyond
  ``start_s`` or make the first of them run dry (a burst of listeners arriving together is let in
  as fast as their starts can be served, the rest asked to retry).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from concurrent.futures import Future
from typing import Any, Literal, TypeVar, cast

from voxclone.errors import Overloaded
from voxclone.service.scheduling import (
    START_BUFFER_SHARE,
    Kind,
    Task,
    Throughput,
    Waiting,
    choose,
    jobs_at_once,
)

T = TypeVar("T")
_END = object()
Admission = Literal["capacity", "queue"]


class _Executor:
    """Worker threads that take the job :func:`~voxclone.service.scheduling.choose` picks.

    ``workers`` threads take any job; one more takes only enrollments (:attr:`Kind.ENROLL`), so a
    person creating a clone does not wait for a synthesis chunk to end, however busy the pool is.
    """

    def __init__(self, workers: int, name: str):
        self._cond = threading.Condition()
        self._waiting: list[tuple[Waiting, Future[Any], Callable[[], Any]]] = []
        self._served: dict[str, int] = {}
        self._seq = itertools.count()
        self._turn = itertools.count()
        self._closed = False
        self.running = 0  # synthesis jobs running now (read without the lock: a measurement, not a decision)
        lanes: list[Kind | None] = [None] * workers + [Kind.ENROLL]
        self._threads = [
            threading.Thread(target=self._work, args=(only,), name=f"{name}-{i}", daemon=True)
            for i, only in enumerate(lanes)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[[], T], *, task: Task) -> Future[T]:
        future: Future[T] = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("the synthesis pool is shut down")
            self._waiting.append((Waiting(task, next(self._seq)), future, fn))
            self._cond.notify_all()  # the enrollment lane may not take it: wake every thread
        return future

    def _next(self, only: Kind | None) -> tuple[Future[Any], Callable[[], Any]] | None:
        with self._cond:
            while True:
                mine = [k for k, (w, _, _) in enumerate(self._waiting) if only is None or w.task.kind is only]
                if mine:
                    break
                if self._closed:
                    return None
                self._cond.wait()
            i = mine[choose([self._waiting[k][0] for k in mine], now=time.monotonic(), served=self._served)]
            waiting, future, fn = self._waiting.pop(i)
            self._served[waiting.task.account] = next(self._turn)
            return future, fn

    def _work(self, only: Kind | None) -> None:
        while (job := self._next(only)) is not None:
            future, fn = job
            if not future.set_running_or_notify_cancel():
                continue
            counted = only is None  # the enrollment lane's jobs are not synthesis
            if counted:
                with self._cond:
                    self.running += 1
            try:
                result = fn()
            except BaseException as e:  # handed to whoever awaits the future
                future.set_exception(e)
            else:
                future.set_result(result)
            finally:
                if counted:
                    with self._cond:
                        self.running -= 1

    def shutdown(self) -> None:
        """Cancel waiting jobs, let running ones finish, stop the threads."""
        with self._cond:
            self._closed = True
            pending, self._waiting = self._waiting, []
            self._cond.notify_all()
        for _, future, _ in pending:
            future.cancel()
        for thread in self._threads:
            thread.join()


class Slot:
    """An admitted task's place in the pool; released exactly once, by its job or :meth:`release`."""

    def __init__(self, pool: SynthesisPool, task: Task):
        self._pool = pool
        self.task = task
        self._released = False
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self._pool._release(self.task)


class SynthesisPool:
    """Bounded, scheduled worker pool.

    Parameters
    ----------
    workers : int
        Jobs that run at once (threads), at least 1.
    queue_size : int
        Tasks that may wait beyond ``workers``, at least 0.
    admission : {"capacity", "queue"}
        ``capacity``: also refuse a live stream that the measured capacity cannot play without
        stalls; ``queue``: only the ``workers + queue_size`` bound.
    headroom : float
        Share of the measured capacity live streams may use (0 < headroom ≤ 1).
    parallel : float, optional
        Jobs the cores can run at once at full speed (cores / threads per job; default
        ``workers``): how far the speed of one job scales until every worker has been measured busy.
    start_s : float
        Seconds a new live stream may be expected to wait for its first audio behind the streams
        still starting (> 0); one stream is always let in when no other is starting.
    """

    def __init__(
        self,
        *,
        workers: int,
        queue_size: int,
        admission: Admission = "capacity",
        headroom: float = 0.9,
        parallel: float | None = None,
        start_s: float = 1.0,
    ):
        self.workers = max(1, workers)
        self.parallel = float(parallel) if parallel is not None and parallel > 0 else float(self.workers)
        self.capacity = self.workers + max(0, queue_size)
        self.admission = admission
        self.headroom = min(1.0, max(0.05, headroom))
        self.start_s = max(0.01, start_s)
        self.throughput = Throughput()
        self._executor = _Executor(self.workers, "voxclone-synth")
        self._lock = threading.Lock()
        self._in_flight = 0
        self._streams: list[Task] = []

    @property
    def in_flight(self) -> int:
        """Tasks running or waiting."""
        return self._in_flight

    @property
    def streams(self) -> int:
        """Live streams admitted and not finished."""
        return len(self._streams)

    def stream_capacity(self) -> float | None:
        """Real-time streams the workers can sustain, as measured so far (``None``: not yet)."""
        return self.throughput.capacity(workers=self.workers, parallel=self.parallel)

    def stream_limit(self) -> int | None:
        """Live streams admitted at once (``None``: only the task bound applies)."""
        return self._limit(self.stream_capacity())

    def _limit(self, capacity: float | None) -> int | None:
        if self.admission != "capacity" or capacity is None:
            return None
        return max(1, math.floor(self.headroom * capacity))

    def reserve(self, *, kind: Kind = Kind.FILE, account: str = "", audio_s: float = 0.0) -> Slot:
        """Admit a task or raise ``Overloaded`` with a ``retry_after`` estimate (seconds).

        ``account`` shares the workers fairly between accounts; ``audio_s`` is the estimated
        length of the result in seconds (whole files are due by it).
        """
        with self._lock:
            if self._in_flight >= self.capacity:
                retry = max(1, math.ceil(self._in_flight / self.workers))
                raise Overloaded(
                    f"all {self.workers} synthesis workers are busy and the queue is full; retry later",
                    retry_after=min(retry, 30),
                )
            capacity = self.stream_capacity() if kind is Kind.STREAM else None
            limit = self._limit(capacity)
            if limit is not None and len(self._streams) >= limit:
                raise Overloaded(
                    f"{len(self._streams)} live streams already use this server's measured capacity "
                    f"({capacity:.1f} real-time streams); retry when one ends",
                    retry_after=self._stream_retry_after(),
                )
            if kind is Kind.STREAM and self.admission == "capacity":
                self._check_start()
            self._in_flight += 1
            task = Task(kind=kind, account=account, audio_s=max(0.0, audio_s))
            if kind is Kind.STREAM:
                self._streams.append(task)
        return Slot(self, task)

    def _check_start(self) -> None:
        """Refuse a stream that would start behind too many streams still starting.

        Starting streams' chunks are all due soon, and they run ``min(workers, parallel)`` at a
        time: the new stream's first audio would come after ``(starting + 1)`` first chunks per
        job, which must stay within ``start_s`` and within ``START_BUFFER_SHARE`` of the audio a
        first chunk holds (else the first listener's buffer runs dry before its next chunk).
        """
        first = self.throughput.first_chunk()
        now = time.monotonic()
        starting = sum(1 for t in self._streams if t.starting(now))
        if first is None or not starting:
            return
        wall_s, audio_s = first
        jobs = jobs_at_once(workers=self.workers, parallel=self.parallel)
        budget = min(self.start_s, START_BUFFER_SHARE * audio_s)
        if (starting + 1) * wall_s / jobs <= budget:
            return
        raise Overloaded(
            f"{starting} live streams are starting and a first chunk takes about {wall_s:.2f} s here; "
            "a new stream now would make them stall or wait too long for its first audio; retry in a moment",
            retry_after=min(30, max(1, math.ceil(starting * wall_s / jobs))),
        )

    def _stream_retry_after(self) -> int:
        """Seconds until the stream playing that should end first has played its estimate."""
        now = time.monotonic()
        left = [max(0.0, t.arrival + t.audio_s - now) for t in self._streams if t.audio_s > 0]
        return min(30, max(1, math.ceil(min(left)))) if left else 5

    def _release(self, task: Task) -> None:
        with self._lock:
            self._in_flight -= 1
            if task.kind is Kind.STREAM:
                self._streams = [t for t in self._streams if t is not task]

    def _submit(self, slot: Slot, fn: Callable[[], T]) -> Future[T]:
        try:
            future = self._executor.submit(fn, task=slot.task)
        except BaseException:
            slot.release()
            raise
        future.add_done_callback(lambda _f: slot.release())
        return future

    async def run(self, slot: Slot, fn: Callable[[], T]) -> T:
        """Run ``fn`` as one job of ``slot``'s task and await its result (releases ``slot``)."""
        future = self._submit(slot, fn)
        try:
            return await asyncio.wrap_future(future)
        finally:
            future.cancel()

    async def iterate(
        self,
        slot: Slot,
        make_iter: Callable[[], Iterator[T]],
        *,
        seconds: Callable[[T], float] | None = None,
        keep: bool = False,
    ) -> AsyncGenerator[T, None]:
        """Run the iterator ``make_iter()`` on the workers, one job per item, and yield its items here.

        Each item is one job of ``slot``'s task, so chunks of concurrent tasks interleave in
        deadline order (:mod:`~voxclone.service.scheduling`); ``seconds(item)`` is the audio an
        item holds (what moves a stream's deadline and teaches the pool its speed). One iterator is
        never advanced by two threads at once.

        Leaving the ``async for`` early (client gone, error) stops the iterator before its next
        item and closes it; errors raised on a worker are re-raised here. ``slot`` is released when
        the iterator ends, fails or is stopped, unless ``keep`` (a session that synthesizes again
        on the same place releases it itself).
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()
        state: dict[str, Any] = {"iterator": None}
        task = slot.task

        def put(kind: str, value: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
            except RuntimeError:  # the event loop is gone: nobody is listening any more
                stop.set()

        def finish(kind: str, value: Any) -> None:
            task.producing = False
            iterator = state["iterator"]
            try:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()
            finally:
                if not keep:
                    slot.release()
                put(kind, value)

        def step() -> None:
            started = time.monotonic()
            try:
                if stop.is_set():
                    finish("done", None)
                    return
                if state["iterator"] is None:
                    state["iterator"] = iter(make_iter())
                item = next(state["iterator"], _END)
            except BaseException as e:  # forwarded to the consumer, which re-raises it
                finish("error", e)
                return
            if item is _END:
                finish("done", None)
                return
            now = time.monotonic()
            audio_s = seconds(cast(T, item)) if seconds is not None else 0.0
            first = task.record(audio_s=audio_s, wall_s=now - started, now=now)
            if seconds is not None:
                self.throughput.record(
                    audio_s=audio_s,
                    wall_s=now - started,
                    busy=self._executor.running,
                    first=first and task.kind is Kind.STREAM,
                )
            put("item", item)
            try:
                submit()
            except RuntimeError as e:  # shutting down
                finish("error", e)

        def on_done(future: Future[None]) -> None:
            if future.cancelled():  # stopped by the consumer, or dropped by shutdown, before it ran
                finish("error", Overloaded("the server is shutting down; retry", retry_after=1))

        def submit() -> None:
            task.producing = True
            future = self._executor.submit(step, task=task)
            state["future"] = future
            future.add_done_callback(on_done)

        try:
            submit()
        except BaseException:
            if not keep:
                slot.release()
            raise
        try:
            while True:
                kind, value = await queue.get()
                if kind == "item":
                    yield value
                elif kind == "error":
                    raise value
                else:
                    return
        finally:
            stop.set()
            waiting = state.get("future")
            if waiting is not None:
                waiting.cancel()  # not started yet: the place is freed now, not when its turn comes

    def close(self) -> None:
        """Stop accepting work; running jobs finish, waiting ones are cancelled."""
        self._executor.shutdown()
