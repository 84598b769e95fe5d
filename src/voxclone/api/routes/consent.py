"""Spoken consent: ``POST /api/v1/consent-challenges`` and a clone's kept evidence."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from voxclone.api.deps import CurrentAccount, ServicesDep
from voxclone.api.openapi import error_responses
from voxclone.api.schemas import (
    ConsentChallengeCreate,
    ConsentChallengePublic,
    ConsentEvidencePublic,
    Envelope,
)

router = APIRouter(tags=["consent"])


@router.post(
    "/api/v1/consent-challenges",
    status_code=201,
    response_model=Envelope[ConsentChallengePublic],
    responses=error_responses(400, 401, 422, 503),
)
async def create_consent_challenge(
    services: ServicesDep, account: CurrentAccount, body: ConsentChallengeCreate | None = None
) -> Envelope[ConsentChallengePublic]:
    """A phrase for the speaker to read aloud (a consent statement and random words), valid 15
    minutes by default and usable for one clone: send its ``challenge_id`` as
    ``consent_challenge_id`` with ``POST /api/v1/voice-clones``."""
    req = body or ConsentChallengeCreate()
    challenge = await run_in_threadpool(
        services.consent.create_challenge,
        account=account,
        language=req.language,
        speaker_name=req.speaker_name,
    )
    return Envelope(data=ConsentChallengePublic(**challenge.as_dict()))


@router.get(
    "/api/v1/voice-clones/{voice_id}/consent",
    response_model=Envelope[ConsentEvidencePublic],
    responses=error_responses(401, 404, 503),
)
def read_voice_clone_consent(
    services: ServicesDep, account: CurrentAccount, voice_id: str
) -> Envelope[ConsentEvidencePublic]:
    """The spoken-consent evidence kept with a clone (deleted with it)."""
    found = services.clones.consent_evidence(account=account, voice_id=voice_id)
    return Envelope(data=ConsentEvidencePublic(**found))
