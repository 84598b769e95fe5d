"""The bounded synthesis pool: admission, streaming hand-off, early stop, fairness."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from voxclone.errors import Overloaded
from voxclone.service.pool import SynthesisPool
from voxclone.service.scheduling import Kind


def _items(name: str, n: int, log: list[str], closed: list[str], delay: float = 0.02) -> Iterator[str]:
    try:
        for i in range(1, n + 1):
            time.sleep(delay)
            log.append(f"{name}{i}")
            yield f"{name}{i}"
    finally:
        closed.append(name)


def _one_second(_item: object) -> float:
    return 1.0


def test_admission_is_bounded() -> None:
    pool = SynthesisPool(workers=1, queue_size=1)
    slots = [pool.reserve(), pool.reserve()]
    with pytest.raises(Overloaded) as err:
        pool.reserve()
    assert err.value.retry_after >= 1 and err.value.code == "server_busy"
    slots[0].release()
    slots[0].release()  # idempotent
    assert pool.in_flight == 1
    slots[1].release()
    pool.close()


async def test_iterate_streams_errors_and_early_stop() -> None:
    pool = SynthesisPool(workers=1, queue_size=4)
    log: list[str] = []
    closed: list[str] = []
    got = [x async for x in pool.iterate(pool.reserve(), lambda: _items("a", 3, log, closed))]
    assert got == ["a1", "a2", "a3"] and closed == ["a"]

    def broken() -> Iterator[str]:
        yield "ok"
        raise ValueError("engine failed")

    with pytest.raises(ValueError, match="engine failed"):
        _ = [x async for x in pool.iterate(pool.reserve(), broken)]

    stream = pool.iterate(pool.reserve(), lambda: _items("b", 100, log, closed))
    async for _ in stream:
        break
    await stream.aclose()  # type: ignore[attr-defined]
    for _ in range(100):
        if "b" in closed:
            break
        await asyncio.sleep(0.01)
    assert "b" in closed and len([x for x in log if x.startswith("b")]) < 10
    for _ in range(100):
        if pool.in_flight == 0:
            break
        await asyncio.sleep(0.01)
    assert pool.in_flight == 0
    pool.close()


async def test_streams_take_turns() -> None:
    pool = SynthesisPool(workers=1, queue_size=4)
    log: list[str] = []
    closed: list[str] = []

    async def consume(name: str) -> list[str]:
        slot = pool.reserve(kind=Kind.STREAM)
        return [
            x async for x in pool.iterate(slot, lambda: _items(name, 6, log, closed), seconds=_one_second)
        ]

    first = asyncio.create_task(consume("a"))
    while "a1" not in log:
        await asyncio.sleep(0.005)
    second = await consume("b")
    await first
    assert second == [f"b{i}" for i in range(1, 7)]
    assert log.index("b1") < log.index("a4")  # b's first chunk did not wait for all of a
    pool.close()


def test_default_layout_shares_the_cores_between_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    from voxclone.settings import Settings

    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert (Settings().resolved_workers(), Settings().resolved_onnx_threads()) == (8, 2)
    assert Settings().parallel_jobs() == 8 and Settings(onnx_threads=16).parallel_jobs() == 1
    assert Settings(synthesis_workers=16).resolved_onnx_threads() == 1
    assert Settings(onnx_threads=3).resolved_onnx_threads() == 3
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert (Settings().resolved_workers(), Settings().resolved_onnx_threads()) == (1, 2)


def test_the_admission_settings_reach_the_pool(tmp_path: Path) -> None:
    from toy_engine import ToyEngine

    from voxclone.service.container import Services
    from voxclone.settings import Settings

    settings = Settings(data_dir=tmp_path, stream_headroom=0.7, stream_start_s=0.4, admission="capacity")
    services = Services.build(settings=settings, engine=ToyEngine())
    try:
        pool = services.pool
        assert (pool.headroom, pool.start_s, pool.admission) == (0.7, 0.4, "capacity")
    finally:
        services.close()
