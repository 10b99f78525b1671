"""The overflow router as an aiohttp application, and `serve()` with a graceful SIGTERM drain."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from collections.abc import Callable

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from llama_infra.router.admission import AdmissionController
from llama_infra.router.config import Priority, RouterConfig, load_priority_api_keys
from llama_infra.router.metrics import RouterMetrics
from llama_infra.router.priority import PriorityClassifier, choose_backend
from llama_infra.router.proxy import OUTCOME_KEY, UpstreamFailure, error_response, forward
from llama_infra.router.queue_depth import BackendQueue, QueueDepthMonitor
from llama_infra.router.wake import WakeWait

log = logging.getLogger(__name__)

GENERATION_PATHS = ("/v1/chat/completions", "/v1/completions")
MAX_REQUEST_BYTES = 32 * 1024 * 1024  # long chat histories are large; aiohttp's default is 1 MiB


class Router:
    """State shared by the handlers: backends, queue depths, admission, metrics, drain flag."""

    def __init__(self, config: RouterConfig) -> None:
        self.config = config
        self.classifier = PriorityClassifier(
            load_priority_api_keys(config), config.priority_header, config.trust_priority_header
        )
        self.admission = AdmissionController(config.max_in_flight_requests, config.low_priority_limit)
        self.metrics = RouterMetrics()
        backends = {"primary": BackendQueue(config.primary)}
        if config.fallback is not None:
            backends["fallback"] = BackendQueue(config.fallback)
        self.monitor = QueueDepthMonitor(backends, config.metrics_poll_interval_seconds, config.metrics_stale_seconds)
        self._draining = asyncio.Event()
        self.wake_wait = WakeWait(
            config.wake_wait_seconds, config.wake_retry_interval_seconds, self._draining, self.metrics.waking_requests
        )
        for role in backends:
            self.metrics.waking_requests.labels(role).set(0)  # exported from the start, not from the first hold
        self.session: aiohttp.ClientSession | None = None

    @property
    def draining(self) -> bool:
        return self._draining.is_set()

    @draining.setter
    def draining(self, value: bool) -> None:
        if value:
            self._draining.set()
        else:
            self._draining.clear()

    @property
    def overflow_threshold(self) -> float | None:
        return None if self.config.fallback is None else self.config.fallback.when_queue_depth_over

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        for path in GENERATION_PATHS:
            app.router.add_post(path, self.handle_generation)
        app.router.add_get("/v1/models", self.handle_models)
        app.router.add_get("/health", self.handle_health)
        app.router.add_get("/metrics", self.handle_metrics)
        app.on_startup.append(self._on_startup)
        app.on_cleanup.append(self._on_cleanup)
        return app

    async def _on_startup(self, _app: web.Application) -> None:
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=self.config.connect_timeout_seconds,
            sock_read=self.config.upstream_idle_timeout_seconds,
        )
        # limit=0: the admission controller bounds concurrency, not the connection pool.
        self.session = aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0))
        self.monitor.start(self.session)

    async def _on_cleanup(self, _app: web.Application) -> None:
        await self.monitor.stop()
        if self.session is not None:
            await self.session.close()

    async def handle_generation(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        priority = self.classifier.classify(request.headers)
        if self.draining:
            self.metrics.requests.labels("none", priority.value, "draining").inc()
            return error_response(
                503, "router is shutting down; retry", "unavailable", {"Retry-After": "1", "Connection": "close"}
            )
        if not self.admission.try_admit(priority):
            self.metrics.requests.labels("none", priority.value, "shed").inc()
            return error_response(
                429,
                f"overloaded: {priority.value}-priority requests are being shed; retry later",
                "rate_limit_exceeded",
                {"Retry-After": "1"},
            )
        try:
            return await self._route(request, priority, started)
        finally:
            self.admission.release(priority)

    async def _route(self, request: web.Request, priority: Priority, started: float) -> web.StreamResponse:
        depth, _source = self.monitor.depth("primary")
        role = choose_backend(priority, depth, self.overflow_threshold)
        backend = self.monitor.backends[role]
        body = await request.read()
        if role == "fallback" and self.config.fallback is not None and self.config.fallback.model_id:
            body = _with_model(body, self.config.fallback.model_id)
            if body is None:
                return error_response(400, "request body is not a JSON object", "invalid_request_error")
        headers = {"x-llama-backend": role, "x-llama-priority": priority.value}
        stamp = self.metrics.last_request_timestamp.labels(role).set_to_current_time
        stamp()
        backend.in_flight[priority] += 1
        try:
            session = self.session
            assert session is not None, "router used before startup"
            url = backend.config.url + request.path_qs
            response = await self.wake_wait.forward(
                role, lambda: forward(request, session, url, body, headers), on_retry=stamp
            )
            outcome = response.get(OUTCOME_KEY) or _outcome(response.status)
        except UpstreamFailure as failure:
            response = error_response(failure.status, str(failure), "upstream_error", headers | failure.headers)
            outcome = "upstream_error"
        finally:
            backend.in_flight[priority] -= 1
        self.metrics.requests.labels(role, priority.value, outcome).inc()
        self.metrics.request_duration_seconds.labels(role, priority.value).observe(time.perf_counter() - started)
        return response

    async def handle_models(self, request: web.Request) -> web.StreamResponse:
        assert self.session is not None, "router used before startup"
        try:
            return await forward(request, self.session, self.config.primary.url + request.path_qs, None, {})
        except UpstreamFailure as failure:
            return error_response(failure.status, str(failure), "upstream_error", failure.headers)

    async def handle_health(self, _request: web.Request) -> web.Response:
        if self.draining:
            return web.json_response({"status": "draining"}, status=503)
        return web.json_response({"status": "ok"})

    async def handle_metrics(self, _request: web.Request) -> web.Response:
        self.refresh_gauges()
        return web.Response(body=generate_latest(self.metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    def refresh_gauges(self) -> None:
        for role, queue in self.monitor.backends.items():
            depth, source = self.monitor.depth(role)
            self.metrics.backend_queue_depth.labels(role).set(depth)
            self.metrics.backend_queue_depth_from_metrics.labels(role).set(1 if source == "metrics" else 0)
            for priority in Priority:
                self.metrics.in_flight_requests.labels(role, priority.value).set(queue.in_flight[priority])
        threshold = self.overflow_threshold
        depth, _ = self.monitor.depth("primary")
        self.metrics.overflow_active.set(1 if threshold is not None and depth > threshold else 0)

    async def drain(self, site: web.BaseSite) -> bool:
        """Stop accepting, refuse new requests on kept-alive connections, wait for open ones. True if all finished."""
        self.draining = True
        await site.stop()
        deadline = time.monotonic() + self.config.drain_timeout_seconds
        while self.admission.open_requests and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        left = self.admission.open_requests
        if left:
            log.warning("drain timed out with %d requests still open; they will be cut", left)
        return left == 0


def _with_model(body: bytes, model_id: str) -> bytes | None:
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    payload["model"] = model_id
    return json.dumps(payload).encode()


def _outcome(status: int) -> str:
    if status < 400:
        return "ok"
    return "client_error" if status < 500 else "upstream_error"


def make_runner(router: Router, shutdown_timeout_seconds: float = 1.0) -> web.AppRunner:
    """The router's aiohttp runner (signals are handled by `serve`, which drains first).

    handler_cancellation: a client that hangs up cancels its upstream request, so the GPU stops generating for it.
    """
    return web.AppRunner(
        router.build_app(),
        handle_signals=False,
        shutdown_timeout=shutdown_timeout_seconds,
        access_log=None,
        handler_cancellation=True,
    )


async def serve(config: RouterConfig, on_listening: Callable[[str], None] | None = None) -> bool:
    """Run the router until SIGTERM/SIGINT, then drain. Returns True when every open request finished."""
    router = Router(config)
    runner = make_runner(router)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    await site.start()
    if on_listening is not None:
        on_listening(f"http://{config.host}:{site.port}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
        log.info("signal received: draining")
        drained = await router.drain(site)
    finally:
        await runner.cleanup()
    return drained
