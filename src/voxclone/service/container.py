"""Wire the services of one server process (kept in ``app.state``; never a module global)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from voxclone.engines.base import Engine
from voxclone.service.accounts import AccountService
from voxclone.service.capabilities import CapabilityReport, check_capabilities
from voxclone.service.clones import CloneService
from voxclone.service.consent import ConsentService
from voxclone.service.holds import CreditHolds
from voxclone.service.pool import SynthesisPool
from voxclone.service.selfcheck import SimilarityWorker
from voxclone.service.speech import SpeechService
from voxclone.settings import Settings
from voxclone.store.db import Database, open_database
from voxclone.store.sweep import sweep_orphan_blobs

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    db: Database
    pool: SynthesisPool
    accounts: AccountService
    clones: CloneService
    consent: ConsentService
    holds: CreditHolds
    speech: SpeechService
    capabilities: CapabilityReport
    checks: SimilarityWorker

    @classmethod
    def build(cls, *, settings: Settings, engine: Engine, db: Database | None = None) -> Services:
        """Check what ``engine`` and the intake models can do (:mod:`~voxclone.service.capabilities`),
        open (and migrate) the database and create the services around ``engine``."""
        capabilities, analyzer = check_capabilities(engine=engine, require_cloning=settings.require_cloning)
        db = db or open_database(settings)
        _sweep(db)
        pool = SynthesisPool(
            workers=settings.resolved_workers(),
            queue_size=settings.queue_size,
            admission=settings.admission,
            headroom=settings.stream_headroom,
            start_s=settings.stream_start_s,
            parallel=settings.parallel_jobs(),
        )
        checks = SimilarityWorker(
            db=db,
            engine=engine,
            busy=lambda: pool.in_flight > 0,  # low priority: only while no synthesis is in flight
            claim_timeout_s=settings.similarity_claim_timeout_s,
            poll_s=settings.similarity_poll_s,
        )
        clones = CloneService(
            db=db, engine=engine, pool=pool, settings=settings, analyzer=analyzer, wake_checks=checks.wake
        )
        consent = ConsentService(db=db, settings=settings, encoder=clones.speaker_encoder)
        clones.consent = consent
        holds = CreditHolds(
            db=db, cost_per_second=settings.cost_per_second, timeout_s=settings.hold_timeout_s
        )
        return cls(
            settings=settings,
            engine=engine,
            db=db,
            pool=pool,
            accounts=AccountService(db=db, settings=settings),
            clones=clones,
            consent=consent,
            holds=holds,
            speech=SpeechService(
                db=db, engine=engine, pool=pool, clones=clones, holds=holds, settings=settings
            ),
            capabilities=capabilities,
            checks=checks,
        )

    def close(self) -> None:
        self.checks.close()
        self.pool.close()
        self.db.close()


def _sweep(db: Database) -> None:
    """Remove blobs left by a crash; a failure is logged and does not stop the start."""
    try:
        removed = sweep_orphan_blobs(db)
    except (OSError, SQLAlchemyError) as e:
        log.warning("could not sweep orphan blobs (they stay until the next start): %s", e)
        return
    if removed:
        log.info("removed %d orphan blob(s) left by an interrupted clone create or delete", removed)
