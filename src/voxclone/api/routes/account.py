"""``GET /api/v1/account``: balance (and what requests in progress hold), usage and limits."""

from __future__ import annotations

from fastapi import APIRouter

from voxclone.api.deps import CurrentAccount, ServicesDep
from voxclone.api.openapi import error_responses
from voxclone.api.schemas import AccountPublic, Envelope, UsagePublic
from voxclone.service.clone_records import iso

router = APIRouter(tags=["account"])


@router.get("/api/v1/account", response_model=Envelope[AccountPublic], responses=error_responses(401, 503))
def read_account(services: ServicesDep, account: CurrentAccount) -> Envelope[AccountPublic]:
    summary = services.accounts.summary(account_id=account.id)
    settings = services.settings
    return Envelope(
        data=AccountPublic(
            account_id=summary.id,
            name=summary.name,
            created_at=iso(summary.created_at),
            balance=summary.balance,
            held=summary.held,
            available=summary.available,
            usage=UsagePublic(seconds_generated=summary.audio_ms / 1000, clones_held=summary.clones_held),
            limits=summary.limits,
            pricing={"clone": str(settings.clone_cost), "per_second": str(settings.cost_per_second)},
        )
    )
