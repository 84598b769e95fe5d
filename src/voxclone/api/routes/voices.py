"""``GET /api/v1/voices``: built-in voices and the caller's clones."""

from __future__ import annotations

from fastapi import APIRouter

from voxclone.api.deps import CurrentAccount, ServicesDep
from voxclone.api.openapi import error_responses
from voxclone.api.schemas import Envelope, VoicePublic, VoicesPublic

router = APIRouter(tags=["voices"])


@router.get("/api/v1/voices", response_model=Envelope[VoicesPublic], responses=error_responses(401, 503))
def read_voices(services: ServicesDep, account: CurrentAccount) -> Envelope[VoicesPublic]:
    voices = [
        VoicePublic(
            voice_id=v.voice_id,
            name=v.name,
            type="builtin",
            language=v.language,
            gender=v.gender,
            description=v.description,
            aliases=list(v.aliases),
        )
        for v in services.engine.builtin_voices()
    ]
    after: str | None = None
    while True:
        page, more = services.clones.list(account=account, limit=100, after=after)
        voices.extend(
            VoicePublic(voice_id=c.voice_id, name=c.name, type="clone", created_at=c.created_at) for c in page
        )
        if not more or not page:
            break
        after = page[-1].voice_id
    return Envelope(data=VoicesPublic(voices=voices))
