"""A dead backend never turns away traffic the other one can serve; queue depths the router can trust; cut streams
say so."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web

from llama_infra.router.app import Router, make_runner
from llama_infra.router.config import BackendConfig, FallbackConfig, RouterConfig
from llama_infra.router.queue_depth import BadQueueDepth, parse_queue_depth
from llama_infra.router.testing import FakeOpenAIBackend

BODY = {"model": "llama-70b", "messages": [{"role": "user", "content": "hi"}]}


async def dead_url() -> str:
    async with FakeOpenAIBackend().serve() as gone:
        return gone.url


def config(primary_url: str, fallback_url: str, threshold: float = 5, **kwargs) -> RouterConfig:
    return RouterConfig(
        primary=BackendConfig(url=primary_url),
        fallback=FallbackConfig(url=fallback_url, model_id="llama-8b", when_queue_depth_over=threshold),
        priority_api_keys=["gold"],
        metrics_poll_interval_seconds=kwargs.pop("metrics_poll_interval_seconds", 0.05),
        **kwargs,
    )


async def test_a_dead_primary_fails_over_to_the_healthy_fallback_for_every_class(router_at):
    """Old router: 503 for every request while the fallback was healthy (1,804 in the fault probe)."""
    primary_url = await dead_url()
    async with FakeOpenAIBackend(model="llama-8b").serve() as fallback:
        async with router_at(config(primary_url, fallback.url)) as (url, router), aiohttp.ClientSession() as s:
            answers = []
            for headers in ({}, {"Authorization": "Bearer gold"}, {"x-llama-priority": "low"}):
                async with s.post(f"{url}/v1/chat/completions", json=BODY | {"stream": True}, headers=headers) as r:
                    answers.append((r.status, r.headers["x-llama-backend"], (await r.read()).endswith(b"[DONE]\n\n")))
            metrics = await (await s.get(f"{url}/metrics")).text()
    assert answers == [(200, "fallback", True)] * 3
    assert [r.body["model"] for r in fallback.received] == ["llama-8b"] * 3  # rewritten for the fallback
    assert 'llama_router_failovers_total{from_backend="primary",to_backend="fallback"} 3.0' in metrics


async def test_a_dead_fallback_fails_over_to_the_primary_with_the_clients_model(router_at, scraped):
    fallback_url = await dead_url()
    async with FakeOpenAIBackend(model="llama-70b").serve() as primary:
        async with (
            router_at(config(primary.url, fallback_url, threshold=5)) as (url, router),
            aiohttp.ClientSession() as s,
        ):
            primary.waiting_override = 50  # overflowing: normal traffic is sent to the fallback first
            await scraped(router, "primary", 50)
            async with s.post(f"{url}/v1/chat/completions", json=BODY) as response:
                assert (response.status, response.headers["x-llama-backend"]) == (200, "primary")
    assert primary.received[-1].body["model"] == "llama-70b"


async def test_both_dead_is_still_503_with_retry_after(router_at):
    primary_url, fallback_url = await dead_url(), await dead_url()
    async with router_at(config(primary_url, fallback_url)) as (url, router), aiohttp.ClientSession() as s:
        async with s.post(f"{url}/v1/chat/completions", json=BODY) as response:
            assert response.status == 503 and response.headers["Retry-After"] == "10"
        assert router.admission.open_requests == 0


async def test_a_scrape_slower_than_the_poll_interval_still_counts(router_at):
    """Old router: scrapes were cut at the 1 s poll interval; the router then compared its in-flight count (running
    requests included) with the *waiting* threshold and overflowed with an empty queue."""
    async with (
        FakeOpenAIBackend(model="llama-70b", latency_seconds=3, metrics_delay_seconds=1.3).serve() as primary,
        FakeOpenAIBackend(model="llama-8b").serve() as fallback,
    ):
        cfg = config(primary.url, fallback.url, threshold=2, metrics_poll_interval_seconds=1.0)
        async with router_at(cfg) as (url, router), aiohttp.ClientSession() as s:
            busy = [asyncio.create_task(s.post(f"{url}/v1/chat/completions", json=BODY)) for _ in range(6)]
            for _ in range(300):  # until the 1.3 s scrape has landed (bounded)
                if router.monitor.depth("primary")[1] == "metrics":
                    break
                await asyncio.sleep(0.02)
            assert router.monitor.depth("primary") == (0.0, "metrics")  # 6 running, none waiting
            async with s.post(f"{url}/v1/chat/completions", json=BODY) as response:
                assert response.headers["x-llama-backend"] == "primary"
            for task in busy:
                (await task).close()


def test_the_in_flight_estimate_counts_only_requests_beyond_the_slots_seen_running():
    from llama_infra.router.config import Priority
    from llama_infra.router.queue_depth import BackendQueue

    queue = BackendQueue(BackendConfig(url="http://llama:8000"))
    queue.in_flight[Priority.NORMAL] = 10
    assert queue.depth(3.0) == (10.0, "in_flight")  # nothing known about the backend: all of it may wait
    queue.slots = 8  # a scrape saw 8 running
    assert queue.depth(3.0) == (2.0, "in_flight")


@pytest.mark.parametrize("value", ["NaN", "+Inf", "-Inf", "-3"])
def test_nan_infinite_and_negative_queue_depths_are_refused(value):
    exposition = f'# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{{model_name="m"}} {value}\n'
    with pytest.raises(BadQueueDepth, match="not a request count"):
        parse_queue_depth(exposition, "vllm")


async def test_a_nan_depth_is_not_routed_on(router_at):
    async with (
        FakeOpenAIBackend(model="llama-70b").serve() as primary,
        FakeOpenAIBackend(model="llama-8b").serve() as fallback,
    ):
        primary.waiting_override = float("nan")
        async with router_at(config(primary.url, fallback.url)) as (url, router):
            await asyncio.sleep(0.3)  # several scrapes
            assert router.monitor.depth("primary") == (0.0, "in_flight")


async def test_a_stream_cut_at_the_drain_time_out_ends_with_an_error_event():
    async with FakeOpenAIBackend(chunks=6, stall_after_chunks=1).serve() as primary:
        router = Router(RouterConfig(primary=BackendConfig(url=primary.url), drain_timeout_seconds=0.3))
        runner = make_runner(router, shutdown_timeout_seconds=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        try:
            async with aiohttp.ClientSession() as session:
                async with session.post(f"{url}/v1/chat/completions", json=BODY | {"stream": True}) as response:
                    first = await response.content.readuntil(b"\n\n")
                    drained = await router.drain(site)
                    rest = await asyncio.wait_for(response.read(), 5)
        finally:
            await runner.cleanup()
    assert drained is False
    events = [e.removeprefix("data: ") for e in (first + rest).decode().split("\n\n") if e]
    assert json.loads(events[0])["choices"][0]["delta"]["content"] == "token0 "
    error = json.loads(events[1])["error"]
    assert error["code"] == 503 and "router shut down" in error["message"]
    assert events[-1] == "[DONE]"
