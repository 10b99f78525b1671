"""Overflow starts when the primary's queue depth passes `when_queue_depth_over` and stops at or below it."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from llama_infra.router.config import BackendConfig, FallbackConfig, RouterConfig
from llama_infra.router.queue_depth import parse_queue_depth
from llama_infra.router.testing import FakeOpenAIBackend

POLL = 0.02


def config(primary: FakeOpenAIBackend, fallback: FakeOpenAIBackend, threshold: int, **kwargs) -> RouterConfig:
    queue_metric = kwargs.pop("queue_metric", "auto")
    return RouterConfig(
        primary=BackendConfig(url=primary.url, queue_metric=queue_metric),
        fallback=FallbackConfig(
            url=fallback.url, model_id="llama-8b-int4", precision="int4", when_queue_depth_over=threshold
        ),
        priority_api_keys=["tenant-gold"],
        metrics_poll_interval_seconds=POLL,
        metrics_stale_after_seconds=30,  # a busy test machine must not turn scraped depth into in-flight depth
        **kwargs,
    )


async def chat(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None
) -> tuple[int, str, dict]:
    body = {"model": "llama-70b", "messages": [{"role": "user", "content": "hi"}]}
    async with session.post(f"{url}/v1/chat/completions", json=body, headers=headers or {}) as response:
        return response.status, response.headers.get("x-llama-backend", ""), await response.json()


async def test_overflow_follows_the_primarys_scraped_queue_depth_across_the_threshold(router_at, scraped):
    async with (
        FakeOpenAIBackend(model="llama-70b").serve() as primary,
        FakeOpenAIBackend(model="llama-8b-int4").serve() as fallback,
        router_at(config(primary, fallback, threshold=5)) as (url, router),
        aiohttp.ClientSession() as session,
    ):
        seen = []
        for depth in (0, 5, 6, 50, 6, 5, 0):
            primary.waiting_override = depth
            await scraped(router, "primary", depth)
            status, backend, body = await chat(session, url)
            assert status == 200
            seen.append((depth, backend, body["model"]))
        assert seen == [
            (0, "primary", "llama-70b"),
            (5, "primary", "llama-70b"),  # at the threshold: not over it yet
            (6, "fallback", "llama-8b-int4"),  # model rewritten for the fallback server
            (50, "fallback", "llama-8b-int4"),
            (6, "fallback", "llama-8b-int4"),
            (5, "primary", "llama-70b"),  # back at the threshold: overflow stops
            (0, "primary", "llama-70b"),
        ]
        assert fallback.received[0].body["model"] == "llama-8b-int4"
        assert fallback.received[0].body["messages"] == [{"role": "user", "content": "hi"}]


async def test_high_priority_tenants_stay_on_the_primary_while_others_overflow(router_at, scraped):
    async with (
        FakeOpenAIBackend(model="llama-70b").serve() as primary,
        FakeOpenAIBackend(model="llama-8b-int4").serve() as fallback,
        router_at(config(primary, fallback, threshold=2)) as (url, router),
        aiohttp.ClientSession() as session,
    ):
        primary.waiting_override = 100
        await scraped(router, "primary", 100)
        gold = await chat(session, url, {"Authorization": "Bearer tenant-gold"})
        other = await chat(session, url, {"Authorization": "Bearer tenant-free"})
        batch = await chat(session, url, {"x-llama-priority": "low"})
        claimed = await chat(session, url, {"x-llama-priority": "high"})  # header not trusted: stays normal
        assert [r[1] for r in (gold, other, batch, claimed)] == ["primary", "fallback", "fallback", "fallback"]
        assert "Authorization" not in primary.received[0].headers  # client credentials stay at the router


async def test_in_flight_count_is_the_queue_depth_for_servers_without_metrics(router_at, scraped):
    async with (
        FakeOpenAIBackend(model="llama-70b", exports="none", latency_seconds=1.0).serve() as primary,
        FakeOpenAIBackend(model="llama-8b-int4", exports="none", latency_seconds=1.0).serve() as fallback,
        router_at(config(primary, fallback, threshold=3)) as (url, router),
        aiohttp.ClientSession() as session,
    ):
        results = await asyncio.gather(*(chat(session, url) for _ in range(10)))
        backends = sorted(r[1] for r in results)
        # Requests 1..4 see 0..3 open on the primary (not over 3); the other six overflow.
        assert backends.count("primary") == 4
        assert backends.count("fallback") == 6
        assert router.monitor.depth("primary") == (0.0, "in_flight")


async def test_metrics_export_queue_depth_per_backend_and_priority(router_at, scraped):
    async with (
        FakeOpenAIBackend(model="llama-70b", latency_seconds=2.0).serve() as primary,
        FakeOpenAIBackend(model="llama-8b-int4", exports="tgi").serve() as fallback,
        router_at(config(primary, fallback, threshold=5)) as (url, router),
        aiohttp.ClientSession() as session,
    ):
        primary.waiting_override = 4
        fallback.waiting_override = 7
        await scraped(router, "primary", 4)
        await scraped(router, "fallback", 7)
        pending = asyncio.gather(*(chat(session, url, {"Authorization": "Bearer tenant-gold"}) for _ in range(2)))
        while router.monitor.backends["primary"].in_flight_total < 2:  # bounded by the test timeout
            await asyncio.sleep(0.01)
        async with session.get(f"{url}/metrics") as response:
            text = await response.text()
        await pending
        values = {
            name: parse_queue_depth(text.replace(metric, "vllm:num_requests_waiting"), "vllm")
            for name, metric in {
                "primary_depth": 'llama_router_backend_queue_depth{backend="primary"}',
                "fallback_depth": 'llama_router_backend_queue_depth{backend="fallback"}',
                "primary_high": 'llama_router_in_flight_requests{backend="primary",priority="high"}',
                "primary_normal": 'llama_router_in_flight_requests{backend="primary",priority="normal"}',
            }.items()
        }
        assert values == {"primary_depth": 4, "fallback_depth": 7, "primary_high": 2, "primary_normal": 0}
        assert "llama_router_overflow_active 0.0" in text


@pytest.mark.parametrize(
    ("exposition", "metric", "expected"),
    [
        ('vllm:num_requests_waiting{model_name="a"} 3\nvllm:num_requests_waiting{model_name="b"} 4\n', "vllm", 7),
        ("tgi_queue_size 9\n", "auto", 9),
        ("tgi_queue_size 9\n", "vllm", None),
        ("process_cpu_seconds_total 1\n", "auto", None),
    ],
)
def test_queue_depth_parsing(exposition, metric, expected):
    assert parse_queue_depth(exposition, metric) == expected
