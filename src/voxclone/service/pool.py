"""A bounded pool for CPU-heavy work (synthesis, enrollment).

``workers`` jobs run at once on worker threads; at most ``queue_size`` more wait. Past that,
:meth:`SynthesisPool.reserve` raises ``Overloaded`` (503 ``server_busy`` with ``Retry-After``)
immediately instead of letting latency grow without bound.

Streams are scheduled chunk by chunk: the first chunk of a new stream goes ahead of the
continuation chunks of streams already playing (which have audio buffered at the client), so
time to first byte stays short under load; admission control bounds how long a continuation can
be passed over.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import queue
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

from voxclone.errors import Overloaded

T = TypeVar("T")
_END = object()


FIRST_CHUNK = 0
NORMAL = 1
_STOP = 2


class _PriorityExecutor:
    """Worker threads taking jobs by (priority, arrival order)."""

    def __init__(self, workers: int, name: str):
        self._queue: queue.PriorityQueue[tuple[int, int, Future[Any] | None, Callable[[], Any] | None]] = (
            queue.PriorityQueue()
        )
        self._seq = itertools.count()
        self._closed = False
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[[], T], *, priority: int = NORMAL) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the synthesis pool is shut down")
            self._queue.put((priority, next(self._seq), future, fn))
        return future

    def _work(self) -> None:
        while True:
            _, _, future, fn = self._queue.get()
            if future is None or fn is None:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn()
            except BaseException as e:  # handed to whoever awaits the future
                future.set_exception(e)
            else:
                future.set_result(result)

    def shutdown(self) -> None:
        """Cancel waiting jobs, let running ones finish, stop the threads."""
        with self._lock:
            self._closed = True
            pending = []
            while True:
                try:
                    pending.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for _, _, future, _ in pending:
                if future is not None:
                    future.cancel()
            for _ in self._threads:
                self._queue.put((_STOP, next(self._seq), None, None))
        for thread in self._threads:
            thread.join()


class Slot:
    """A reserved place in the pool; released exactly once, by the job or by :meth:`release`."""

    def __init__(self, pool: SynthesisPool):
        self._pool = pool
        self._released = False
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self._pool._release()


class SynthesisPool:
    """Bounded worker pool.

    Parameters
    ----------
    workers : int
        Jobs that run at once (threads), at least 1.
    queue_size : int
        Jobs that may wait for a worker, at least 0.
    """

    def __init__(self, *, workers: int, queue_size: int):
        self.workers = max(1, workers)
        self.capacity = self.workers + max(0, queue_size)
        self._executor = _PriorityExecutor(self.workers, "voxclone-synth")
        self._lock = threading.Lock()
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        """Jobs running or waiting."""
        return self._in_flight

    def reserve(self) -> Slot:
        """Take a place or raise ``Overloaded`` with a ``retry_after`` estimate (seconds)."""
        with self._lock:
            if self._in_flight >= self.capacity:
                retry = max(1, math.ceil(self._in_flight / self.workers))
                raise Overloaded(
                    f"all {self.workers} synthesis workers are busy and the queue is full; retry later",
                    retry_after=min(retry, 30),
                )
            self._in_flight += 1
        return Slot(self)

    def _release(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _submit(self, slot: Slot, fn: Callable[[], T]) -> Future[T]:
        try:
            future = self._executor.submit(fn, priority=NORMAL)
        except BaseException:
            slot.release()
            raise
        future.add_done_callback(lambda _f: slot.release())
        return future

    async def run(self, slot: Slot, fn: Callable[[], T]) -> T:
        """Run ``fn`` on a worker in ``slot`` and await its result."""
        future = self._submit(slot, fn)
        try:
            return await asyncio.wrap_future(future)
        finally:
            future.cancel()

    async def iterate(self, slot: Slot, make_iter: Callable[[], Iterator[T]]) -> AsyncGenerator[T, None]:
        """Run the iterator ``make_iter()`` on the workers and yield its items here as they come.

        Each item is produced by a separate job that re-queues itself behind the jobs already
        waiting, so concurrent streams take turns chunk by chunk (round robin), and a new
        stream's first chunk goes ahead of other streams' continuations: every stream gets its
        first chunk early instead of waiting for whole requests ahead of it. One iterator is
        never advanced by two threads at once.

        Leaving the ``async for`` early (client gone, error) stops the iterator before its next
        item and closes it; errors raised on a worker are re-raised here. ``slot`` is released
        when the iterator ends, fails or is stopped.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()
        state: dict[str, Any] = {"iterator": None}

        def put(kind: str, value: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
            except RuntimeError:  # the event loop is gone: nobody is listening any more
                stop.set()

        def finish(kind: str, value: Any) -> None:
            iterator = state["iterator"]
            try:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()
            finally:
                slot.release()
                put(kind, value)

        def step() -> None:
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
            put("item", item)
            try:
                submit(NORMAL)
            except RuntimeError as e:  # shutting down
                finish("error", e)

        def on_done(future: Future[None]) -> None:
            if future.cancelled():  # dropped by shutdown before it ran
                finish("error", Overloaded("the server is shutting down; retry", retry_after=1))

        def submit(priority: int) -> None:
            self._executor.submit(step, priority=priority).add_done_callback(on_done)

        try:
            submit(FIRST_CHUNK)
        except BaseException:
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

    def close(self) -> None:
        """Stop accepting work; running jobs finish, waiting ones are cancelled."""
        self._executor.shutdown()
