"""OpenAI-compatible ``POST /v1/audio/speech`` (errors in OpenAI's shape)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from voxclone.api.deps import CurrentAccount, ServicesDep
from voxclone.api.routes.models import check_model
from voxclone.api.schemas import SpeechCreate
from voxclone.api.streaming import stream_job
from voxclone.errors import InvalidRequest
from voxclone.service.speech import SpeechJob, SpeechRequest

router = APIRouter(tags=["openai"])


@router.post(
    "/v1/audio/speech",
    response_class=StreamingResponse,
    responses={200: {"content": {"audio/mpeg": {}, "text/event-stream": {}}, "description": "Audio"}},
)
async def create_openai_speech(
    body: SpeechCreate, services: ServicesDep, account: CurrentAccount
) -> StreamingResponse:
    """Generate audio from text (``voice`` is a built-in id or alias, or a ``vc_`` clone id;
    ``model`` one of ``GET /v1/models``)."""
    check_model(body.model, engine_name=services.engine.name)
    voice = body.voice.get("id") if isinstance(body.voice, dict) else body.voice
    if not isinstance(voice, str):
        raise InvalidRequest('voice must be a voice id string or {"id": ...}', code="invalid_voice")
    request = SpeechRequest(text=body.input, voice_id=voice, format=body.response_format, speed=body.speed)
    job = await run_in_threadpool(services.speech.prepare, account=account, request=request)
    if body.stream_format == "sse":
        return StreamingResponse(_sse(services, job), media_type="text/event-stream")
    return await stream_job(services, job, headers={})


async def _sse(services: ServicesDep, job: SpeechJob) -> AsyncIterator[str]:
    chunks = services.speech.stream(job)
    try:
        async for data in chunks:
            event = {"type": "speech.audio.delta", "audio": base64.b64encode(data).decode("ascii")}
            yield f"data: {json.dumps(event)}\n\n"
    finally:
        await chunks.aclose()
    seconds = job.delivered_samples / job.sample_rate
    done = {
        "type": "speech.audio.done",
        "usage": {
            "input_tokens": 0,
            "output_tokens": 0,
            "total_tokens": 0,
            "audio_seconds": round(seconds, 3),
        },
    }
    yield f"data: {json.dumps(done)}\n\n"
