"""One module per API resource, each with a sync class and its async twin."""

from voxclone.client.resources.account import AccountResource, AsyncAccountResource
from voxclone.client.resources.consent import AsyncConsent, Consent
from voxclone.client.resources.speech import AsyncSpeech, Speech
from voxclone.client.resources.voice_clones import AsyncVoiceClones, VoiceClones
from voxclone.client.resources.voices import AsyncVoices, Voices

__all__ = [
    "AccountResource",
    "AsyncAccountResource",
    "AsyncConsent",
    "AsyncSpeech",
    "AsyncVoiceClones",
    "AsyncVoices",
    "Consent",
    "Speech",
    "VoiceClones",
    "Voices",
]
