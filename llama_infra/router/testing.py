"""A fake OpenAI-compatible inference server with controllable latency, capacity and queue.

For tests, the overhead benchmark and trying the router locally without GPUs. It behaves like vLLM where the router
and `verify` can tell: `/v1/chat/completions` and `/v1/completions` (JSON or SSE ending in `data: [DONE]`),
`/metrics` with `vllm:num_requests_waiting` / `vllm:num_requests_running` (or TGI's `tgi_queue_size`), `/health`.
Capacity is `replicas * slots_per_replica` concurrent requests; the rest wait in its queue.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, object]


@dataclass
class FakeOpenAIBackend:
    model: str = "fake-llama"
    latency_seconds: float = 0.0
    """Time a request holds its slot before the first token."""
    chunks: int = 3
    chunk_interval_seconds: float = 0.0
    replicas: int = 1
    slots_per_replica: int = 1_000_000
    exports: Literal["vllm", "tgi", "none"] = "vllm"
    waiting_override: float | None = None
    """When set, `/metrics` reports this queue depth instead of the real one."""
    metrics_delay_seconds: float = 0.0
    """`/metrics` answers after this long (a slow Prometheus /federate)."""
    status_override: int | None = None
    """When set, generation endpoints answer with this status and an OpenAI error body."""
    abort_after_chunks: int | None = None
    """Streams drop the connection after this many chunks (a backend killed mid-stream)."""
    stall_after_chunks: int | None = None
    """Streams stop sending after this many chunks but keep the connection open."""
    received: list[ReceivedRequest] = field(default_factory=list)
    abandoned: int = 0
    """Requests whose client (the router) hung up before the answer was complete."""
    running: int = 0
    waiting: int = 0
    url: str = ""
    _capacity: asyncio.Condition | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._generate)
        app.router.add_post("/v1/completions", self._generate)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/health", self._health)
        return app

    @asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[FakeOpenAIBackend]:
        runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=0.5, handler_cancellation=True)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self.url = f"http://{host}:{site.port}"
        try:
            yield self
        finally:
            await runner.cleanup()

    def set_replicas(self, replicas: int) -> None:
        self.replicas = replicas
        if self._capacity is not None:
            asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        assert self._capacity is not None
        async with self._capacity:
            self._capacity.notify_all()

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        if self._capacity is None:
            self._capacity = asyncio.Condition()
        async with self._capacity:
            self.waiting += 1
            try:
                await self._capacity.wait_for(lambda: self.running < self.replicas * self.slots_per_replica)
            finally:
                self.waiting -= 1
            self.running += 1
        try:
            yield
        finally:
            async with self._capacity:
                self.running -= 1
                self._capacity.notify_all()

    async def _generate(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.received.append(ReceivedRequest(request.path, dict(request.headers), body))
        if self.status_override is not None:
            error = {"error": {"message": "fake failure", "type": "server_error", "code": self.status_override}}
            return web.json_response(error, status=self.status_override)
        try:
            async with self._slot():
                if self.latency_seconds:
                    await asyncio.sleep(self.latency_seconds)
                if body.get("stream"):
                    return await self._stream(request, body)
                await self._pace(self.chunks)
                return web.json_response(self._completion(request.path, body, "".join(self._tokens())))
        except asyncio.CancelledError:
            self.abandoned += 1
            raise

    async def _pace(self, chunks: int) -> None:
        if self.chunk_interval_seconds:
            await asyncio.sleep(self.chunk_interval_seconds * chunks)

    async def _stream(self, request: web.Request, body: dict[str, object]) -> web.StreamResponse:
        out = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await out.prepare(request)
        for index, token in enumerate(self._tokens()):
            if index == self.abort_after_chunks:
                assert request.transport is not None
                request.transport.abort()  # what the client sees when the server process is killed
                return out
            if index == self.stall_after_chunks:
                await asyncio.sleep(3600)  # cancelled when the router gives up or the server stops
            if self.chunk_interval_seconds and index:
                await asyncio.sleep(self.chunk_interval_seconds)
            chunk = self._completion(request.path, body, token, streaming=True)
            await out.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await out.write(b"data: [DONE]\n\n")
        await out.write_eof()
        return out

    def _tokens(self) -> list[str]:
        return [f"token{index} " for index in range(self.chunks)]

    def _completion(self, path: str, body: dict[str, object], text: str, streaming: bool = False) -> dict[str, object]:
        model = str(body.get("model", self.model))
        if path.endswith("/chat/completions"):
            key = "delta" if streaming else "message"
            choice: dict[str, object] = {"index": 0, key: {"role": "assistant", "content": text}}
            kind = "chat.completion.chunk" if streaming else "chat.completion"
        else:
            choice = {"index": 0, "text": text}
            kind = "text_completion"
        return {"id": "cmpl-fake", "object": kind, "created": int(time.time()), "model": model, "choices": [choice]}

    async def _health(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _models(self, _request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": self.model, "object": "model"}]})

    async def _metrics(self, _request: web.Request) -> web.Response:
        if self.metrics_delay_seconds:
            await asyncio.sleep(self.metrics_delay_seconds)
        waiting = self.waiting if self.waiting_override is None else self.waiting_override
        if self.exports == "vllm":
            label = f'{{model_name="{self.model}"}}'
            text = (
                "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.\n"
                "# TYPE vllm:num_requests_waiting gauge\n"
                f"vllm:num_requests_waiting{label} {float(waiting)}\n"
                "# HELP vllm:num_requests_running Number of requests currently running on GPU.\n"
                "# TYPE vllm:num_requests_running gauge\n"
                f"vllm:num_requests_running{label} {float(self.running)}\n"
            )
        elif self.exports == "tgi":
            text = f"# TYPE tgi_queue_size gauge\ntgi_queue_size {float(waiting)}\n"
        else:
            text = "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1.0\n"
        return web.Response(text=text, content_type="text/plain")
