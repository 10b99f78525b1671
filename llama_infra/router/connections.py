"""A cap on open client connections, enforced before anything is read from them.

aiohttp keeps every accepted connection (idle keep-alive, a trickled header) until its own time-outs close it; a
flood of them uses up the process' file descriptors and real requests then time out. `CappedAppRunner` answers a
connection beyond `max_connections` with a bare `503` + `Connection: close` the moment it is accepted and closes it,
so the connections already open (and the requests on them) are not affected.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web
from prometheus_client import Counter

from llama_infra.router.proxy import error_body

_BODY = json.dumps(error_body("too many open connections; retry", "unavailable", 503)).encode()
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
    b"Connection: close\r\nContent-Length: " + str(len(_BODY)).encode() + b"\r\n\r\n" + _BODY
)


class CappedAppRunner(web.AppRunner):
    """`web.AppRunner` whose server refuses connections beyond `max_connections` (counted in `refused`)."""

    def __init__(self, app: web.Application, *, max_connections: int, refused: Counter, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.max_connections = max_connections
        self._refused = refused

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        register = server.connection_made

        # RequestHandler.connection_made reports each new connection to its server (the "manager") before it reads
        # anything: the one place to refuse it without a protocol of our own.
        def connection_made(handler: Any, transport: asyncio.Transport) -> None:
            register(handler, transport)
            if len(server.connections) > self.max_connections:
                self._refused.inc()
                transport.write(REFUSAL)
                handler.force_close()
                transport.close()

        server.connection_made = connection_made  # type: ignore[method-assign]
        return server
