"""``client.voice_clones``: create, list, retrieve and delete your cloned voices."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import httpx

from voxclone.client._files import AudioInput, read_audio_input
from voxclone.client._resource import AsyncAPIResource, SyncAPIResource, json_body, json_data
from voxclone.client.types import ClonePage, ConsentEvidence, VoiceClone

PATH = "/api/v1/voice-clones"


def create_request(
    *,
    audio: AudioInput,
    name: str,
    filename: str | None,
    idempotency_key: str | None,
    consent_challenge_id: str | None = None,
    consent_audio: AudioInput | None = None,
) -> dict[str, Any]:
    """Keyword arguments of ``_request`` for a clone upload.

    The ``Idempotency-Key`` and the multipart boundary are fixed here, once per call, so every
    retry sends the same bytes under the same key and the server makes (and charges) one clone.
    """
    upload = read_audio_input(audio, filename=filename)
    key = idempotency_key or f"vc-create-{uuid.uuid4().hex}"
    boundary = uuid.uuid4().hex
    files = {"audio": upload}
    if consent_audio is not None:
        files["consent_audio"] = read_audio_input(consent_audio)
    data = {"name": name}
    if consent_challenge_id is not None:
        data["consent_challenge_id"] = consent_challenge_id
    return {
        "files": files,
        "data": data,
        "headers": {
            "Idempotency-Key": key,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    }


def _item(voice_id: str) -> str:
    return f"{PATH}/{quote(voice_id, safe='')}"


def list_params(*, limit: int | None, after: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if limit is not None:
        params["limit"] = limit
    if after is not None:
        params["after"] = after
    return params


def to_page(response: httpx.Response) -> ClonePage:
    """Read a page, whether the clones sit in ``data`` or in ``data.voice_clones``."""
    body = json_body(response)
    data = body.get("data", [])
    meta: dict[str, Any] = body
    if isinstance(data, dict):
        meta = {**body, **data}
        data = data.get("voice_clones", data.get("items", []))
    clones = [VoiceClone.from_dict(c) for c in data]
    cursor = meta.get("next_cursor")
    has_more = bool(meta.get("has_more", cursor is not None))
    return ClonePage(data=clones, has_more=has_more, next_cursor=cursor if has_more else None, raw=body)


class VoiceClones(SyncAPIResource):
    def create(
        self,
        *,
        audio: AudioInput,
        name: str,
        filename: str | None = None,
        idempotency_key: str | None = None,
        consent_challenge_id: str | None = None,
        consent_audio: AudioInput | None = None,
    ) -> VoiceClone:
        """Clone a voice from a recording of one speaker (5–30 s of clear speech is best).

        Parameters
        ----------
        audio : path, bytes or binary file
            The reference recording (WAV, MP3, FLAC, OGG, M4A; at most 10 MB).
        name : str
            A label for the clone.
        filename : str, optional
            Upload name; defaults to the file's name.
        idempotency_key : str, optional
            Makes a repeated call (or a retry after a lost answer) return the first clone instead
            of creating and charging a second; generated per call when omitted.
        consent_challenge_id : str, optional
            A ``cc_…`` id from :meth:`Consent.create_challenge`: the speaker's spoken consent
            (required when the server's or account's consent policy is on).
        consent_audio : path, bytes or binary file, optional
            The speaker reading the challenge's phrase; without it the reference itself must say it.
        """
        kwargs = create_request(
            audio=audio,
            name=name,
            filename=filename,
            idempotency_key=idempotency_key,
            consent_challenge_id=consent_challenge_id,
            consent_audio=consent_audio,
        )
        return VoiceClone.from_dict(json_data(self._client._request("POST", PATH, **kwargs)))

    def list(self, *, limit: int | None = None, after: str | None = None) -> ClonePage:
        """One page of your clones, newest first; pass ``page.next_cursor`` as ``after``."""
        return to_page(self._client._request("GET", PATH, params=list_params(limit=limit, after=after)))

    def list_all(self, *, page_size: int | None = None) -> Iterator[VoiceClone]:
        """Every clone, newest first, fetching further pages as the loop goes."""
        after: str | None = None
        while True:
            page = self.list(limit=page_size, after=after)
            yield from page.data
            if not page.has_more or page.next_cursor is None:
                return
            after = page.next_cursor

    def retrieve(self, voice_id: str) -> VoiceClone:
        """One clone by id (404 :class:`NotFoundError` if it is not yours or was deleted)."""
        return VoiceClone.from_dict(json_data(self._client._request("GET", _item(voice_id))))

    def delete(self, voice_id: str) -> None:
        """Delete a clone at once, with its stored audio and profile."""
        self._client._request("DELETE", _item(voice_id))

    def wait_for_similarity(
        self, voice_id: str, *, timeout: float = 60.0, interval: float = 0.5
    ) -> VoiceClone:
        """Poll a new clone until its self-check is no longer ``pending`` (usually seconds).

        Parameters
        ----------
        voice_id : str
            The clone's id.
        timeout : float
            Seconds to wait at most, >= 0; the clone is returned as it is then (its
            ``similarity_status`` may still be ``"pending"``).
        interval : float
            Seconds between polls, > 0.
        """
        deadline = time.monotonic() + timeout
        while True:
            clone = self.retrieve(voice_id)
            if not clone.similarity_pending or time.monotonic() >= deadline:
                return clone
            time.sleep(max(0.0, min(interval, deadline - time.monotonic())))

    def retrieve_consent(self, voice_id: str) -> ConsentEvidence:
        """The spoken-consent evidence kept with a clone (404 ``consent_not_found`` without one)."""
        return ConsentEvidence.from_dict(
            json_data(self._client._request("GET", f"{_item(voice_id)}/consent"))
        )


class AsyncVoiceClones(AsyncAPIResource):
    async def create(
        self,
        *,
        audio: AudioInput,
        name: str,
        filename: str | None = None,
        idempotency_key: str | None = None,
        consent_challenge_id: str | None = None,
        consent_audio: AudioInput | None = None,
    ) -> VoiceClone:
        """Async twin of :meth:`VoiceClones.create`."""
        kwargs = create_request(
            audio=audio,
            name=name,
            filename=filename,
            idempotency_key=idempotency_key,
            consent_challenge_id=consent_challenge_id,
            consent_audio=consent_audio,
        )
        return VoiceClone.from_dict(json_data(await self._client._request("POST", PATH, **kwargs)))

    async def list(self, *, limit: int | None = None, after: str | None = None) -> ClonePage:
        """Async twin of :meth:`VoiceClones.list`."""
        params = list_params(limit=limit, after=after)
        return to_page(await self._client._request("GET", PATH, params=params))

    async def list_all(self, *, page_size: int | None = None) -> AsyncIterator[VoiceClone]:
        """Async twin of :meth:`VoiceClones.list_all`."""
        after: str | None = None
        while True:
            page = await self.list(limit=page_size, after=after)
            for clone in page.data:
                yield clone
            if not page.has_more or page.next_cursor is None:
                return
            after = page.next_cursor

    async def retrieve(self, voice_id: str) -> VoiceClone:
        """Async twin of :meth:`VoiceClones.retrieve`."""
        return VoiceClone.from_dict(json_data(await self._client._request("GET", _item(voice_id))))

    async def delete(self, voice_id: str) -> None:
        """Async twin of :meth:`VoiceClones.delete`."""
        await self._client._request("DELETE", _item(voice_id))

    async def wait_for_similarity(
        self, voice_id: str, *, timeout: float = 60.0, interval: float = 0.5
    ) -> VoiceClone:
        """Async twin of :meth:`VoiceClones.wait_for_similarity`."""
        deadline = time.monotonic() + timeout
        while True:
            clone = await self.retrieve(voice_id)
            if not clone.similarity_pending or time.monotonic() >= deadline:
                return clone
            await asyncio.sleep(max(0.0, min(interval, deadline - time.monotonic())))

    async def retrieve_consent(self, voice_id: str) -> ConsentEvidence:
        """Async twin of :meth:`VoiceClones.retrieve_consent`."""
        response = await self._client._request("GET", f"{_item(voice_id)}/consent")
        return ConsentEvidence.from_dict(json_data(response))
