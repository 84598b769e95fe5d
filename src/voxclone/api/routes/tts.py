"""OuteAI speech routes: ``POST /api/v1/tts_non_stream``, ``POST /api/v1/tts_stream`` and
``POST /api/v1/tts_with_timestamps``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from voxclone.api.deps import CurrentAccount, ServicesDep
from voxclone.api.openapi import audio_response, error_responses
from voxclone.api.schemas import Envelope, TimedSpeechPublic, TTSCreate
from voxclone.api.streaming import prepare_job, render_job, render_timed_job, stream_job
from voxclone.service.speech import SpeechRequest

router = APIRouter(tags=["tts"])

_AUDIO: dict[int | str, dict[str, Any]] = {
    **audio_response("Audio bytes in `response_format` (WAV 24 kHz mono 16-bit by default)"),
    **error_responses(400, 401, 402, 404, 409, 413, 422, 503),
}


def _request(body: TTSCreate) -> SpeechRequest:
    return SpeechRequest(
        text=body.text,
        voice_id=body.voice_id,
        format=body.response_format,
        speed=body.speed,
        language=body.language,
    )


@router.post("/api/v1/tts_non_stream", response_class=Response, responses=_AUDIO)
async def create_speech(
    body: TTSCreate, request: Request, services: ServicesDep, account: CurrentAccount
) -> Response:
    """Synthesize the whole text and return one audio file (charged once sent)."""
    job = await prepare_job(services, account=account, request=_request(body))
    return await render_job(services, job, receive=request.receive)


@router.post("/api/v1/tts_stream", response_class=StreamingResponse, responses=_AUDIO)
async def stream_speech(
    body: TTSCreate, request: Request, services: ServicesDep, account: CurrentAccount
) -> Response:
    """Stream audio as it is synthesized (chunked). A WAV's RIFF/data sizes are ``0xFFFFFFFF``
    (unknown while streaming); clients that save it write the real sizes at the end (README)."""
    job = await prepare_job(services, account=account, request=_request(body), live=True)
    return await stream_job(services, job, receive=request.receive, headers={})


@router.post(
    "/api/v1/tts_with_timestamps",
    response_model=Envelope[TimedSpeechPublic],
    responses=error_responses(400, 401, 402, 404, 409, 413, 422, 503),
)
async def create_speech_with_timestamps(
    body: TTSCreate, request: Request, services: ServicesDep, account: CurrentAccount
) -> Response:
    """Synthesize the whole text; return the audio (base64) and when each word is spoken.

    Billed like ``tts_non_stream`` (once sent). 400 ``timestamps_unavailable`` when the engine
    cannot tell when words are spoken (``GET /api/v1/health`` shows its capabilities).
    """
    job = await prepare_job(services, account=account, request=_request(body), timestamps=True)
    return await render_timed_job(services, job, receive=request.receive)
