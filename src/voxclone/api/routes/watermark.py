"""Watermark detection: is this audio from a voxclone server, and from which server and account?"""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from voxclone.api.deps import (
    CurrentAccount,
    ServicesDep,
    audio_upload,
    read_upload,
    require_multipart,
)
from voxclone.api.openapi import error_responses, file_field, multipart_body
from voxclone.api.schemas import Envelope

router = APIRouter(tags=["watermark"])

DETECT_MAX_SECONDS = 60.0

_UPLOAD_SCHEMA = multipart_body(
    required=("audio",),
    properties={
        "audio": file_field("any format the clone upload accepts; 3 s or more (the first 60 s are examined)")
    },
)


class WatermarkPayload(BaseModel):
    server_id: int = Field(description="id of the server that made the clip (0-65535)")
    account_hash: str = Field(description="4 hex digits: the first 2 bytes of SHA-256(account id)")


class WatermarkDetection(BaseModel):
    watermarked: bool
    confidence: float = Field(ge=0, le=1, description="1 - p-value of the mark's presence")
    payload: WatermarkPayload | None = Field(description="null unless watermarked and its CRC matched")


def _detect(data: bytes) -> dict[str, Any]:
    from voxclone.audio.decode import decode_audio
    from voxclone.audio.watermark import Detector

    decoded = decode_audio(data, max_seconds=DETECT_MAX_SECONDS)
    return Detector().detect(decoded.audio, decoded.sample_rate).to_json()


@router.post(
    "/api/v1/watermark/detect",
    response_model=Envelope[WatermarkDetection],
    openapi_extra=_UPLOAD_SCHEMA,
    responses=error_responses(400, 401, 413, 415, 422, 503),
)
async def detect_watermark(
    request: Request, services: ServicesDep, account: CurrentAccount
) -> Envelope[WatermarkDetection]:
    """Look for voxclone's watermark in a recording (free). Any 3 s excerpt of a generated clip
    is enough, also after MP3/Opus/AAC encoding, resampling, gain changes and noise."""
    require_multipart(request, fields="field audio")
    async with request.form(max_files=1, max_fields=5) as form:
        data = await read_upload(audio_upload(form), limit=services.settings.max_upload_bytes)
    result = await anyio.to_thread.run_sync(_detect, data)
    return Envelope(data=WatermarkDetection.model_validate(result))
