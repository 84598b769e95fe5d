"""Credit holds: speech credits reserved before synthesis and settled to the audio delivered.

An account can spend ``available = balance - held``: the balance is the sum of its ledger rows and
``held`` the sum of the holds of its requests in progress (``credit_holds`` rows, never ledger
rows). Every change that can lower ``available`` runs with the account row locked (``SELECT … FOR
UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so concurrent requests, on one server or
several, can never spend the same credits twice:

* :meth:`CreditHolds.reserve` holds ``min(want, available)`` micro-credits, or refuses with 402
  ``insufficient_credits`` when that is less than ``min``.
* :meth:`CreditHolds.cover` runs once per chunk: one small ``UPDATE`` records the audio delivered
  so far; when the audio about to be delivered costs more than the hold, the hold grows first (if
  ``available`` allows; else the answer is ``False`` and the request must stop there).
* :meth:`CreditHolds.settle` deletes the hold and writes one ``speech`` ledger row for exactly the
  audio delivered, in one transaction.

Holds left behind by a server that died: every server refreshes the holds it runs every
``hold_timeout_s / 5`` seconds (:meth:`CreditHolds.keep`). A hold not refreshed for
``hold_timeout_s`` (default 300 s) is settled by any server to the audio it recorded as delivered,
releasing the rest; at start a server also settles at once the holds of processes of its own host
that no longer run (a restart after a crash), see :meth:`CreditHolds.sweep`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import anyio
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from voxclone.errors import InsufficientCredits
from voxclone.service.money import format_credits, speech_cost_micro
from voxclone.store import repositories as repo
from voxclone.store.db import Database
from voxclone.store.ids import new_id
from voxclone.store.models import utcnow

log = logging.getLogger(__name__)

EXTEND_STEP_MS = 10_000  # a hold that has to grow grows by at least this much audio (when available)


@dataclass(eq=False)
class Hold:
    """One reservation made by this process. Amounts in micro-credits, audio in milliseconds."""

    id: str
    account_id: str
    reserved_micro: int
    reference: str | None
    recorded_ms: int = 0  # the delivered audio last written to the hold's row
    settled: bool = False
    lost: bool = False  # the row vanished: another server settled it (refreshes had stopped)


class CreditHolds:
    """Reserve, grow, settle and recover credit holds of one server process.

    Parameters
    ----------
    db : Database
        The deployment's database.
    cost_per_second : Decimal
        Credits per second of audio (``Settings.cost_per_second``).
    timeout_s : int
        Seconds without a refresh after which a hold counts as abandoned (``Settings.hold_timeout_s``).
    """

    def __init__(self, *, db: Database, cost_per_second: Decimal, timeout_s: int):
        self._db = db
        self._per_second = cost_per_second
        self.timeout_s = max(1, int(timeout_s))
        self._host = socket.gethostname()[:60]
        self.owner = f"{self._host}:{os.getpid()}:{_process_start(os.getpid())}:{secrets.token_hex(4)}"
        # holds still referenced by a running request; one dropped without settling stops being
        # refreshed and is settled by a later sweep
        self._running: weakref.WeakValueDictionary[str, Hold] = weakref.WeakValueDictionary()
        self._lock = threading.Lock()

    def cost(self, audio_ms: int) -> int:
        """Micro-credits for ``audio_ms`` milliseconds of audio."""
        return speech_cost_micro(audio_ms=audio_ms, cost_per_second=self._per_second)

    # ------------------------------------------------------------------------------- requests

    def reserve(self, *, account_id: str, min_micro: int, want_micro: int, reference: str | None) -> Hold:
        """Hold ``min(want_micro, available)``; 402 ``insufficient_credits`` if below ``min_micro``."""
        hold_id = new_id("hold")
        with self._db.write_sessions.begin() as session:
            repo.get_account(session, account_id=account_id, for_update=True)
            balance, held = repo.balance_and_held(session, account_id=account_id)
            available = balance - held
            if available < min_micro:
                raise InsufficientCredits(
                    f"this request needs at least {format_credits(min_micro)} credits; "
                    + _funds(balance, held)
                )
            amount = max(min_micro, min(want_micro, available))
            repo.add_hold(
                session,
                hold_id=hold_id,
                account_id=account_id,
                owner=self.owner,
                reserved_micro=amount,
                reference=reference,
            )
        hold = Hold(id=hold_id, account_id=account_id, reserved_micro=amount, reference=reference)
        with self._lock:
            self._running[hold_id] = hold
        return hold

    def cover(self, hold: Hold, *, delivered_ms: int, needed_ms: int) -> bool:
        """Record ``delivered_ms`` and make sure the hold pays for ``needed_ms`` of audio.

        ``False`` when the account cannot pay for ``needed_ms`` (or the hold was lost): deliver
        nothing beyond what the hold already covers. Writes nothing when neither changed.
        """
        if hold.settled or hold.lost:
            return False
        need = self.cost(needed_ms)
        if need <= hold.reserved_micro and delivered_ms == hold.recorded_ms:
            return True
        covered = True
        with self._db.write_sessions.begin() as session:
            if need <= hold.reserved_micro:
                found = repo.record_hold_progress(session, hold_id=hold.id, delivered_ms=delivered_ms)
                new_reserved = hold.reserved_micro
            else:
                repo.get_account(session, account_id=hold.account_id, for_update=True)
                balance, held = repo.balance_and_held(session, account_id=hold.account_id)
                available = balance - held  # this hold's own reservation is already counted
                missing = need - hold.reserved_micro
                covered = missing <= available
                grow = min(available, max(missing, self.cost(EXTEND_STEP_MS))) if covered else 0
                new_reserved = hold.reserved_micro + grow
                found = repo.record_hold_progress(
                    session, hold_id=hold.id, delivered_ms=delivered_ms, reserved_micro=new_reserved
                )
        if not found:
            hold.lost = True
            log.warning("credit hold %s was settled elsewhere (not refreshed in time)", hold.id)
            return False
        hold.recorded_ms = delivered_ms
        hold.reserved_micro = new_reserved
        return covered

    def settle(self, hold: Hold, *, delivered_ms: int) -> int:
        """Drop the hold and charge ``delivered_ms`` in one transaction (once); the amount charged."""
        if hold.settled:
            return 0
        with self._db.write_sessions.begin() as session:
            repo.get_account(session, account_id=hold.account_id, for_update=True)
            if repo.take_hold(session, hold_id=hold.id) is not None:
                audio_ms, amount = delivered_ms, self.cost(delivered_ms)
            else:  # a sweep already charged what the row recorded; charge only the rest
                audio_ms = max(0, delivered_ms - hold.recorded_ms)
                amount = max(0, self.cost(delivered_ms) - self.cost(hold.recorded_ms))
            _charge(session, account_id=hold.account_id, audio_ms=audio_ms, amount=amount, ref=hold.reference)
        hold.settled = True
        with self._lock:
            self._running.pop(hold.id, None)
        return amount

    # ------------------------------------------------------------------------------- recovery

    def heartbeat(self) -> int:
        """Refresh the holds of requests still running here; how many were refreshed."""
        with self._lock:
            ids = list(self._running.keys())
        if not ids:
            return 0
        with self._db.write_sessions.begin() as session:
            return repo.touch_holds(session, hold_ids=ids)

    def sweep(self, *, at_start: bool = False) -> int:
        """Settle abandoned holds to the audio they recorded as delivered; how many were settled.

        Abandoned: not refreshed for ``timeout_s`` (any server), or, with ``at_start``, made by a
        process of this host that no longer runs.
        """
        cutoff = utcnow() - timedelta(seconds=self.timeout_s)
        with self._db.sessions() as session:
            found = repo.list_holds(session, updated_before=None if at_start else cutoff)
            rows = [(h.id, h.account_id, h.owner, h.updated_at) for h in found]
        with self._lock:
            mine = set(self._running.keys())
        settled = 0
        for hold_id, account_id, owner, updated_at in rows:
            if hold_id in mine:
                continue
            if updated_at < cutoff:
                settled += self._settle_abandoned(hold_id, account_id, updated_before=cutoff)
            elif at_start and self._is_dead_here(owner):
                settled += self._settle_abandoned(hold_id, account_id, updated_before=None)
        return settled

    async def keep(self) -> None:
        """Refresh this server's holds and sweep abandoned ones every ``timeout_s / 5`` s until cancelled."""
        interval = max(0.5, self.timeout_s / 5)
        while True:
            await asyncio.sleep(interval)
            try:
                await anyio.to_thread.run_sync(self.heartbeat)
                await anyio.to_thread.run_sync(self.sweep)
            except (SQLAlchemyError, OSError) as e:  # the database may be away for a moment
                log.warning("credit hold upkeep failed, retrying in %.0f s: %s", interval, e)

    def _settle_abandoned(self, hold_id: str, account_id: str, *, updated_before: datetime | None) -> int:
        with self._db.write_sessions.begin() as session:
            repo.get_account(session, account_id=account_id, for_update=True)  # same lock order as settle()
            taken = repo.take_hold(session, hold_id=hold_id, updated_before=updated_before)
            if taken is None:  # refreshed meanwhile, or another server settled it
                return 0
            _, delivered_ms, reference = taken
            amount = self.cost(delivered_ms)
            _charge(session, account_id=account_id, audio_ms=delivered_ms, amount=amount, ref=reference)
        log.info("settled abandoned credit hold %s: %d ms delivered", hold_id, delivered_ms)
        return 1

    def _is_dead_here(self, owner: str) -> bool:
        """Whether ``owner`` (``host:pid:start:token``) is a process of this host that has ended."""
        parts = owner.rsplit(":", 3)
        if len(parts) != 4 or parts[0] != self._host or not parts[1].isdigit():
            return False
        pid, started = int(parts[1]), parts[2]
        if started and Path("/proc").is_dir():  # a reused pid has another start time
            return _process_start(pid) != started
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:  # exists, owned by someone else
            return False
        return False


def _charge(session: Session, *, account_id: str, audio_ms: int, amount: int, ref: str | None) -> None:
    if audio_ms > 0 or amount > 0:
        repo.add_ledger_entry(
            session,
            account_id=account_id,
            kind="speech",
            amount_micro=-amount,
            audio_ms=audio_ms,
            reference=ref,
        )


def _funds(balance: int, held: int) -> str:
    if not held:
        return f"the balance is {format_credits(balance)}"
    return (
        f"{format_credits(balance - held)} are available (balance {format_credits(balance)}, "
        f"{format_credits(held)} held by requests in progress)"
    )


def _process_start(pid: int) -> str:
    """When process ``pid`` started (clock ticks since boot, from ``/proc``); ``""`` if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else ""
