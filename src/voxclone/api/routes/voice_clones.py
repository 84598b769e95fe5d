"""Voice clones: create (multipart upload), list, retrieve, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from voxclone.api.deps import (
    CurrentAccount,
    ServicesDep,
    audio_upload,
    read_upload,
    require_multipart,
)
from voxclone.api.openapi import error_responses, file_field, multipart_body
from voxclone.api.schemas import Envelope, VoiceCloneDeleted, VoiceClonePublic, VoiceClonesPublic
from voxclone.errors import InvalidRequest

router = APIRouter(tags=["voice-clones"])

_UPLOAD_SCHEMA = multipart_body(
    required=("audio", "name"),
    properties={
        "audio": file_field("5–60 s of one speaker"),
        "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 200,
            "description": "1–200 characters, not only spaces, no control characters",
        },
        "consent_challenge_id": {
            "type": "string",
            "description": "a `cc_…` id from POST /api/v1/consent-challenges: the "
            "speaker's spoken consent (required when the consent policy is on)",
        },
        "consent_audio": file_field(
            "the speaker reading the challenge phrase; without it the reference itself must contain "
            "the phrase"
        ),
    },
)


_CLONE_ID = {"pattern": "^vc_[0-9a-hjkmnp-tv-z]{26}$"}


@router.post(
    "/api/v1/voice-clones",
    status_code=201,
    response_model=Envelope[VoiceClonePublic],
    openapi_extra=_UPLOAD_SCHEMA,
    responses=error_responses(400, 401, 402, 403, 404, 409, 410, 413, 415, 422, 503),
)
async def create_voice_clone(
    request: Request,
    services: ServicesDep,
    account: CurrentAccount,
    idempotency_key: Annotated[
        str | None,
        Header(
            description="Any unique string (a UUID), at most 255 characters: a retry with the same key "
            "returns the first result",
            json_schema_extra={"maxLength": 255},
        ),
    ] = None,
) -> JSONResponse:
    """Clone a voice from a recording (costs 0.025 credits). Retries with the same
    ``Idempotency-Key`` return the first result without a second clone or charge."""
    services.capabilities.require("cloning")  # 503 cloning_unavailable, with the reason
    require_multipart(request, fields="fields audio and name")
    limit = services.settings.max_upload_bytes
    async with request.form(max_files=3, max_fields=20) as form:
        upload = audio_upload(form)
        name = form.get("name")
        challenge_id = form.get("consent_challenge_id")
        consent_upload = form.get("consent_audio")
        if not isinstance(name, str) or not name.strip():
            raise InvalidRequest("the multipart field `name` is required", code="invalid_name")
        if challenge_id is not None and not isinstance(challenge_id, str):
            raise InvalidRequest(
                "consent_challenge_id must be a text field (a cc_… id)", code="invalid_consent_challenge"
            )
        if consent_upload is not None and not isinstance(consent_upload, UploadFile):
            raise InvalidRequest(
                "consent_audio must be a file (the speaker reading the challenge phrase)",
                code="invalid_consent_audio",
            )
        data = await read_upload(upload, limit=limit)
        filename, upload_type = upload.filename, upload.content_type
        consent_data = await read_upload(consent_upload, limit=limit) if consent_upload is not None else None
    if consent_data is not None and not challenge_id:
        raise InvalidRequest(
            "consent_audio needs the consent_challenge_id of the phrase it reads",
            code="invalid_consent_challenge",
        )
    created = await services.clones.create(
        account=account,
        name=name.strip(),
        audio=data,
        filename=filename,
        content_type=upload_type,
        idempotency_key=idempotency_key or None,
        consent_challenge_id=challenge_id.strip() if challenge_id else None,
        consent_audio=consent_data,
    )
    headers = {"Idempotent-Replayed": "true"} if created.replayed else {}
    body = Envelope(data=VoiceClonePublic(**created.record.as_dict())).model_dump(
        mode="json", exclude_unset=True
    )
    return JSONResponse(body, status_code=201, headers=headers)


@router.get(
    "/api/v1/voice-clones",
    response_model=Envelope[VoiceClonesPublic],
    response_model_exclude_unset=True,
    responses=error_responses(400, 401, 422, 503),
)
def read_voice_clones(
    services: ServicesDep,
    account: CurrentAccount,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    after: Annotated[
        str | None,
        Query(
            description="Cursor: the `next_cursor` (last voice_id) of the previous page; anything "
            "else is refused with 400 `invalid_cursor`",
            json_schema_extra=_CLONE_ID,
        ),
    ] = None,
) -> Envelope[VoiceClonesPublic]:
    """Your clones, newest first."""
    page, more = services.clones.list(account=account, limit=limit, after=after)
    return Envelope(
        data=VoiceClonesPublic(
            voice_clones=[VoiceClonePublic(**c.as_dict()) for c in page],
            has_more=more,
            next_cursor=page[-1].voice_id if more and page else None,
        )
    )


@router.get(
    "/api/v1/voice-clones/{voice_id}",
    response_model=Envelope[VoiceClonePublic],
    response_model_exclude_unset=True,
    responses=error_responses(401, 404, 503),
)
def read_voice_clone(
    services: ServicesDep, account: CurrentAccount, voice_id: str
) -> Envelope[VoiceClonePublic]:
    record = services.clones.retrieve(account=account, voice_id=voice_id)
    return Envelope(data=VoiceClonePublic(**record.as_dict()))


@router.delete(
    "/api/v1/voice-clones/{voice_id}",
    response_model=Envelope[VoiceCloneDeleted],
    responses=error_responses(401, 404, 503),
)
def delete_voice_clone(
    services: ServicesDep, account: CurrentAccount, voice_id: str
) -> Envelope[VoiceCloneDeleted]:
    """Delete at once: later use answers 404; the stored profile and audio are removed."""
    services.clones.delete(account=account, voice_id=voice_id)
    return Envelope(data=VoiceCloneDeleted(voice_id=voice_id, deleted=True))
