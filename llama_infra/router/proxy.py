"""Forwarding one OpenAI-compatible request to a backend, streamed or not, with clean failures.

A backend that dies or goes silent mid-stream never leaves the client hanging: the client gets an OpenAI-style
`error` event followed by `data: [DONE]` (what vLLM itself sends when generation fails), at an event boundary.
"""

from __future__ import annotations

import asyncio
import json
import logging

import aiohttp
from aiohttp import web

log = logging.getLogger(__name__)

# Hop-by-hop headers (RFC 9110 §7.6.1) and the ones aiohttp recomputes; never forwarded either way.
_NOT_FORWARDED = frozenset(
    h.lower()
    for h in (
        "Connection",
        "Keep-Alive",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
        "Host",
        "Content-Length",
        "Content-Encoding",
    )
)
_EVENT_END = b"\n\n"
_DONE = b"data: [DONE]"
OUTCOME_KEY = web.ResponseKey("llama_outcome", str)
"""Set on a stream response that failed after it started (its status is already 200)."""


class UpstreamEndedEarly(Exception):
    """The backend closed a stream without its final `data: [DONE]` event."""


def error_body(message: str, error_type: str, code: int) -> dict[str, object]:
    """OpenAI's error shape, so existing clients show the message."""
    return {"error": {"message": message, "type": error_type, "code": code}}


def error_response(status: int, message: str, error_type: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(error_body(message, error_type, status), status=status, headers=headers)


def error_event(message: str, code: int = 502) -> bytes:
    payload = json.dumps(error_body(message, "upstream_error", code))
    return f"data: {payload}\n\n".encode() + _DONE + _EVENT_END


def forwarded_headers(headers: aiohttp.typedefs.LooseHeaders) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in _NOT_FORWARDED}  # type: ignore[union-attr]


# A refused connection means no replica behind the Service (scaled to zero and waking, or all restarting): the
# client gets 503 with this Retry-After (after `RouterConfig.wake_wait_seconds`, see router.wake). The request has
# already stamped the last-request gauge that KEDA's wake-up trigger reads (`metrics.recent_request_query`).
UNAVAILABLE_RETRY_AFTER_SECONDS = 10


class UpstreamFailure(Exception):
    """The backend could not produce a response head; carries the HTTP status (and Retry-After) to return."""

    def __init__(self, status: int, message: str, retry_after_seconds: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_seconds = retry_after_seconds

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.retry_after_seconds is None else {"Retry-After": str(self.retry_after_seconds)}


class BackendRefused(UpstreamFailure):
    """No replica accepted the connection: nothing reached the backend, so sending the request again is safe."""


async def forward(
    request: web.Request,
    session: aiohttp.ClientSession,
    url: str,
    body: bytes | None,
    response_headers: dict[str, str],
    *,
    request_headers: dict[str, str] | None = None,
    timeout: aiohttp.ClientTimeout | None = None,
    cut: asyncio.Event | None = None,
) -> web.StreamResponse:
    """Send `body` to `url` with `request_headers` (default: the client's); stream SSE responses event by event.

    Raises `UpstreamFailure` when the backend cannot be reached or fails before its response head; once a stream
    has started, failures become an error event instead. `timeout` overrides the session's (the router gives
    non-streaming requests their own, longer read time-out). When `cut` is set and the handler is cancelled (the
    router's drain ran out of time), an open stream ends with an error event and `[DONE]` instead of a bare close.
    """
    headers = forwarded_headers(request.headers) if request_headers is None else request_headers
    timeout = session.timeout if timeout is None else timeout  # (timeout=None would mean no time-out at all)
    try:
        async with session.request(request.method, url, data=body, headers=headers, timeout=timeout) as upstream:
            content_type = upstream.headers.get("Content-Type", "")
            if upstream.status == 200 and content_type.startswith("text/event-stream"):
                return await _stream_events(request, upstream, response_headers, cut)
            payload = await upstream.read()
            out_headers = forwarded_headers(upstream.headers) | response_headers
            return web.Response(status=upstream.status, body=payload, headers=out_headers)
    except aiohttp.ConnectionTimeoutError as exc:  # no connection within connect_timeout: nothing was sent
        raise BackendRefused(
            503, f"backend {url} did not accept a connection in time; retry", UNAVAILABLE_RETRY_AFTER_SECONDS
        ) from exc
    except TimeoutError as exc:
        raise UpstreamFailure(504, f"backend {url} did not answer in time") from exc
    except aiohttp.ClientConnectorError as exc:
        raise BackendRefused(
            503, f"backend {url} has no serving replica (it may be starting); retry", UNAVAILABLE_RETRY_AFTER_SECONDS
        ) from exc
    except aiohttp.ClientError as exc:
        raise UpstreamFailure(502, f"backend {url} failed: {type(exc).__name__}: {exc}") from exc


class _ClientGone(Exception):
    """The client closed its connection; the upstream request is dropped with it (freeing the backend's slot)."""


async def _send(out: web.StreamResponse, data: bytes) -> None:
    try:
        await out.write(data)
    except ConnectionResetError as exc:  # aiohttp's ClientConnectionResetError: writing to a closed client
        raise _ClientGone from exc


async def _stream_events(
    request: web.Request,
    upstream: aiohttp.ClientResponse,
    response_headers: dict[str, str],
    cut: asyncio.Event | None,
) -> web.StreamResponse:
    out = web.StreamResponse(
        status=200,
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"} | response_headers,
    )
    await out.prepare(request)
    try:
        try:
            await _relay(upstream, out)
        except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            await _send_error(out, f"backend connection lost mid-stream: {type(exc).__name__}")
        except TimeoutError:
            await _send_error(out, "backend went silent mid-stream", code=504)
        except UpstreamEndedEarly as exc:
            await _send_error(out, str(exc))
        except asyncio.CancelledError:
            if cut is None or not cut.is_set():
                raise  # the client hung up (handler cancellation): nobody to tell
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()  # the router cut this stream on purpose; finish it properly
            await _send_error(out, "router shut down before the stream finished; retry the request", code=503)
            out[OUTCOME_KEY] = "cut"
        await out.write_eof()
    except _ClientGone:
        log.info("client went away mid-stream; dropping the upstream request")
    return out


async def _relay(upstream: aiohttp.ClientResponse, out: web.StreamResponse) -> None:
    pending = b""
    saw_done = False
    async for chunk in upstream.content.iter_any():
        if not pending and chunk.endswith(_EVENT_END):
            complete = chunk  # the usual case: servers flush whole events
        else:
            pending += chunk
            cut = pending.rfind(_EVENT_END)
            if cut < 0:
                continue  # only whole events go out, so an error event can always follow cleanly
            complete, pending = pending[: cut + 2], pending[cut + 2 :]
        saw_done = saw_done or complete.endswith(_DONE + _EVENT_END) or _DONE in complete
        await _send(out, complete)
    if pending.strip():
        saw_done = saw_done or _DONE in pending
        await _send(out, pending if pending.endswith(_EVENT_END) else pending + _EVENT_END)
    if not saw_done:
        raise UpstreamEndedEarly("backend closed the stream before [DONE]")


async def _send_error(out: web.StreamResponse, message: str, code: int = 502) -> None:
    log.warning("stream failed: %s", message)
    out[OUTCOME_KEY] = "upstream_error"
    await _send(out, error_event(message, code))
