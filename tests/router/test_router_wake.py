"""Given a primary that refuses connections (scaled to zero), the router holds a request for up to
`wake_wait_seconds`, forwarding it once the backend listens; it answers 503 + Retry-After when the wait is over or
the router drains, never resends a request the backend received, and frees the slot when the client hangs up.

Timing is by event order (the backend starts only once the router reports the request held) and by bounds that hold
on a loaded machine, never by a fixed sleep."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
from aiohttp import web

from llama_infra.router.app import Router, make_runner
from llama_infra.router.config import RouterConfig
from llama_infra.router.proxy import UNAVAILABLE_RETRY_AFTER_SECONDS
from llama_infra.router.testing import FakeOpenAIBackend

BODY = {"model": "m", "prompt": "hi"}


def free_port() -> int:
    """A loopback port nothing listens on (connecting to it is refused) until the test starts a backend there."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(port: int, **fields) -> RouterConfig:
    return RouterConfig(primary={"url": f"http://127.0.0.1:{port}", "queue_metric": "in_flight"}, **fields)


def sample(router: Router, name: str, **labels: str) -> float | None:
    return router.metrics.registry.get_sample_value(name, labels)


def held(router: Router) -> float | None:
    return sample(router, "llama_router_waking_requests", backend="primary")


async def until(condition, what: str, timeout_seconds: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def post(url: str, **kwargs) -> tuple[int, dict, dict[str, str]]:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/v1/completions", json=BODY, **kwargs) as response:
            return response.status, await response.json(), dict(response.headers)


async def test_a_held_request_is_forwarded_once_the_backend_listens(router_at):
    port = free_port()
    async with router_at(config(port, wake_wait_seconds=60, wake_retry_interval_seconds=0.05)) as (url, router):
        assert held(router) == 0  # exported before any hold
        request = asyncio.create_task(post(url))
        await until(lambda: held(router) == 1, "the request to be held")
        first_stamp = sample(router, "llama_router_backend_last_request_timestamp_seconds", backend="primary")
        assert not request.done()
        async with FakeOpenAIBackend(model="woken").serve(port=port) as backend:
            status, body, headers = await request
        assert status == 200 and body["model"] == "m" and body["choices"][0]["text"].startswith("token0")
        assert headers["x-llama-backend"] == "primary"
        assert len(backend.received) == 1
        assert held(router) == 0
        assert sample(router, "llama_router_requests_total", backend="primary", priority="normal", outcome="ok") == 1
        # Every retry re-stamps the wake-up signal: a held request is still demand.
        assert sample(router, "llama_router_backend_last_request_timestamp_seconds", backend="primary") > first_stamp
        assert router.admission.open_requests == 0


async def test_without_a_wait_a_refused_request_gets_503_at_once(router_at):
    # A retry interval far beyond the test's bound: a hold would be seen as a timeout, not pass by luck.
    async with router_at(config(free_port(), wake_retry_interval_seconds=3600)) as (url, router):
        status, body, headers = await asyncio.wait_for(post(url), 30)
    assert status == 503 and headers["Retry-After"] == str(UNAVAILABLE_RETRY_AFTER_SECONDS)
    assert "no serving replica" in body["error"]["message"]
    assert held(router) == 0


async def test_a_backend_that_never_wakes_gets_503_after_the_wait(router_at):
    wait = 1.0
    async with router_at(config(free_port(), wake_wait_seconds=wait, wake_retry_interval_seconds=0.2)) as (url, router):
        loop = asyncio.get_running_loop()
        started = loop.time()
        status, _body, headers = await post(url)
        elapsed = loop.time() - started
    assert status == 503 and headers["Retry-After"] == str(UNAVAILABLE_RETRY_AFTER_SECONDS)
    assert wait <= elapsed < wait + 20  # generous upper bound: a loaded CI machine, not a timing test
    assert held(router) == 0
    assert (
        sample(router, "llama_router_requests_total", backend="primary", priority="normal", outcome="upstream_error")
        == 1
    )


async def test_a_request_the_backend_received_is_never_sent_again(router_at):
    calls = 0

    async def accept_then_die(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        await request.read()
        assert request.transport is not None
        request.transport.abort()  # the replica crashed after taking the request
        return web.Response()

    app = web.Application()
    app.router.add_post("/v1/completions", accept_then_die)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        async with router_at(config(port, wake_wait_seconds=60, wake_retry_interval_seconds=0.05)) as (url, router):
            status, _body, headers = await asyncio.wait_for(post(url), 30)
            assert status == 502 and "Retry-After" not in headers
            assert calls == 1 and held(router) == 0
    finally:
        await runner.cleanup()


async def test_draining_ends_the_hold_with_503_at_once():
    router = Router(config(free_port(), wake_wait_seconds=3600, wake_retry_interval_seconds=0.05))
    runner = make_runner(router, shutdown_timeout_seconds=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site.port}"
    try:
        request = asyncio.create_task(post(url))
        await until(lambda: held(router) == 1, "the request to be held")
        drained = await asyncio.wait_for(router.drain(site), 30)  # far below the hour the hold would last
        status, _body, headers = await asyncio.wait_for(request, 30)
    finally:
        await runner.cleanup()
    assert drained and status == 503 and headers["Retry-After"] == str(UNAVAILABLE_RETRY_AFTER_SECONDS)
    assert held(router) == 0 and router.admission.open_requests == 0


async def test_a_client_that_hangs_up_frees_its_slot_and_the_hold(router_at):
    async with router_at(config(free_port(), wake_wait_seconds=3600, wake_retry_interval_seconds=0.05)) as (
        url,
        router,
    ):
        request = asyncio.create_task(post(url))
        await until(lambda: held(router) == 1 and router.admission.open_requests == 1, "the request to be held")
        request.cancel()  # closes the client's connection
        await until(lambda: router.admission.open_requests == 0 and held(router) == 0, "the hold to end")
