"""Wire the services of one server process (kept in ``app.state``; never a module global)."""

from __future__ import annotations

from dataclasses import dataclass

from voxclone.engines.base import Engine
from voxclone.service.accounts import AccountService
from voxclone.service.capabilities import Capabilities, check_capabilities
from voxclone.service.clones import CloneService
from voxclone.service.pool import SynthesisPool
from voxclone.service.speech import SpeechService
from voxclone.settings import Settings
from voxclone.store.db import Database, open_database


@dataclass
class Services:
    settings: Settings
    engine: Engine
    db: Database
    pool: SynthesisPool
    accounts: AccountService
    clones: CloneService
    speech: SpeechService
    capabilities: Capabilities

    @classmethod
    def build(cls, *, settings: Settings, engine: Engine, db: Database | None = None) -> Services:
        """Check what ``engine`` and the intake models can do (:mod:`~voxclone.service.capabilities`),
        open (and migrate) the database and create the services around ``engine``."""
        capabilities, analyzer = check_capabilities(engine=engine, require_cloning=settings.require_cloning)
        db = db or open_database(settings)
        pool = SynthesisPool(workers=settings.resolved_workers(), queue_size=settings.queue_size)
        clones = CloneService(db=db, engine=engine, pool=pool, settings=settings, analyzer=analyzer)
        return cls(
            settings=settings,
            engine=engine,
            db=db,
            pool=pool,
            accounts=AccountService(db=db, settings=settings),
            clones=clones,
            speech=SpeechService(db=db, engine=engine, pool=pool, clones=clones, settings=settings),
            capabilities=capabilities,
        )

    def close(self) -> None:
        self.pool.close()
        self.db.close()
