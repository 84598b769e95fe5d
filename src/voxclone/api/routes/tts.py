"""OuteAI speech routes: ``POST /api/v1/tts_non_stream`` and ``POST /api/v1/tts_stream``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from voxclone.api.deps import CurrentAccount, ServicesDep
from voxclone.api.schemas import TTSCreate
from voxclone.api.streaming import stream_job
from voxclone.service.speech import SpeechRequest

router = APIRouter(tags=["tts"])

_AUDIO: dict[int | str, dict[str, Any]] = {
    200: {"content": {"audio/wav": {}}, "description": "Audio bytes (WAV 24 kHz mono 16-bit by default)"}
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
async def create_speech(body: TTSCreate, services: ServicesDep, account: CurrentAccount) -> Response:
    """Synthesize the whole text and return one audio file."""
    job = await run_in_threadpool(services.speech.prepare, account=account, request=_request(body))
    data = await services.speech.render(job)
    seconds = job.delivered_samples / job.sample_rate
    return Response(data, media_type=job.content_type, headers={"x-audio-seconds": f"{seconds:.3f}"})


@router.post("/api/v1/tts_stream", response_class=StreamingResponse, responses=_AUDIO)
async def stream_speech(body: TTSCreate, services: ServicesDep, account: CurrentAccount) -> StreamingResponse:
    """Stream audio as it is synthesized (chunked). A WAV's RIFF/data sizes are ``0xFFFFFFFF``
    (unknown while streaming); clients that save it write the real sizes at the end (README)."""
    job = await run_in_threadpool(services.speech.prepare, account=account, request=_request(body))
    return await stream_job(services, job, headers={})
