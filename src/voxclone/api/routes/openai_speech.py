"""OpenAI-compatible ``POST /v1/audio/speech`` (errors in OpenAI's shape)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncGenerator, AsyncIterator
from functools import partial

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from voxclone.api.deps import CurrentAccount, ServicesDep
from voxclone.api.openapi import audio_response, error_responses
from voxclone.api.routes.models import check_model
from voxclone.api.schemas import SpeechCreate
from voxclone.api.streaming import prepare_job, render_job, stream_job
from voxclone.audio.encode import LENGTH_IN_HEADER
from voxclone.errors import InvalidRequest
from voxclone.service.speech import SpeechJob, SpeechRequest

router = APIRouter(tags=["openai"])


@router.post(
    "/v1/audio/speech",
    response_class=StreamingResponse,
    responses={
        **audio_response(
            "Audio bytes in `response_format` (mp3 by default), or server-sent events with "
            "`stream_format: sse`",
            extra_types=("text/event-stream",),
        ),
        **error_responses(400, 401, 402, 404, 409, 413, 422, 503, openai=True),
    },
)
async def create_openai_speech(
    body: SpeechCreate, request: Request, services: ServicesDep, account: CurrentAccount
) -> Response:
    """Generate audio from text (``voice`` is a built-in id or a ``vc_`` clone id).

    MP3, Opus, AAC and PCM stream as they are synthesized. WAV and FLAC come as whole files with
    exact headers, unless ``stream_format`` is ``audio`` (then their sizes are left open)."""
    check_model(body.model, engine_name=services.engine.name)
    voice = body.voice.get("id") if isinstance(body.voice, dict) else body.voice
    if not isinstance(voice, str):
        raise InvalidRequest('voice must be a voice id string or {"id": ...}', code="invalid_voice")
    speech = SpeechRequest(text=body.input, voice_id=voice, format=body.response_format, speed=body.speed)
    whole = body.stream_format is None and (body.response_format or "wav").lower() in LENGTH_IN_HEADER
    job = await prepare_job(services, account=account, request=speech, live=not whole)
    if body.stream_format == "sse":
        return await stream_job(
            services,
            job,
            receive=request.receive,
            headers={},
            media_type="text/event-stream",
            wrap=partial(_sse, job=job),
        )
    if whole:
        # clients read the body whole: WAV/FLAC headers get the exact length (stream_format=audio streams)
        return await render_job(services, job, receive=request.receive)
    return await stream_job(services, job, receive=request.receive, headers={})


async def _sse(chunks: AsyncIterator[bytes], *, job: SpeechJob) -> AsyncGenerator[str, None]:
    async for data in chunks:
        if not data:
            continue
        event = {"type": "speech.audio.delta", "audio": base64.b64encode(data).decode("ascii")}
        yield f"data: {json.dumps(event)}\n\n"
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
