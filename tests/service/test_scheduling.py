"""The chunk scheduler: deadline order, fair share per account, capacity admission, cancellation."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from voxclone.errors import Overloaded
from voxclone.service.pool import Slot, SynthesisPool
from voxclone.service.scheduling import RAMP_LEAD_S, Kind, Task, Throughput, Waiting, choose


def _waiting(*tasks: Task) -> list[Waiting]:
    return [Waiting(t, i) for i, t in enumerate(tasks)]


def test_a_new_streams_first_chunk_overtakes_a_long_file() -> None:
    now = 100.0
    long_file = Task(kind=Kind.FILE, account="a", audio_s=60.0, arrival=now - 5)
    stream = Task(kind=Kind.STREAM, account="a", arrival=now)
    assert choose(_waiting(long_file, stream), now=now, served={}) == 1


def test_a_playing_stream_waits_until_its_listener_needs_more() -> None:
    now = 100.0
    playing = Task(kind=Kind.STREAM, account="a", arrival=now - 3)
    playing.record(audio_s=2.0, wall_s=0.2, now=now - 2.5)  # playback started 2.5 s ago
    playing.record(audio_s=4.0, wall_s=0.2, now=now - 1.0)  # 6 s produced: 3.5 s still buffered
    enroll = Task(kind=Kind.ENROLL, account="b", arrival=now - 0.1)
    assert playing.deadline() > now
    assert choose(_waiting(playing, enroll), now=now, served={}) == 1
    # nothing else waiting: the pool does not idle, it runs the stream ahead of time
    assert choose(_waiting(playing), now=now, served={}) == 0
    # its buffer about to run dry: due, and ahead of a file that can wait
    assert (
        choose(_waiting(Task(kind=Kind.FILE, audio_s=30.0, arrival=now), playing), now=now + 3.3, served={})
        == 1
    )


def test_two_accounts_take_turns_when_both_are_due() -> None:
    now = 100.0
    burst = [Task(kind=Kind.STREAM, account="a", arrival=now - 1 + i * 0.01) for i in range(3)]
    other = Task(kind=Kind.STREAM, account="b", arrival=now - 0.5)
    waiting = _waiting(*burst, other)
    served: dict[str, int] = {}
    order = []
    for turn in range(4):
        i = choose(waiting, now=now, served=served)
        order.append(waiting[i].task.account)
        served[waiting[i].task.account] = turn
        waiting.pop(i)
    assert order == ["a", "b", "a", "a"]


def test_background_work_runs_only_when_nothing_else_waits() -> None:
    now = 100.0
    background = Task(kind=Kind.BACKGROUND, arrival=now - 1000)
    file = Task(kind=Kind.FILE, audio_s=500.0, arrival=now)
    assert choose(_waiting(background, file), now=now, served={}) == 1
    assert choose(_waiting(background), now=now, served={}) == 0


def test_throughput_is_unknown_until_measured() -> None:
    meter = Throughput()
    meter.record(audio_s=2.0, wall_s=0.5)
    assert meter.capacity(workers=1, parallel=1) is None
    meter.record(audio_s=6.0, wall_s=1.5)
    assert meter.capacity(workers=1, parallel=1) == pytest.approx(4.0)


def test_capacity_scales_only_as_far_as_the_cores_allow_until_measured_at_saturation() -> None:
    meter = Throughput()
    meter.record(audio_s=4.0, wall_s=2.0)  # one job alone: 2 audio-s per s
    assert meter.capacity(workers=2, parallel=2) == pytest.approx(4.0)  # one core per job
    assert meter.capacity(workers=2, parallel=1) == pytest.approx(2.0)  # jobs share the cores
    meter.record(audio_s=1.3, wall_s=1.0, busy=2)  # both workers busy: 1.3 each, 2.6 in all
    assert meter.capacity(workers=2, parallel=2) == pytest.approx(2.6)


def test_streams_are_admitted_by_measured_capacity() -> None:
    pool = SynthesisPool(workers=1, queue_size=8)
    try:
        pool.throughput.record(audio_s=2.5, wall_s=1.0)  # 2.5 real-time streams; 90 %: 2 admitted
        assert pool.stream_limit() == 2
        first, second = pool.reserve(kind=Kind.STREAM), pool.reserve(kind=Kind.STREAM, audio_s=12.0)
        with pytest.raises(Overloaded) as refused:
            pool.reserve(kind=Kind.STREAM)
        assert refused.value.code == "server_busy" and 1 <= refused.value.retry_after <= 30
        file = pool.reserve(kind=Kind.FILE)  # a whole file is not refused for the streams' sake
        first.release()
        third = pool.reserve(kind=Kind.STREAM)  # a stream ended: room again
        assert pool.streams == 2
        for slot in (second, third, file):
            slot.release()
        assert (pool.streams, pool.in_flight) == (0, 0)
    finally:
        pool.close()


def test_the_start_estimate_counts_only_streams_first_chunks() -> None:
    meter = Throughput()
    meter.record(audio_s=5.0, wall_s=2.0)
    assert meter.first_chunk() is None
    meter.record(audio_s=1.0, wall_s=0.2, first=True)
    meter.record(audio_s=1.4, wall_s=0.4, first=True)
    assert meter.first_chunk() == pytest.approx((0.3, 1.2))


def test_a_stream_counts_as_starting_until_its_audio_is_well_ahead_of_playback() -> None:
    now = 100.0
    stream = Task(kind=Kind.STREAM, arrival=now)
    assert stream.starting(now)  # no audio yet
    stream.record(audio_s=1.0, wall_s=0.3, now=now)
    stream.producing = True
    assert stream.starting(now + 0.2)  # 0.8 s ahead of the listener
    stream.producing = False
    assert not stream.starting(now + 0.2)  # a session between segments makes nothing: not starting
    stream.producing = True
    stream.record(audio_s=RAMP_LEAD_S, wall_s=0.5, now=now + 0.5)
    assert not stream.starting(now + 0.5)
    assert not Task(kind=Kind.FILE, arrival=now).starting(now)


def _learned(pool: SynthesisPool, *, first_wall_s: float, first_audio_s: float = 2.0) -> None:
    pool.throughput.record(audio_s=20.0, wall_s=2.0)  # 10 real-time streams: capacity is no limit
    pool.throughput.record(audio_s=first_audio_s, wall_s=first_wall_s, first=True)


def _play(slot: Slot, *, ahead_s: float) -> None:
    """The slot's stream is making audio and has ``ahead_s`` of it made ahead of its listener."""
    slot.task.producing = True
    slot.task.record(audio_s=ahead_s, wall_s=0.1, now=time.monotonic())


def test_a_burst_of_streams_is_let_in_only_as_fast_as_first_chunks_are_made() -> None:
    pool = SynthesisPool(workers=1, queue_size=16, start_s=1.0)
    try:
        _learned(pool, first_wall_s=0.3)  # a first chunk: 0.3 s for 2 s of audio
        admitted = [pool.reserve(kind=Kind.STREAM, account=str(i)) for i in range(3)]  # 0.3, 0.6, 0.9 s
        with pytest.raises(Overloaded) as refused:
            pool.reserve(kind=Kind.STREAM)  # would wait 1.2 s for its first audio
        assert refused.value.code == "server_busy" and refused.value.retry_after == 1
        file = pool.reserve(kind=Kind.FILE)  # whole files are not held to a start time
        _play(admitted[0], ahead_s=0.5)  # playing, but only just ahead of its listener: still starting
        with pytest.raises(Overloaded):
            pool.reserve(kind=Kind.STREAM)
        _play(admitted[0], ahead_s=RAMP_LEAD_S)  # well ahead now
        admitted.append(pool.reserve(kind=Kind.STREAM))
        for slot in (*admitted, file):
            slot.release()
        assert (pool.streams, pool.in_flight) == (0, 0)
    finally:
        pool.close()


def test_a_burst_is_held_to_what_the_first_listeners_buffer_covers() -> None:
    pool = SynthesisPool(workers=1, queue_size=16, start_s=10.0)
    try:
        _learned(pool, first_wall_s=0.3, first_audio_s=1.0)  # 0.75 × 1.0 s of audio: 2 first chunks
        admitted = [pool.reserve(kind=Kind.STREAM, account=str(i)) for i in range(2)]
        with pytest.raises(Overloaded):
            pool.reserve(kind=Kind.STREAM)  # its first chunk would leave the first listener dry
        for slot in admitted:
            slot.release()
    finally:
        pool.close()


async def test_a_session_idle_between_segments_does_not_hold_back_new_streams() -> None:
    pool = SynthesisPool(workers=1, queue_size=16, start_s=1.0)
    try:
        _learned(pool, first_wall_s=0.6)  # two first chunks would take 1.2 s
        session = pool.reserve(kind=Kind.STREAM)
        segment = pool.iterate(session, lambda: iter(["a"]), seconds=lambda _: 1.0, keep=True)
        _ = [x async for x in segment]  # the session spoke its segment and waits for more text
        assert not session.task.starting(time.monotonic())
        pool.reserve(kind=Kind.STREAM).release()  # let in: the idle session is not starting
        session.release()
    finally:
        pool.close()


def test_a_slow_first_chunk_still_lets_one_stream_start() -> None:
    pool = SynthesisPool(workers=2, queue_size=16, parallel=2, start_s=1.0)
    try:
        _learned(pool, first_wall_s=1.5)  # slower than start_s on its own
        first = pool.reserve(kind=Kind.STREAM)  # nobody else is starting: let in
        with pytest.raises(Overloaded):
            pool.reserve(kind=Kind.STREAM)  # two jobs at once: (1 + 1) × 1.5 / 2 > 1.0
        first.release()
        pool.reserve(kind=Kind.STREAM).release()
        queue = SynthesisPool(workers=1, queue_size=16, admission="queue", start_s=1.0)
        _learned(queue, first_wall_s=1.5)
        slots = [queue.reserve(kind=Kind.STREAM) for _ in range(3)]  # queue admission: the bound alone
        for slot in slots:
            slot.release()
        queue.close()
    finally:
        pool.close()


async def test_a_streams_first_chunk_teaches_the_pool_its_start_time() -> None:
    pool = SynthesisPool(workers=1, queue_size=4)
    try:
        slot = pool.reserve(kind=Kind.FILE)
        _ = [x async for x in pool.iterate(slot, lambda: iter(["a", "b"]), seconds=lambda _: 1.0)]
        assert pool.throughput.first_chunk() is None  # a whole file's chunks are not a start
        slot = pool.reserve(kind=Kind.STREAM)
        _ = [x async for x in pool.iterate(slot, lambda: iter(["a", "b"]), seconds=lambda _: 1.5)]
        first = pool.throughput.first_chunk()
        assert first is not None and first[0] > 0 and first[1] == 1.5
    finally:
        pool.close()


def test_queue_admission_ignores_capacity() -> None:
    pool = SynthesisPool(workers=1, queue_size=3, admission="queue")
    try:
        pool.throughput.record(audio_s=1.0, wall_s=1.0)
        slots = [pool.reserve(kind=Kind.STREAM) for _ in range(4)]
        with pytest.raises(Overloaded):
            pool.reserve(kind=Kind.STREAM)
        for slot in slots:
            slot.release()
    finally:
        pool.close()


class _Busy:
    """A job that holds the pool's only synthesis worker until :meth:`release` (at most 60 s)."""

    def __init__(self, pool: SynthesisPool, *, account: str = "") -> None:
        self.gate = threading.Event()
        self._started = threading.Event()
        self.job = asyncio.ensure_future(pool.run(pool.reserve(kind=Kind.FILE, account=account), self._hold))

    def _hold(self) -> None:
        self._started.set()
        self.gate.wait(60)

    async def started(self) -> None:
        await asyncio.to_thread(self._started.wait, 10)

    async def release(self) -> None:
        self.gate.set()
        await self.job


async def test_a_stream_left_while_its_next_chunk_waits_frees_its_place_at_once() -> None:
    pool = SynthesisPool(workers=1, queue_size=4)

    def chunks() -> Iterator[str]:
        yield "first"
        yield "second"

    busy: _Busy | None = None
    try:
        stream = pool.iterate(pool.reserve(kind=Kind.STREAM), chunks, seconds=lambda _: 1.0)
        assert await stream.__anext__() == "first"
        busy = _Busy(pool)
        await busy.started()  # the only worker is busy, "second" waits
        await stream.aclose()  # type: ignore[attr-defined]
        assert (pool.streams, pool.in_flight) == (0, 1)  # freed without waiting for the worker
        await busy.release()
        assert pool.in_flight == 0
    finally:
        if busy is not None:
            busy.gate.set()
        pool.close()


async def test_chunks_of_two_accounts_interleave_on_one_worker() -> None:
    pool = SynthesisPool(workers=1, queue_size=8)
    log: list[str] = []

    def items(name: str) -> Iterator[str]:
        log.append(name)
        yield name

    async def stream(name: str, account: str) -> list[str]:
        slot = pool.reserve(kind=Kind.STREAM, account=account)
        return [x async for x in pool.iterate(slot, lambda: items(name), seconds=lambda _: 1.0)]

    busy = _Busy(pool, account="z")
    try:
        await busy.started()
        streams = []
        for name, account in (("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b")):
            streams.append(asyncio.ensure_future(stream(name, account)))
            await asyncio.sleep(0.01)  # arrival order
        await busy.release()
        await asyncio.gather(*streams)
        assert log == ["a1", "b1", "a2", "a3"]
    finally:
        busy.gate.set()
        pool.close()


async def test_an_enrollment_does_not_wait_for_busy_workers() -> None:
    pool = SynthesisPool(workers=1, queue_size=4)
    busy = _Busy(pool)
    try:
        await busy.started()  # the only synthesis worker is busy
        enrolled = await asyncio.wait_for(pool.run(pool.reserve(kind=Kind.ENROLL), lambda: "profile"), 5)
        assert enrolled == "profile" and not busy.gate.is_set()
        await busy.release()
    finally:
        busy.gate.set()
        pool.close()
