"""Holding a request while its backend wakes from zero (what KEDA's HTTP add-on interceptor does).

A refused connection means no replica is behind the backend's Service yet. Answering 503 at once is correct but
useless to most clients: OpenAI SDKs retry a 503 twice within seconds, while a replica scaled to zero needs a node
and a cold start (minutes). With `RouterConfig.wake_wait_seconds` the router instead tries the connection again
every `wake_retry_interval_seconds` until the backend accepts or the wait is over, then answers the same 503 +
Retry-After as without a wait.

Only `BackendRefused` is retried: the request never reached the backend, so it cannot run twice. Anything that got
a connection (an error status, a reset, a timeout mid-response) goes back to the client as before. The hold ends
early when the router drains (`stop` is set): the client gets the 503 at once, so a SIGTERM is never delayed by a
held request. A client that hangs up cancels the handler (`handler_cancellation`), which ends the hold with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from prometheus_client import Gauge

from llama_infra.router.proxy import BackendRefused

T = TypeVar("T")


class WakeWait:
    """The hold policy for one router: how long, how often, when to give up early, and the gauge of held requests."""

    def __init__(self, wait_seconds: float, retry_interval_seconds: float, stop: asyncio.Event, held: Gauge) -> None:
        self.wait_seconds = wait_seconds
        self.retry_interval_seconds = retry_interval_seconds
        self.stop = stop
        self.held = held

    async def forward(self, backend: str, attempt: Callable[[], Awaitable[T]], on_retry: Callable[[], None]) -> T:
        """`attempt()` until it does not raise `BackendRefused`, within the wait; then the last refusal is raised.

        `on_retry` runs before every new attempt (the router re-stamps the last-request gauge: a held request is
        still demand, and KEDA's wake trigger must keep seeing it).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_seconds
        while True:
            try:
                return await attempt()
            except BackendRefused:
                if not await self._hold(backend, deadline - loop.time()):
                    raise
            on_retry()

    async def _hold(self, backend: str, remaining_seconds: float) -> bool:
        """Wait one retry interval (shorter at the deadline); False when the wait is over or the router drains."""
        if remaining_seconds <= 0 or self.stop.is_set():
            return False
        gauge = self.held.labels(backend)
        gauge.inc()
        try:
            await asyncio.wait_for(self.stop.wait(), min(self.retry_interval_seconds, remaining_seconds))
        except TimeoutError:
            return True
        finally:
            gauge.dec()
        return False
