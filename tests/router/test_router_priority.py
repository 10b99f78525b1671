"""Under overload the router sheds low priority first, then normal, and never high."""

from __future__ import annotations

import asyncio
from collections import Counter

import aiohttp
import pytest

from llama_infra.router.admission import AdmissionController
from llama_infra.router.config import BackendConfig, FallbackConfig, Priority, RouterConfig
from llama_infra.router.priority import PriorityClassifier, choose_backend
from llama_infra.router.testing import FakeOpenAIBackend


async def test_priorities_hold_under_overload(router_at):
    async with (
        FakeOpenAIBackend(model="llama-70b", latency_seconds=1.5).serve() as primary,
        FakeOpenAIBackend(model="llama-8b-int4", latency_seconds=1.5).serve() as fallback,
    ):
        config = RouterConfig(
            primary=BackendConfig(url=primary.url, queue_metric="in_flight"),
            fallback=FallbackConfig(url=fallback.url, when_queue_depth_over=2),
            priority_api_keys=["tenant-gold"],
            max_in_flight_requests=12,
            low_priority_max_in_flight_requests=6,
        )
        async with router_at(config) as (url, _router), aiohttp.ClientSession() as session:

            async def send(kind: str) -> tuple[str, int, str]:
                headers = {
                    "high": {"Authorization": "Bearer tenant-gold"},
                    "normal": {"Authorization": "Bearer tenant-free"},
                    "low": {"Authorization": "Bearer tenant-free", "x-llama-priority": "low"},
                }[kind]
                body = {"model": "llama-70b", "prompt": "hi"}
                async with session.post(f"{url}/v1/completions", json=body, headers=headers) as response:
                    await response.read()
                    return kind, response.status, response.headers.get("x-llama-backend", "-")

            # Low first, then normal, then high: the classes that arrive last are the ones that must get through.
            kinds = ["low"] * 10 + ["normal"] * 10 + ["high"] * 10
            tasks = []
            for kind in kinds:
                tasks.append(asyncio.create_task(send(kind)))
                await asyncio.sleep(0.005)
            results = await asyncio.gather(*tasks)

    outcome = Counter((kind, status) for kind, status, _ in results)
    assert outcome[("high", 200)] == 10, outcome  # none shed
    assert {backend for kind, _, backend in results if kind == "high"} == {"primary"}  # none overflowed
    assert outcome[("low", 200)] == 6 and outcome[("low", 429)] == 4, outcome  # low limit 6
    assert outcome[("normal", 200)] == 6 and outcome[("normal", 429)] == 4, outcome  # 12 - 6 low still open
    assert primary.received and fallback.received  # normal/low overflowed past 2 open on the primary


async def test_shed_requests_get_an_openai_429_with_retry_after(router_at):
    async with FakeOpenAIBackend(latency_seconds=1.0).serve() as primary:
        config = RouterConfig(primary=BackendConfig(url=primary.url), max_in_flight_requests=1)
        async with router_at(config) as (url, router), aiohttp.ClientSession() as session:
            first = asyncio.create_task(session.post(f"{url}/v1/completions", json={"prompt": "a"}))
            while router.admission.open_requests < 1:  # bounded by the test timeout
                await asyncio.sleep(0.01)
            async with session.post(f"{url}/v1/completions", json={"prompt": "b"}) as second:
                assert second.status == 429
                assert second.headers["Retry-After"] == "1"
                body = await second.json()
                assert body["error"]["type"] == "rate_limit_exceeded"
                assert "normal-priority" in body["error"]["message"]
            async with await first as response:
                assert response.status == 200


def test_admission_limits_count_every_class_and_never_refuse_high():
    admission = AdmissionController(normal_limit=3, low_limit=1)
    assert admission.try_admit(Priority.LOW)
    assert not admission.try_admit(Priority.LOW)
    assert admission.try_admit(Priority.NORMAL) and admission.try_admit(Priority.NORMAL)
    assert not admission.try_admit(Priority.NORMAL)
    assert all(admission.try_admit(Priority.HIGH) for _ in range(100))
    assert admission.open_requests == 103
    admission.release(Priority.LOW)
    with pytest.raises(RuntimeError, match="never admitted"):
        admission.release(Priority.LOW)


@pytest.mark.parametrize(
    ("headers", "trust", "expected"),
    [
        ({"Authorization": "Bearer gold"}, False, Priority.HIGH),
        ({"x-api-key": "gold"}, False, Priority.HIGH),
        ({"Authorization": "Bearer gold", "x-llama-priority": "low"}, False, Priority.HIGH),
        ({"Authorization": "Bearer other"}, False, Priority.NORMAL),
        ({"x-llama-priority": "LOW"}, False, Priority.LOW),
        ({"x-llama-priority": "high"}, False, Priority.NORMAL),
        ({"x-llama-priority": "high"}, True, Priority.HIGH),
        ({}, True, Priority.NORMAL),
    ],
)
def test_priority_classes_from_api_key_and_header(headers, trust, expected):
    classifier = PriorityClassifier(["gold"], "x-llama-priority", trust_header=trust)
    assert classifier.classify(headers) is expected


def test_no_fallback_means_no_overflow():
    assert choose_backend(Priority.LOW, 1_000, None) == "primary"
    assert choose_backend(Priority.NORMAL, 11, 10) == "fallback"
    assert choose_backend(Priority.HIGH, 11, 10) == "primary"
