"""POST a JSON body to one OpenAI-compatible endpoint, for hundreds of concurrent calls: aiohttp when installed.

Why not httpx for every call: httpx's own async pool costs ~20 ms of event-loop time per request once a few hundred
requests are in flight on one client (encode/httpx#3215, open), and even over an aiohttp transport its request and
response models (URL merging, header and cookie handling, stdlib JSON encoding) were ~0.3 ms of the orchestrator's
CPU per call at 256 critics (BENCHMARKS.md). So the fast path posts bytes encoded once with orjson
straight through one aiohttp session. Both paths raise httpx's TimeoutException / TransportError types, which are
what the backend retries on; httpx remains the fallback when aiohttp is missing (correct, only slower).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import orjson

try:
    import aiohttp
except ImportError:
    aiohttp = None  # type: ignore[assignment]


@dataclass
class Reply:
    """An HTTP answer, fully read: status and raw body."""

    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return orjson.loads(self.content)  # orjson.JSONDecodeError is a ValueError


class JsonClient(Protocol):
    is_closed: bool

    async def post_json(self, path: str, body: dict[str, Any]) -> Reply: ...

    async def aclose(self) -> None: ...


class AiohttpJsonClient:
    """One aiohttp session (created lazily, inside the running loop) with at most `limit` connections."""

    def __init__(self, base_url: str, headers: dict[str, str], limit: int, timeout_s: float,
                 connect_timeout_s: float = 10.0) -> None:
        assert aiohttp is not None, "AiohttpJsonClient needs aiohttp"
        self._base = base_url.rstrip("/")
        self._headers = {"Content-Type": "application/json", "Accept": "application/json", **headers}
        self._limit = limit
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=min(connect_timeout_s, timeout_s))
        self._session: Any = None
        self.is_closed = False

    def _open(self) -> Any:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._limit, limit_per_host=self._limit, keepalive_timeout=60)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout,
                                                  auto_decompress=True, skip_auto_headers=("User-Agent",))
            self.is_closed = False
        return self._session

    async def post_json(self, path: str, body: dict[str, Any]) -> Reply:
        url = self._base + path
        try:
            async with self._open().post(url, data=orjson.dumps(body), headers=self._headers) as resp:
                return Reply(resp.status, await resp.read())
        except asyncio.TimeoutError as exc:
            raise httpx.ReadTimeout(f"timed out: {exc}") from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        except aiohttp.ClientError as exc:  # disconnects, payload errors: transport faults the backend retries
            raise httpx.ReadError(f"{type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        self.is_closed = True


class HttpxJsonClient:
    """The fallback: httpx's own pool."""

    def __init__(self, base_url: str, headers: dict[str, str], limit: int, timeout_s: float) -> None:
        limits = httpx.Limits(max_connections=limit, max_keepalive_connections=limit)
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), headers=headers, limits=limits,
                                         timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)))

    @property
    def is_closed(self) -> bool:
        return self._client.is_closed

    async def post_json(self, path: str, body: dict[str, Any]) -> Reply:
        resp = await self._client.post(path, content=orjson.dumps(body),
                                       headers={"Content-Type": "application/json"})
        return Reply(resp.status_code, resp.content)

    async def aclose(self) -> None:
        await self._client.aclose()


def json_client(base_url: str, headers: dict[str, str], limit: int, timeout_s: float) -> JsonClient:
    """The fast client when aiohttp is installed, else httpx's."""
    if aiohttp is not None:
        return AiohttpJsonClient(base_url, headers, limit, timeout_s)
    return HttpxJsonClient(base_url, headers, limit, timeout_s)
