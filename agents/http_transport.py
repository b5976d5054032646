"""An httpx transport that sends through aiohttp, for hundreds of concurrent calls to one endpoint.

Why: httpx's own async pool costs ~20 ms of event-loop time per request once a few hundred requests are in
flight on one client (encode/httpx#3215, open); 256 calls that a server answers in 0.2 s took 6 s here. aiohttp's
connector does the same work in ~1 ms per request. Keeping httpx as the API (requests, responses, the
TimeoutException/TransportError types the backend retries on) makes this a one-line swap in the backend.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

try:
    import aiohttp
except ImportError:  # the backend falls back to httpx's own pool (correct, only slower at high concurrency)
    aiohttp = None  # type: ignore[assignment]

# Headers aiohttp computes itself from the URL and body; forwarding httpx's copies would duplicate them.
_HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "accept-encoding"}
_DECODED_HEADERS = {b"content-encoding", b"transfer-encoding", b"content-length"}


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp session (created lazily, inside the running loop) with at most `limit` connections."""

    def __init__(self, limit: int, timeout_s: float, connect_timeout_s: float = 10.0) -> None:
        assert aiohttp is not None, "AiohttpTransport needs aiohttp"
        self._limit = limit
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=min(connect_timeout_s, timeout_s))
        self._session: Any = None

    def _open(self) -> Any:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._limit, limit_per_host=self._limit, keepalive_timeout=60)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout,
                                                  auto_decompress=True, skip_auto_headers=("User-Agent",))
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._open()
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in _HOP_HEADERS]
        try:
            async with session.request(request.method, str(request.url), headers=headers,
                                       data=request.content) as resp:
                body = await resp.read()
                status, raw = resp.status, resp.raw_headers
        except asyncio.TimeoutError as exc:
            raise httpx.ReadTimeout(f"timed out: {exc}", request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except aiohttp.ClientError as exc:  # disconnects, payload errors: transport faults the backend retries
            raise httpx.ReadError(f"{type(exc).__name__}: {exc}", request=request) from exc
        # The body is already decoded; drop the headers that would make httpx decode or re-frame it.
        kept = [(k, v) for k, v in raw if k.lower() not in _DECODED_HEADERS]
        return httpx.Response(status, headers=kept, content=body, request=request)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def pooled_transport(limit: int, timeout_s: float) -> httpx.AsyncBaseTransport | None:
    """The fast transport when aiohttp is installed; None means "use httpx's default"."""
    return AiohttpTransport(limit, timeout_s) if aiohttp is not None else None
