"""Queue depth per backend: scraped from the server's Prometheus metrics, or counted by the router itself."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from llama_infra.router.config import BackendConfig, Priority
from llama_infra.targets.kubernetes.prometheus_metrics import SERVER_METRICS

log = logging.getLogger(__name__)


# Waiting- and running-request gauges of the servers we deploy (the one definition:
# llama_infra.targets.kubernetes.prometheus_metrics).
QUEUE_METRIC_NAMES = {framework: m.queue_depth for framework, m in SERVER_METRICS.items()}
RUNNING_METRIC_NAMES = {framework: m.running for framework, m in SERVER_METRICS.items()}


class BadQueueDepth(ValueError):
    """The backend exported a depth no queue can have (NaN, infinite or negative)."""


def _gauge_total(exposition: str, names: dict[str, str], queue_metric: str) -> float | None:
    wanted = set(names.values()) if queue_metric == "auto" else {names[queue_metric]}
    totals: dict[str, float] = {}
    # Untyped expositions split one metric into several families, so sum over every family with the name.
    for family in text_string_to_metric_families(exposition):
        if family.name in wanted:
            for sample in family.samples:
                if sample.name != family.name:
                    continue
                if not math.isfinite(sample.value) or sample.value < 0:
                    raise BadQueueDepth(f"{sample.name}{sample.labels} is {sample.value}: not a request count")
                totals[family.name] = totals.get(family.name, 0.0) + float(sample.value)
    return next(iter(totals.values()), None)


def parse_queue_depth(exposition: str, queue_metric: str) -> float | None:
    """Sum of the backend's waiting-requests gauge over all its label sets, or None if it does not export one.

    `queue_metric` is `vllm`, `tgi` or `auto` (whichever of the two appears first). Raises `BadQueueDepth` when a
    sample is NaN, infinite or negative: that scrape is discarded rather than routed on.
    """
    return _gauge_total(exposition, QUEUE_METRIC_NAMES, queue_metric)


def parse_running(exposition: str, queue_metric: str) -> float | None:
    """Sum of the backend's running-requests gauge (what its replicas are generating for right now), or None."""
    return _gauge_total(exposition, RUNNING_METRIC_NAMES, queue_metric)


@dataclass
class BackendQueue:
    """What the router knows about one backend's queue."""

    config: BackendConfig
    in_flight: Counter[Priority] = field(default_factory=Counter)
    scraped_depth: float | None = None
    scraped_at_monotonic: float = float("-inf")
    slots: float = 0.0
    """The most requests the backend was seen running at once (its scraped running gauge): its batch capacity."""

    @property
    def in_flight_total(self) -> int:
        return sum(self.in_flight.values())

    def depth(self, stale_after_seconds: float) -> tuple[float, str]:
        """(queue depth, source): the scraped waiting gauge while fresh, else an estimate of the waiting requests
        from the router's own count: what it has open to the backend beyond the slots the backend was seen running
        (the whole in-flight count only for a backend that never exported a running gauge, or `in_flight`)."""
        fresh = time.monotonic() - self.scraped_at_monotonic <= stale_after_seconds
        if self.config.queue_metric != "in_flight" and self.scraped_depth is not None and fresh:
            return self.scraped_depth, "metrics"
        return max(0.0, self.in_flight_total - self.slots), "in_flight"


class QueueDepthMonitor:
    """Polls each backend's metrics endpoint on an interval; each scrape is bounded by its own time-out."""

    def __init__(
        self,
        backends: dict[str, BackendQueue],
        interval_seconds: float,
        stale_after_seconds: float,
        scrape_timeout_seconds: float | None = None,
    ) -> None:
        self.backends = backends
        self._interval = interval_seconds
        self._scrape_timeout = scrape_timeout_seconds or interval_seconds
        self._stale_after = stale_after_seconds
        self._task: asyncio.Task[None] | None = None

    def depth(self, role: str) -> tuple[float, str]:
        return self.backends[role].depth(self._stale_after)

    async def scrape_once(self, session: aiohttp.ClientSession) -> None:
        await asyncio.gather(*(self._scrape(session, queue) for queue in self.backends.values()))

    async def _scrape(self, session: aiohttp.ClientSession, queue: BackendQueue) -> None:
        if queue.config.queue_metric == "in_flight":
            return
        try:
            timeout = aiohttp.ClientTimeout(total=self._scrape_timeout)
            async with session.get(queue.config.resolved_metrics_url, timeout=timeout) as response:
                response.raise_for_status()
                text = await response.text()
            depth = parse_queue_depth(text, queue.config.queue_metric)
            running = parse_running(text, queue.config.queue_metric)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            log.debug("queue depth scrape of %s failed: %s", queue.config.resolved_metrics_url, exc)
            return  # the old value goes stale and the router falls back to its in-flight count
        if running is not None:
            queue.slots = max(queue.slots, running)
        if depth is not None:
            queue.scraped_depth = depth
            queue.scraped_at_monotonic = time.monotonic()

    def start(self, session: aiohttp.ClientSession) -> None:
        async def loop() -> None:
            while True:
                await self.scrape_once(session)
                await asyncio.sleep(self._interval)

        self._task = asyncio.create_task(loop(), name="queue-depth-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
