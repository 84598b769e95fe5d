"""Credit holds on SQLite and PostgreSQL: reservations, growth, settlement and recovery."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from voxclone.errors import InsufficientCredits
from voxclone.service.accounts import AccountRef, AccountService
from voxclone.service.holds import CreditHolds
from voxclone.settings import Settings
from voxclone.store import repositories as repo
from voxclone.store.db import Database, open_database
from voxclone.store.ids import new_id
from voxclone.store.models import CreditHold, utcnow

PER_SECOND = Decimal("0.001")  # one micro-credit per millisecond


@pytest.fixture
def db(make_settings: Callable[..., Settings]) -> Iterator[Database]:
    database = open_database(make_settings())
    yield database
    database.close()


def _holds(db: Database, timeout_s: int = 300) -> CreditHolds:
    return CreditHolds(db=db, cost_per_second=PER_SECOND, timeout_s=timeout_s)


def _account(db: Database, credits: str) -> AccountRef:
    ref, _ = AccountService(db=db, settings=Settings()).create_key(credits=credits)
    return ref


def _state(db: Database, account_id: str) -> tuple[int, int, list[tuple[int, int]]]:
    """``(balance, held, [(amount, audio_ms) of speech rows])``."""
    with db.sessions() as session:
        balance, held = repo.balance_and_held(session, account_id=account_id)
        rows = [
            (e.amount_micro, e.audio_ms)
            for e in repo.ledger_entries(session, account_id=account_id)
            if e.kind == "speech"
        ]
    return balance, held, rows


def _hold_ids(db: Database, account_id: str) -> set[str]:
    """The account's holds (the PostgreSQL database is shared by the whole test session)."""
    with db.sessions() as session:
        return {h.id for h in repo.list_holds(session) if h.account_id == account_id}


def _drop_holds(db: Database, account_id: str) -> None:
    for hold_id in _hold_ids(db, account_id):
        with db.write_sessions.begin() as session:
            repo.take_hold(session, hold_id=hold_id)


def _foreign_hold(
    db: Database, account_id: str, *, owner: str, delivered_ms: int, age_s: int, reserved: int = 5_000
) -> str:
    """A hold row as another server process would have left it."""
    hold_id = new_id("hold")
    when = utcnow() - timedelta(seconds=age_s)
    with db.write_sessions.begin() as session:
        session.add(
            CreditHold(
                id=hold_id,
                account_id=account_id,
                owner=owner,
                reserved_micro=reserved,
                delivered_ms=delivered_ms,
                reference="fa_low",
                created_at=when,
                updated_at=when,
            )
        )
    return hold_id


def test_reserve_is_bounded_by_what_is_available(db: Database) -> None:
    holds = _holds(db)
    account = _account(db, "0.010")  # 10,000 micro-credits
    a = holds.reserve(account_id=account.id, min_micro=2_000, want_micro=6_000, reference="v")
    b = holds.reserve(account_id=account.id, min_micro=2_000, want_micro=6_000, reference="v")
    assert (a.reserved_micro, b.reserved_micro) == (6_000, 4_000)  # the second gets what is left
    with pytest.raises(InsufficientCredits) as err:
        holds.reserve(account_id=account.id, min_micro=1, want_micro=1, reference="v")
    assert "held by requests in progress" in err.value.message
    assert _state(db, account.id) == (10_000, 10_000, [])
    assert holds.settle(a, delivered_ms=1_500) == 1_500
    assert holds.settle(a, delivered_ms=1_500) == 0  # once
    assert _state(db, account.id) == (8_500, 4_000, [(-1_500, 1_500)])


def test_concurrent_reservations_never_exceed_the_balance(db: Database) -> None:
    """40 threads on two 'servers' reserve at once; what they hold never exceeds the balance."""
    account = _account(db, "0.010")
    servers = [_holds(db), _holds(db)]
    start = threading.Barrier(40)
    held: list[int] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        start.wait()
        try:
            hold = servers[i % 2].reserve(
                account_id=account.id, min_micro=1_000, want_micro=1_000, reference="v"
            )
        except InsufficientCredits:
            return
        with lock:
            held.append(hold.reserved_micro)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert held == [1_000] * 10
    assert _state(db, account.id) == (10_000, 10_000, [])
    _drop_holds(db, account.id)


def test_cover_records_delivery_and_grows_only_within_the_balance(db: Database) -> None:
    holds = _holds(db)
    account = _account(db, "0.030")
    hold = holds.reserve(account_id=account.id, min_micro=5_000, want_micro=5_000, reference="v")
    other = holds.reserve(account_id=account.id, min_micro=10_000, want_micro=10_000, reference="v")
    assert holds.cover(hold, delivered_ms=4_000, needed_ms=5_000)
    with db.sessions() as session:
        row = repo.get_hold(session, hold_id=hold.id)
        assert row is not None and (row.delivered_ms, row.reserved_micro) == (4_000, 5_000)
    # past the reservation: it grows by at least 10 s of audio when the account has it
    assert holds.cover(hold, delivered_ms=5_000, needed_ms=6_000)
    assert hold.reserved_micro == 15_000
    assert _state(db, account.id)[1] == 25_000
    # 20,000 is all the account can give this hold; 20,001 is refused and nothing grows
    assert holds.cover(hold, delivered_ms=15_000, needed_ms=20_000)
    assert hold.reserved_micro == 20_000
    assert not holds.cover(hold, delivered_ms=20_000, needed_ms=20_001)
    assert hold.reserved_micro == 20_000 and hold.recorded_ms == 20_000
    holds.settle(other, delivered_ms=0)
    holds.settle(hold, delivered_ms=20_000)
    assert _state(db, account.id) == (10_000, 0, [(-20_000, 20_000)])


def test_sweep_settles_stale_holds_to_what_they_delivered(db: Database) -> None:
    holds = _holds(db, timeout_s=60)
    account = _account(db, "1")
    _foreign_hold(db, account.id, owner="elsewhere:1:1:aa", delivered_ms=2_345, age_s=120)
    fresh = _foreign_hold(db, account.id, owner="elsewhere:1:1:aa", delivered_ms=999, age_s=5)
    running = holds.reserve(account_id=account.id, min_micro=1_000, want_micro=1_000, reference="v")
    with db.write_sessions.begin() as session:  # this server's own hold, not refreshed for long
        session.get(CreditHold, running.id).updated_at = utcnow() - timedelta(seconds=600)  # type: ignore[union-attr]
    holds.sweep()
    holds.sweep()  # settles once
    balance, held, rows = _state(db, account.id)
    assert rows == [(-2_345, 2_345)] and balance == 10**6 - 2_345
    assert held == 5_000 + 1_000  # the fresh foreign hold and the running one remain
    assert _hold_ids(db, account.id) == {fresh, running.id}
    holds.settle(running, delivered_ms=0)
    _drop_holds(db, account.id)


def test_a_hold_swept_elsewhere_is_never_charged_twice(db: Database) -> None:
    mine, other_server = _holds(db, timeout_s=60), _holds(db, timeout_s=60)
    account = _account(db, "1")
    hold = mine.reserve(account_id=account.id, min_micro=10_000, want_micro=10_000, reference="v")
    assert mine.cover(hold, delivered_ms=3_000, needed_ms=4_000)
    with db.write_sessions.begin() as session:  # its refreshes stopped (the event loop hung)
        session.get(CreditHold, hold.id).updated_at = utcnow() - timedelta(seconds=600)  # type: ignore[union-attr]
    other_server.sweep()  # charges the recorded 3 s
    assert _hold_ids(db, account.id) == set()
    assert not mine.cover(hold, delivered_ms=4_000, needed_ms=5_000)  # the stream must stop
    assert hold.lost
    mine.settle(hold, delivered_ms=4_000)  # charges only the second not recorded before
    assert _state(db, account.id) == (10**6 - 4_000, 0, [(-3_000, 3_000), (-1_000, 1_000)])


def test_start_settles_holds_of_dead_processes_of_this_host(db: Database) -> None:
    holds = _holds(db)
    host = holds.owner.split(":")[0]
    account = _account(db, "1")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    orphan = _foreign_hold(db, account.id, owner=f"{host}:{dead_pid}:1:aa", delivered_ms=1_234, age_s=1)
    alive = _foreign_hold(
        db, account.id, owner=holds.owner.rsplit(":", 1)[0] + ":bb", delivered_ms=7, age_s=2
    )
    remote = _foreign_hold(db, account.id, owner="another-host:1:1:cc", delivered_ms=8, age_s=3)
    holds.sweep()  # not stale yet, and only a start looks at owners
    assert _hold_ids(db, account.id) == {orphan, alive, remote}
    holds.sweep(at_start=True)
    assert _hold_ids(db, account.id) == {alive, remote}
    assert _state(db, account.id)[2] == [(-1_234, 1_234)]
    _drop_holds(db, account.id)


async def test_upkeep_refreshes_running_holds_and_sweeps_stale_ones(db: Database) -> None:
    holds = _holds(db, timeout_s=2)  # refresh and sweep every 0.5 s
    account = _account(db, "1")
    running = holds.reserve(account_id=account.id, min_micro=1_000, want_micro=1_000, reference="v")
    dropped = holds.reserve(account_id=account.id, min_micro=1_000, want_micro=1_000, reference="v")
    dropped_id = dropped.id
    del dropped  # a request lost without settling: no longer refreshed
    gc.collect()
    stale = _foreign_hold(db, account.id, owner="elsewhere:1:1:aa", delivered_ms=500, age_s=60)

    def remaining() -> set[str]:
        return _hold_ids(db, account.id)

    task = asyncio.create_task(holds.keep())
    try:
        for _ in range(400):  # bounded wait for the effect, not a timing assertion
            if remaining() == {running.id}:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert remaining() == {running.id}  # kept alive well past the timeout
    assert stale and dropped_id
    assert sorted(_state(db, account.id)[2]) == [(-500, 500)]  # the dropped one delivered nothing
    holds.settle(running, delivered_ms=0)
