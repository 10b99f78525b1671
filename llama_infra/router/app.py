"""The overflow router as an aiohttp application, and `serve()` with a graceful SIGTERM drain."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from llama_infra.router.admission import AdmissionController
from llama_infra.router.auth import CREDENTIAL_HEADERS, KeyRing, request_api_key
from llama_infra.router.config import (
    Priority,
    RouterConfig,
    load_backend_api_key,
    load_client_api_keys,
    load_priority_api_keys,
)
from llama_infra.router.connections import CappedAppRunner
from llama_infra.router.metrics import RouterMetrics
from llama_infra.router.priority import BackendRole, PriorityClassifier, choose_backend, other_backend
from llama_infra.router.proxy import (
    OUTCOME_KEY,
    BackendRefused,
    UpstreamFailure,
    error_response,
    forward,
    forwarded_headers,
)
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
        self.client_keys = KeyRing(load_client_api_keys(config)) if config.require_api_key else None
        self.backend_api_key = load_backend_api_key(config)
        self.admission = AdmissionController(config.max_in_flight_requests, config.low_priority_limit)
        self.metrics = RouterMetrics()
        backends = {"primary": BackendQueue(config.primary)}
        if config.fallback is not None:
            backends["fallback"] = BackendQueue(config.fallback)
        self.monitor = QueueDepthMonitor(
            backends,
            config.metrics_poll_interval_seconds,
            config.metrics_stale_seconds,
            config.metrics_scrape_timeout_seconds,
        )
        self._draining = asyncio.Event()
        self._cut = asyncio.Event()
        """Set when the drain ran out of time: open requests are cancelled and told so (error event or 503)."""
        self._handlers: set[asyncio.Task[object]] = set()
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
        app.router.add_get("/v1/models", self.handle_models_authenticated)
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

    def _unauthorized(self, request: web.Request) -> web.Response | None:
        """401 unless the request carries one of the configured keys (when `require_api_key` is on)."""
        if self.client_keys is None:
            return None
        key = request_api_key(request.headers)
        if key is not None and key in self.client_keys:
            return None
        why = "no API key" if key is None else "an API key that is not valid here"
        return error_response(
            401,
            f"the request carries {why}; send `Authorization: Bearer <key>` with a key of this deployment",
            "invalid_request_error",
            {"WWW-Authenticate": "Bearer"},
        )

    def upstream_headers(self, request: web.Request) -> dict[str, str]:
        """The client's headers minus hop-by-hop ones and (unless configured) its credentials, plus the backends'
        own key when they require one (vLLM --api-key)."""
        headers = forwarded_headers(request.headers)
        if not self.config.forward_client_credentials:
            headers = {k: v for k, v in headers.items() if k.lower() not in CREDENTIAL_HEADERS}
        if self.backend_api_key is not None:
            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            headers["Authorization"] = f"Bearer {self.backend_api_key}"
        return headers

    async def handle_generation(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        denied = self._unauthorized(request)
        if denied is not None:
            self.metrics.requests.labels("none", "none", "unauthorized").inc()
            return denied
        priority = self.classifier.classify(request.headers)
        if self.draining:
            self.metrics.requests.labels("none", priority.value, "draining").inc()
            return error_response(
                503, "router is shutting down; retry", "unavailable", {"Retry-After": "1", "Connection": "close"}
            )
        # The whole body before admission: a client trickling its body holds a connection, never an admission slot.
        try:
            body = await asyncio.wait_for(request.read(), self.config.request_body_timeout_seconds)
        except TimeoutError:
            self.metrics.requests.labels("none", priority.value, "body_timeout").inc()
            return error_response(
                408,
                f"the request body did not arrive within {self.config.request_body_timeout_seconds:g} s; send it "
                "at once",
                "invalid_request_error",
                {"Connection": "close"},
            )
        if not self.admission.try_admit(priority):
            self.metrics.requests.labels("none", priority.value, "shed").inc()
            return error_response(
                429,
                f"overloaded: {priority.value}-priority requests are being shed; retry later",
                "rate_limit_exceeded",
                {"Retry-After": "1"},
            )
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            return await self._route(request, body, priority, started)
        except asyncio.CancelledError:
            if not self._cut.is_set():
                raise  # the client hung up
            task.uncancel()
            self.metrics.requests.labels("none", priority.value, "cut").inc()
            return error_response(
                503, "router shut down before the backend answered; retry", "unavailable", {"Connection": "close"}
            )
        finally:
            self._handlers.discard(task)
            self.admission.release(priority)

    async def _route(self, request: web.Request, body: bytes, priority: Priority, started: float) -> web.StreamResponse:
        depth, _source = self.monitor.depth("primary")
        chosen = choose_backend(priority, depth, self.overflow_threshold)
        payload = _json_object(body)
        if payload is None and chosen == "fallback" and self._rewrites_model:
            return error_response(400, "request body is not a JSON object", "invalid_request_error")
        streaming = payload is not None and payload.get("stream") is True
        # Failover: a backend that refuses the connection (no serving replica) never saw the request, so the other
        # one gets it at once; only when both refuse does the wake wait hold it for the chosen one. (The fallback
        # needs a JSON body to rewrite its model into.)
        alternative = other_backend(chosen)
        can_fail_over = self.config.fallback is not None and (
            alternative == "primary" or payload is not None or not self._rewrites_model
        )
        if can_fail_over:
            for role in (chosen, alternative):
                try:
                    return await self._attempt(request, role, body, payload, priority, streaming, started, hold=False)
                except BackendRefused:
                    if role == chosen:
                        self.metrics.failovers.labels(chosen, alternative).inc()
        return await self._attempt(request, chosen, body, payload, priority, streaming, started, hold=True)

    @property
    def non_streaming_timeout(self) -> aiohttp.ClientTimeout:
        """A non-streaming answer arrives whole, after the last token: its read time-out is the request time-out."""
        return aiohttp.ClientTimeout(
            total=None, connect=self.config.connect_timeout_seconds, sock_read=self.config.request_timeout_seconds
        )

    @property
    def _rewrites_model(self) -> bool:
        return self.config.fallback is not None and bool(self.config.fallback.model_id)

    async def _attempt(
        self,
        request: web.Request,
        role: BackendRole,
        body: bytes,
        payload: dict | None,
        priority: Priority,
        streaming: bool,
        started: float,
        hold: bool,
    ) -> web.StreamResponse:
        """Send the request to `role`. Raises `BackendRefused` when not holding and nothing reached the backend."""
        backend = self.monitor.backends[role]
        if role == "fallback" and self._rewrites_model and payload is not None:
            assert self.config.fallback is not None and self.config.fallback.model_id
            body = json.dumps(payload | {"model": self.config.fallback.model_id}).encode()
        headers = {"x-llama-backend": role, "x-llama-priority": priority.value}
        stamp = self.metrics.last_request_timestamp.labels(role).set_to_current_time
        stamp()
        timeout = None if streaming else self.non_streaming_timeout
        upstream_headers = self.upstream_headers(request)
        session = self.session
        assert session is not None, "router used before startup"
        url = backend.config.url + request.path_qs

        def send() -> Awaitable[web.StreamResponse]:
            return forward(
                request, session, url, body, headers, request_headers=upstream_headers, timeout=timeout, cut=self._cut
            )

        backend.in_flight[priority] += 1
        try:
            if hold:
                response = await self.wake_wait.forward(role, send, on_retry=stamp)
            else:
                response = await send()
            outcome = response.get(OUTCOME_KEY) or _outcome(response.status)
        except UpstreamFailure as failure:
            if isinstance(failure, BackendRefused) and not hold:
                raise  # the caller fails over
            response = error_response(failure.status, str(failure), "upstream_error", headers | failure.headers)
            outcome = "upstream_error"
        finally:
            backend.in_flight[priority] -= 1
        self.metrics.requests.labels(role, priority.value, outcome).inc()
        self.metrics.request_duration_seconds.labels(role, priority.value).observe(time.perf_counter() - started)
        return response

    async def handle_models_authenticated(self, request: web.Request) -> web.StreamResponse:
        denied = self._unauthorized(request)
        return denied if denied is not None else await self.handle_models(request)

    async def handle_models(self, request: web.Request) -> web.StreamResponse:
        assert self.session is not None, "router used before startup"
        url = self.config.primary.url + request.path_qs
        try:
            return await forward(request, self.session, url, None, {}, request_headers=self.upstream_headers(request))
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
            log.warning("drain timed out with %d requests still open; cutting them with an error", left)
            await self.cut_open_requests()
        return left == 0

    async def cut_open_requests(self, wait_seconds: float = 2.0) -> None:
        """End every open request now: streams get an error event and `[DONE]`, the others a 503."""
        self._cut.set()
        handlers = list(self._handlers)
        for task in handlers:
            task.cancel()
        if handlers:
            await asyncio.wait(handlers, timeout=wait_seconds)


def _json_object(body: bytes) -> dict | None:
    try:
        payload = json.loads(body)
    except ValueError:  # (UnicodeDecodeError is one)
        return None
    return payload if isinstance(payload, dict) else None


def _outcome(status: int) -> str:
    if status < 400:
        return "ok"
    return "client_error" if status < 500 else "upstream_error"


def make_runner(router: Router, shutdown_timeout_seconds: float = 1.0) -> CappedAppRunner:
    """The router's aiohttp runner (signals are handled by `serve`, which drains first).

    handler_cancellation: a client that hangs up cancels its upstream request, so the GPU stops generating for it.
    Connections beyond `max_connections` are answered 503 and closed before anything is read.
    """
    return CappedAppRunner(
        router.build_app(),
        max_connections=router.config.max_connections,
        refused=router.metrics.refused_connections,
        handle_signals=False,
        shutdown_timeout=shutdown_timeout_seconds,
        access_log=None,
        handler_cancellation=True,
        # aiohttp closes a connection that has no complete request head this long after it opened or after its
        # last response: the keep-alive time-out and the header time-out in one.
        keepalive_timeout=router.config.idle_connection_timeout_seconds,
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
