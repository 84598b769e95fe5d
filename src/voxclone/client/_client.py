"""The public clients: :class:`Client` (blocking) and :class:`AsyncClient` (asyncio)."""

from __future__ import annotations

from types import TracebackType

import httpx

from voxclone.client._base_client import UNSET
from voxclone.client._constants import DEFAULT_MAX_RETRIES
from voxclone.client._outeai import AsyncOuteAIMethods, OuteAIMethods
from voxclone.client.resources import (
    AccountResource,
    AsyncAccountResource,
    AsyncConsent,
    AsyncSpeech,
    AsyncVoiceClones,
    AsyncVoices,
    Consent,
    Speech,
    VoiceClones,
    Voices,
)


class Client(OuteAIMethods):
    """Blocking client of a voxclone server.

    Parameters
    ----------
    api_key : str, optional
        ``oute_...`` key; defaults to the ``VOXCLONE_API_KEY`` environment variable. The only
        argument that may be passed by position, so ``OuteAI(api_key, base_url=...)`` code ports.
    base_url : str, optional
        Server root; defaults to ``VOXCLONE_BASE_URL``, else ``http://127.0.0.1:8000``.
    timeout : float or httpx.Timeout, optional
        Seconds; default 600 s overall with a 5 s connect timeout.
    max_retries : int
        Retries after connection errors, 408, 429 and 5xx (default 2), waiting as the server's
        ``Retry-After`` says, else with exponential backoff and jitter.
    default_headers : dict, optional
        Headers sent with every request.
    http_client : httpx.Client, optional
        Your own ``httpx.Client`` (proxies, transports); you then close it yourself.

    Examples
    --------
    >>> from voxclone import Client
    >>> client = Client()  # doctest: +SKIP
    >>> clone = client.voice_clones.create(audio="me.wav", name="me")  # doctest: +SKIP
    >>> client.speech.create(text="Hello!", voice_id=clone.voice_id).save("hello.wav")  # doctest: +SKIP
    """

    voice_clones: VoiceClones
    voices: Voices
    speech: Speech
    account: AccountResource
    consent: Consent

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: dict[str, str] | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            http_client=http_client,
        )
        self.voice_clones = VoiceClones(self)
        self.voices = Voices(self)
        self.speech = Speech(self)
        self.account = AccountResource(self)
        self.consent = Consent(self)

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | None = UNSET,
        max_retries: int = UNSET,
        default_headers: dict[str, str] | None = UNSET,
    ) -> Client:
        """A copy with some options changed, sharing this client's connection pool."""
        options = self._options(timeout=timeout, max_retries=max_retries, default_headers=default_headers)
        return Client(**options, http_client=self._http)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncClient(AsyncOuteAIMethods):
    """Asyncio client of a voxclone server; same parameters and resources as :class:`Client`.

    Examples
    --------
    >>> async with AsyncClient() as client:  # doctest: +SKIP
    ...     async with client.speech.stream(text="Hi", voice_id="af_heart", format="pcm") as s:
    ...         async for samples in s.iter_pcm():
    ...             ...
    """

    voice_clones: AsyncVoiceClones
    voices: AsyncVoices
    speech: AsyncSpeech
    account: AsyncAccountResource
    consent: AsyncConsent

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: dict[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            http_client=http_client,
        )
        self.voice_clones = AsyncVoiceClones(self)
        self.voices = AsyncVoices(self)
        self.speech = AsyncSpeech(self)
        self.account = AsyncAccountResource(self)
        self.consent = AsyncConsent(self)

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | None = UNSET,
        max_retries: int = UNSET,
        default_headers: dict[str, str] | None = UNSET,
    ) -> AsyncClient:
        """A copy with some options changed, sharing this client's connection pool."""
        options = self._options(timeout=timeout, max_retries=max_retries, default_headers=default_headers)
        return AsyncClient(**options, http_client=self._http)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
