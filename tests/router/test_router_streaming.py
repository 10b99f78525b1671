"""Streams pass through event by event; a backend that dies or stalls gives the client a clean error, never a hang."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp

from llama_infra.router.config import BackendConfig, FallbackConfig, RouterConfig
from llama_infra.router.testing import FakeOpenAIBackend
from llama_infra.targets.kubernetes import prometheus_metrics as metrics

BODY = {"model": "llama-70b", "messages": [{"role": "user", "content": "hi"}], "stream": True}


def events(raw: bytes) -> list[str]:
    return [block.removeprefix("data: ") for block in raw.decode().split("\n\n") if block]


async def test_stream_arrives_event_by_event_with_done(router_at):
    async with FakeOpenAIBackend(chunks=5, chunk_interval_seconds=0.2).serve() as primary:
        async with (
            router_at(RouterConfig(primary=BackendConfig(url=primary.url))) as (url, _router),
            aiohttp.ClientSession() as session,
            session.post(f"{url}/v1/chat/completions", json=BODY) as response,
        ):
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/event-stream")
            started = time.monotonic()
            first = await response.content.readuntil(b"\n\n")
            first_after = time.monotonic() - started
            rest = await response.read()
            whole = time.monotonic() - started
    # The first event is not held back until the stream ends (4 more chunks, ≥ 0.8 s): a ratio, so a slow machine
    # stretching both does not fail it.
    assert whole >= 0.75 and first_after < 0.5 * whole
    parsed = events(first + rest)
    assert parsed[-1] == "[DONE]"
    tokens = [json.loads(event)["choices"][0]["delta"]["content"] for event in parsed[:-1]]
    assert tokens == [f"token{index} " for index in range(5)]


async def test_overflowed_stream_comes_from_the_fallback(router_at, scraped):
    async with (
        FakeOpenAIBackend(model="llama-70b").serve() as primary,
        FakeOpenAIBackend(model="llama-8b-int4", chunks=2).serve() as fallback,
    ):
        primary.waiting_override = 10
        config = RouterConfig(
            primary=BackendConfig(url=primary.url),
            fallback=FallbackConfig(url=fallback.url, model_id="llama-8b-int4", when_queue_depth_over=3),
            metrics_poll_interval_seconds=0.02,
            metrics_stale_after_seconds=30,
        )
        async with router_at(config) as (url, router), aiohttp.ClientSession() as session:
            await scraped(router, "primary", 10)
            async with session.post(f"{url}/v1/chat/completions", json=BODY) as response:
                assert response.headers["x-llama-backend"] == "fallback"
                parsed = events(await response.read())
    assert [json.loads(event)["model"] for event in parsed[:-1]] == ["llama-8b-int4"] * 2
    assert parsed[-1] == "[DONE]"


async def test_backend_killed_mid_stream_gives_an_error_event(router_at):
    async with FakeOpenAIBackend(chunks=6, abort_after_chunks=2).serve() as primary:
        async with (
            router_at(RouterConfig(primary=BackendConfig(url=primary.url))) as (url, router),
            aiohttp.ClientSession() as session,
        ):
            async with session.post(f"{url}/v1/chat/completions", json=BODY) as response:
                parsed = events(await asyncio.wait_for(response.read(), 5))
            metrics = await (await session.get(f"{url}/metrics")).text()
    assert len(parsed) == 4  # two tokens, the error, [DONE]
    assert [json.loads(event)["choices"][0]["delta"]["content"] for event in parsed[:2]] == ["token0 ", "token1 "]
    error = json.loads(parsed[2])["error"]
    assert error["code"] == 502 and "mid-stream" in error["message"]
    assert parsed[3] == "[DONE]"
    assert router.admission.open_requests == 0
    assert 'llama_router_requests_total{backend="primary",outcome="upstream_error",priority="normal"} 1.0' in metrics


async def test_backend_silent_mid_stream_times_out_with_an_error_event(router_at):
    async with FakeOpenAIBackend(chunks=6, stall_after_chunks=1).serve() as primary:
        config = RouterConfig(primary=BackendConfig(url=primary.url), upstream_idle_timeout_seconds=0.3)
        async with (
            router_at(config) as (url, _router),
            aiohttp.ClientSession() as session,
            session.post(f"{url}/v1/chat/completions", json=BODY) as response,
        ):
            started = time.monotonic()
            parsed = events(await asyncio.wait_for(response.read(), 5))
            waited = time.monotonic() - started
    # Ended by the 0.3 s idle timeout, well before the 5 s the test would otherwise wait for the stalled backend.
    assert 0.25 < waited < 4
    assert json.loads(parsed[1])["error"]["code"] == 504
    assert parsed[-1] == "[DONE]"


async def test_unreachable_backend_gives_a_503_json_error_with_retry_after(router_at):
    """Connection refused = no replica behind the Service (e.g. waking from zero): 503 + Retry-After, not a 502."""
    async with FakeOpenAIBackend().serve() as gone:
        dead_url = gone.url
    before = time.time()
    async with (
        router_at(RouterConfig(primary=BackendConfig(url=dead_url))) as (url, router),
        aiohttp.ClientSession() as session,
        session.post(f"{url}/v1/chat/completions", json=BODY) as response,
    ):
        assert response.status == 503
        assert response.headers["Retry-After"] == "10"
        body = await response.json()
        async with session.get(f"{url}/metrics") as scrape:
            exposition = await scrape.text()
    assert body["error"]["type"] == "upstream_error"
    assert dead_url in body["error"]["message"]
    assert router.admission.open_requests == 0
    # The refused request still stamps the wake-up gauge KEDA reads
    # (llama_infra.targets.kubernetes.prometheus_metrics.recent_request_query).
    (line,) = [x for x in exposition.splitlines() if x.startswith(metrics.ROUTER_LAST_REQUEST + '{backend="primary"}')]
    assert before <= float(line.split()[-1]) <= time.time()


async def test_backend_errors_pass_through_unchanged(router_at):
    async with FakeOpenAIBackend(status_override=400).serve() as primary:
        async with (
            router_at(RouterConfig(primary=BackendConfig(url=primary.url))) as (url, _router),
            aiohttp.ClientSession() as session,
            session.post(f"{url}/v1/chat/completions", json=BODY) as response,
        ):
            assert response.status == 400
            assert (await response.json())["error"]["message"] == "fake failure"


async def test_models_and_health(router_at):
    async with FakeOpenAIBackend(model="llama-70b").serve() as primary:
        async with (
            router_at(RouterConfig(primary=BackendConfig(url=primary.url))) as (url, _router),
            aiohttp.ClientSession() as session,
        ):
            models = await (await session.get(f"{url}/v1/models")).json()
            health = await session.get(f"{url}/health")
    assert [model["id"] for model in models["data"]] == ["llama-70b"]
    assert health.status == 200


async def test_client_hanging_up_cancels_the_upstream_request(router_at):
    async with FakeOpenAIBackend(latency_seconds=10).serve() as primary:
        async with router_at(RouterConfig(primary=BackendConfig(url=primary.url))) as (url, router):
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.5)) as session:
                try:
                    await session.post(f"{url}/v1/completions", json={"prompt": "long"})
                except TimeoutError:
                    pass
            for _ in range(500):  # bounded: 5 s
                if primary.abandoned and not router.admission.open_requests:
                    break
                await asyncio.sleep(0.01)
            # Checked while both servers still run: shutting them down would cancel the request anyway.
            assert primary.abandoned == 1  # the backend stopped working on it, long before its 10 s
            assert router.admission.open_requests == 0


async def test_events_split_across_reads_are_reassembled_before_forwarding():
    from aiohttp import web

    from llama_infra.router.app import Router, make_runner

    async def ragged(request: web.Request) -> web.StreamResponse:
        out = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await out.prepare(request)
        for piece in (b'data: {"choices": [{"te', b'xt": "a"}]}\n', b'\ndata: {"choices": [{"text": "b"}]}\n\nda'):
            await out.write(piece)
            await asyncio.sleep(0.05)  # separate reads on the router's side
        return out  # the connection ends with half an event ("da") and no [DONE]: a backend that died

    app = web.Application()
    app.router.add_post("/v1/completions", ragged)
    backend = web.AppRunner(app)
    await backend.setup()
    site = web.TCPSite(backend, "127.0.0.1", 0)
    await site.start()
    router = make_runner(Router(RouterConfig(primary=BackendConfig(url=f"http://127.0.0.1:{site.port}"))))
    await router.setup()
    router_site = web.TCPSite(router, "127.0.0.1", 0)
    await router_site.start()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"http://127.0.0.1:{router_site.port}/v1/completions", json={"stream": True}) as response,
        ):
            raw = await response.read()
    finally:
        await router.cleanup()
        await backend.cleanup()
    parsed = events(raw)
    assert [json.loads(event)["choices"][0]["text"] for event in parsed[:2]] == ["a", "b"]
    assert parsed[2] == "da"  # the torn tail is closed off as its own event so the error still parses
    assert "before [DONE]" in json.loads(parsed[3])["error"]["message"]
    assert parsed[4] == "[DONE]"
