"""Transport shared by :class:`Client` and :class:`AsyncClient`: configuration, requests, retries.

Every request of the SDK goes through ``_request`` here, so retries, error mapping and header
handling live in one place; the decision whether and how long to wait is
:func:`voxclone.client._retry.next_delay`.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import httpx

from voxclone import __version__
from voxclone.client._constants import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
)
from voxclone.client._exceptions import (
    APIConnectionError,
    APITimeoutError,
    VoxcloneError,
    make_status_error,
)
from voxclone.client._retry import next_delay

RETRY_COUNT_HEADER = "x-voxclone-retry-count"
UNSET: Any = object()
"""The default of ``with_options``' parameters: keep the client's value (``None`` is a value)."""


class _ClientConfig:
    """Options common to both clients; resolved once at construction."""

    def __init__(
        self,
        api_key: str | None,
        *,
        base_url: str | httpx.URL | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        default_headers: dict[str, str] | None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        key = key.strip() if isinstance(key, str) else ""
        if not key:
            raise VoxcloneError(f"No API key: pass api_key=... or set the {API_KEY_ENV} environment variable")
        if max_retries < 0:
            raise ValueError("`max_retries` must be 0 or more")
        url = base_url if base_url is not None else os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        self.api_key = key
        self.base_url = httpx.URL(str(url).rstrip("/") + "/")
        self.timeout = timeout if timeout is not None else DEFAULT_TIMEOUT
        self.max_retries = max_retries
        self.default_headers = dict(default_headers or {})

    def _options(self, **changes: Any) -> dict[str, Any]:
        """This client's options, with the ``changes`` that are not :data:`UNSET` applied
        (``with_options``)."""
        options = {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "default_headers": self.default_headers,
        }
        options.update({k: v for k, v in changes.items() if v is not UNSET})
        return options

    def _headers(self, extra: dict[str, str] | None, retries_taken: int) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json",
            "User-Agent": f"voxclone-python/{__version__}",
            **self.default_headers,
            **(extra or {}),
        }
        if retries_taken:
            headers[RETRY_COUNT_HEADER] = str(retries_taken)
        return headers

    def _url(self, path: str) -> httpx.URL:
        return self.base_url.join(path.lstrip("/"))


def _transport_error(err: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    if isinstance(err, httpx.TimeoutException):
        return APITimeoutError(request=request)
    return APIConnectionError(f"Connection error: {err}", request=request)


class SyncAPIClient(_ClientConfig):
    """Base of :class:`voxclone.Client`; owns the ``httpx.Client``."""

    _http: httpx.Client

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
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=self.timeout)

    def close(self) -> None:
        """Close the connection pool (not an ``http_client`` you passed in)."""
        if self._owns_http:
            self._http.close()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    def _request(
        self,
        method: str,
        path: str,
        *,
        stream: bool = False,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request with retries; return a 2xx answer or raise the mapped error.

        With ``stream=True`` the body is left unread and the caller must close the answer;
        otherwise it is read and the connection released.
        """
        kwargs.setdefault("timeout", self.timeout)
        retries_taken = 0
        while True:
            request = self._http.build_request(
                method, self._url(path), headers=self._headers(headers, retries_taken), **kwargs
            )
            try:
                response = self._http.send(request, stream=True)
            except httpx.TransportError as err:
                delay = next_delay(retries_taken, self.max_retries, error=err)
                if delay is None:
                    raise _transport_error(err, request) from err
            else:
                if not response.is_error:
                    if not stream:
                        self._read(response, request)
                    return response
                delay = next_delay(retries_taken, self.max_retries, response=response)
                content = self._read(response, request)
                if delay is None:
                    raise make_status_error(response, content)
            time.sleep(delay)
            retries_taken += 1

    @staticmethod
    def _read(response: httpx.Response, request: httpx.Request) -> bytes:
        try:
            return response.read()
        except httpx.TransportError as err:
            raise _transport_error(err, request) from err
        finally:
            response.close()


class AsyncAPIClient(_ClientConfig):
    """Base of :class:`voxclone.AsyncClient`; owns the ``httpx.AsyncClient``."""

    _http: httpx.AsyncClient

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
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=self.timeout)

    async def close(self) -> None:
        """Close the connection pool (not an ``http_client`` you passed in)."""
        if self._owns_http:
            await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def _request(
        self,
        method: str,
        path: str,
        *,
        stream: bool = False,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Async twin of :meth:`SyncAPIClient._request`."""
        kwargs.setdefault("timeout", self.timeout)
        retries_taken = 0
        while True:
            request = self._http.build_request(
                method, self._url(path), headers=self._headers(headers, retries_taken), **kwargs
            )
            try:
                response = await self._http.send(request, stream=True)
            except httpx.TransportError as err:
                delay = next_delay(retries_taken, self.max_retries, error=err)
                if delay is None:
                    raise _transport_error(err, request) from err
            else:
                if not response.is_error:
                    if not stream:
                        await self._read(response, request)
                    return response
                delay = next_delay(retries_taken, self.max_retries, response=response)
                content = await self._read(response, request)
                if delay is None:
                    raise make_status_error(response, content)
            await asyncio.sleep(delay)
            retries_taken += 1

    @staticmethod
    async def _read(response: httpx.Response, request: httpx.Request) -> bytes:
        try:
            return await response.aread()
        except httpx.TransportError as err:
            raise _transport_error(err, request) from err
        finally:
            await response.aclose()
