"""``client.consent``: challenge phrases for a speaker's spoken consent before cloning."""

from __future__ import annotations

from typing import Any

from voxclone.client._resource import AsyncAPIResource, SyncAPIResource, json_data
from voxclone.client.types import ConsentChallenge

PATH = "/api/v1/consent-challenges"


def _body(language: str | None, speaker_name: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if language is not None:
        body["language"] = language
    if speaker_name is not None:
        body["speaker_name"] = speaker_name
    return body


class Consent(SyncAPIResource):
    def create_challenge(
        self, *, language: str | None = None, speaker_name: str | None = None
    ) -> ConsentChallenge:
        """A phrase for the speaker to read aloud (a consent statement and random check words),
        valid 15 minutes by default and usable for one clone.

        Record the speaker reading ``phrase`` and pass ``consent_challenge_id=challenge_id`` and
        ``consent_audio=`` the recording to :meth:`VoiceClones.create`.

        Parameters
        ----------
        language : str, optional
            Only ``"en"`` for now (others: ``consent_language_unsupported``).
        speaker_name : str, optional
            Said at the start of the phrase (at most 100 characters; not checked).
        """
        body = _body(language, speaker_name)
        return ConsentChallenge.from_dict(json_data(self._client._request("POST", PATH, json=body)))


class AsyncConsent(AsyncAPIResource):
    async def create_challenge(
        self, *, language: str | None = None, speaker_name: str | None = None
    ) -> ConsentChallenge:
        """Async twin of :meth:`Consent.create_challenge`."""
        body = _body(language, speaker_name)
        return ConsentChallenge.from_dict(json_data(await self._client._request("POST", PATH, json=body)))
