"""Accounts, API keys and credits.

Keys are ``oute_`` + 43 URL-safe random characters; only their SHA-256 is stored, with a short
prefix kept for display. The balance is the sum of the account's ledger, computed on demand; the
credits held by speech in progress (:mod:`voxclone.service.holds`) are reported next to it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from voxclone.errors import AuthenticationFailed, InvalidRequest, NotFound
from voxclone.service.money import format_credits, to_micro
from voxclone.settings import Settings
from voxclone.store import repositories as repo
from voxclone.store.db import Database
from voxclone.store.ids import new_id
from voxclone.store.models import Account, ApiKey, ConsentPolicy, utcnow

KEY_PREFIX = "oute_"
DISPLAY_PREFIX_CHARS = 12


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def new_api_key() -> str:
    """A fresh key: ``oute_`` + 43 URL-safe characters (256 random bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class AccountRef:
    """The authenticated caller."""

    id: str
    name: str
    key_id: str | None = field(default=None, compare=False)  # the API key that authenticated this request


@dataclass(frozen=True)
class AccountSummary:
    id: str
    name: str
    created_at: datetime
    balance_micro: int
    audio_ms: int
    clones_held: int
    active_keys: int
    held_micro: int = 0
    limits: dict[str, int] = field(default_factory=dict)

    @property
    def balance(self) -> str:
        return format_credits(self.balance_micro)

    @property
    def held(self) -> str:
        """Credits reserved by requests in progress (not yet charged)."""
        return format_credits(self.held_micro)

    @property
    def available(self) -> str:
        """What new requests can spend: balance minus held."""
        return format_credits(self.balance_micro - self.held_micro)


class AccountService:
    """Create accounts and keys, authenticate callers, top up and report balances."""

    def __init__(self, *, db: Database, settings: Settings):
        self._db = db
        self._settings = settings

    def authenticate(self, api_key: str) -> AccountRef:
        """The account owning an active ``api_key``; ``AuthenticationFailed`` otherwise."""
        if not api_key.startswith(KEY_PREFIX):
            raise AuthenticationFailed("the API key is not a voxclone key (they start with oute_)")
        with self._db.sessions() as session:
            found = repo.find_account_by_key(session, key_hash=hash_key(api_key))
        if found is None:
            raise AuthenticationFailed("the API key is invalid or has been revoked")
        return AccountRef(id=found[0], name=found[1], key_id=found[2])

    def create_key(
        self, *, account: str | None = None, credits: Decimal | str = "0"
    ) -> tuple[AccountRef, str]:
        """A new key for account ``account`` (created if missing), after adding ``credits``.

        Returns the account and the key, which is shown only this once.
        """
        micro = to_micro(credits)
        if micro < 0:
            raise InvalidRequest("credits must not be negative", code="invalid_amount")
        key = new_api_key()
        with self._db.write_sessions.begin() as session:
            row = repo.get_account_by_name(session, name=account) if account else None
            if row is None:
                row = Account(id=new_id("acct"), name=account or f"account-{secrets.token_hex(4)}")
                session.add(row)
                session.flush()
            session.add(
                ApiKey(
                    id=new_id("key"),
                    account_id=row.id,
                    key_hash=hash_key(key),
                    prefix=key[:DISPLAY_PREFIX_CHARS],
                )
            )
            if micro:
                repo.add_ledger_entry(session, account_id=row.id, kind="topup", amount_micro=micro)
            ref = AccountRef(id=row.id, name=row.name)
        return ref, key

    def add_credits(self, *, account: str, credits: Decimal | str) -> str:
        """Add (or with a negative amount, remove) credits; returns the new balance string."""
        micro = to_micro(credits)
        with self._db.write_sessions.begin() as session:
            row = self._find(session, account)
            repo.get_account(session, account_id=row.id, for_update=True)
            repo.add_ledger_entry(session, account_id=row.id, kind="topup", amount_micro=micro)
            session.flush()
            return format_credits(repo.balance_micro(session, account_id=row.id))

    def set_require_consent(self, *, account: str, required: bool | None) -> str:
        """Override the server's consent policy for ``account`` (name or id): ``True`` requires a
        spoken consent for each new clone, ``False`` does not, ``None`` follows
        ``VOXCLONE_REQUIRE_CONSENT``. Returns the account's name."""
        with self._db.write_sessions.begin() as session:
            row = self._find(session, account)
            policy = session.get(ConsentPolicy, row.id)
            if required is None and policy is not None:
                session.delete(policy)
            elif required is not None and policy is None:
                session.add(ConsentPolicy(account_id=row.id, require_consent=required))
            elif policy is not None and required is not None:
                policy.require_consent = required
            return row.name

    def revoke_key(self, *, key: str) -> int:
        """Revoke a key given in full or by its displayed prefix; returns how many were revoked."""
        with self._db.write_sessions.begin() as session:
            if len(key) > DISPLAY_PREFIX_CHARS:
                rows = repo.find_keys(session, key_hash=hash_key(key))
            else:
                rows = repo.find_keys(session, prefix=key)
            rows = [r for r in rows if r.revoked_at is None]
            if not rows:
                raise NotFound("no active key matches", code="key_not_found")
            if len(rows) > 1:
                raise InvalidRequest(
                    "that prefix matches several keys; give the whole key", code="ambiguous_key"
                )
            rows[0].revoked_at = utcnow()
            return len(rows)

    def summary(self, *, account_id: str) -> AccountSummary:
        with self._db.sessions() as session:
            row = repo.get_account(session, account_id=account_id)
            if row is None:
                raise NotFound("account not found", code="account_not_found")
            return self._summarize(session, row)

    def list_accounts(self) -> list[AccountSummary]:
        with self._db.sessions() as session:
            return [self._summarize(session, row) for row in repo.list_accounts(session)]

    def has_accounts(self) -> bool:
        with self._db.sessions() as session:
            return repo.count_accounts(session) > 0

    def _find(self, session: Session, account: str) -> Account:
        row = repo.get_account(session, account_id=account) or repo.get_account_by_name(session, name=account)
        if row is None:
            raise NotFound(f"no account named {account!r}", code="account_not_found")
        return row

    def _summarize(self, session: Session, row: Account) -> AccountSummary:
        balance, audio_ms, clones, keys, held = repo.account_totals(session, account_id=row.id)
        return AccountSummary(
            id=row.id,
            name=row.name,
            created_at=row.created_at,
            balance_micro=balance,
            audio_ms=audio_ms,
            clones_held=clones,
            active_keys=keys,
            held_micro=held,
            limits={
                "max_clones": self._settings.max_clones_per_account,
                "max_text_chars": self._settings.max_text_chars,
                "max_upload_bytes": self._settings.max_upload_bytes,
            },
        )
