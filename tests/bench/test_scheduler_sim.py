"""The burst simulation (``bench/scheduler_sim.py``) drives the real pool to the end of every stream."""

from __future__ import annotations

import asyncio

import pytest
from script_module import load_script

sim = load_script("bench/scheduler_sim.py", "bench_scheduler_sim")


@pytest.mark.parametrize("variant", ["rule", "off"])
def test_every_listener_of_a_burst_is_served_in_the_end(variant: str) -> None:
    run = asyncio.run(sim._burst(0.01, 3, variant=variant))  # chunks of 19-98 ms: far faster than real time
    assert (run["listeners"], run["variant"]) == (3, variant)
    listeners = run["per_listener"]
    assert len(listeners) == 3
    # a first chunk sleeps 18.5 ms, so every first audio reads at least 0.01 s (rounded to 10 ms)
    assert all(x["first_audio_s"] >= 0.01 and x["refused"] >= 0 for x in listeners)
    assert listeners[0]["refused"] == 0  # the first of a burst is always let in
