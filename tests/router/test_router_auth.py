"""Who gets in, and what the backends see: client keys, 401s, and credentials that stay at the router.

Old router: an API key only set a request's priority, every request got in, and the client's `Authorization`
header went verbatim to both backends.
"""

from __future__ import annotations

import hmac
from pathlib import Path

import aiohttp
import pytest

from llama_infra.router.auth import KeyRing
from llama_infra.router.config import BackendConfig, FallbackConfig, RouterConfig
from llama_infra.router.testing import FakeOpenAIBackend

BODY = {"model": "llama-70b", "messages": [{"role": "user", "content": "hi"}]}
CREDENTIALS = ("authorization", "x-api-key", "api-key")


def guarded(primary_url: str, **kwargs) -> RouterConfig:
    return RouterConfig(
        primary=BackendConfig(url=primary_url),
        api_keys=["tenant-a"],
        priority_api_keys=["gold"],
        require_api_key=True,
        **kwargs,
    )


def credentials_seen(backend: FakeOpenAIBackend) -> list[dict[str, str]]:
    return [{k.lower(): v for k, v in r.headers.items() if k.lower() in CREDENTIALS} for r in backend.received]


async def test_without_a_listed_key_generation_and_models_get_401_and_nothing_reaches_the_backend(router_at):
    async with FakeOpenAIBackend().serve() as primary:
        async with router_at(guarded(primary.url)) as (url, _router), aiohttp.ClientSession() as s:
            answers = []
            for headers in ({}, {"Authorization": "Bearer tenant-b"}, {"x-api-key": "TENANT-A"}, {"api-key": ""}):
                async with s.post(f"{url}/v1/chat/completions", json=BODY, headers=headers) as r:
                    answers.append((r.status, r.headers.get("WWW-Authenticate"), (await r.json())["error"]["type"]))
            async with s.get(f"{url}/v1/models") as r:
                models = r.status
            async with s.get(f"{url}/health") as r:  # the kubelet's probe carries no key
                health = r.status
            metrics = await (await s.get(f"{url}/metrics")).text()
    assert answers == [(401, "Bearer", "invalid_request_error")] * 4
    assert (models, health) == (401, 200)
    assert primary.received == []
    assert 'llama_router_requests_total{backend="none",outcome="unauthorized",priority="none"} 4.0' in metrics


async def test_a_listed_key_in_any_of_the_three_headers_gets_in_with_its_priority(router_at):
    async with FakeOpenAIBackend().serve() as primary:
        async with router_at(guarded(primary.url)) as (url, _router), aiohttp.ClientSession() as s:
            answers = []
            for headers in (
                {"Authorization": "Bearer tenant-a"},
                {"x-api-key": "tenant-a"},
                {"api-key": "tenant-a"},
                {"Authorization": "Bearer gold"},  # a priority key is a client key too
            ):
                async with s.post(f"{url}/v1/chat/completions", json=BODY, headers=headers) as r:
                    answers.append((r.status, r.headers["x-llama-priority"]))
            async with s.get(f"{url}/v1/models", headers={"Authorization": "Bearer tenant-a"}) as r:
                models = r.status
    assert answers == [(200, "normal")] * 3 + [(200, "high")]
    assert models == 200


async def test_client_credentials_reach_neither_backend_and_the_backends_get_their_own_key(
    router_at, scraped, tmp_path: Path
):
    backend_key = tmp_path / "backend-key"
    backend_key.write_text("# vLLM --api-key\nbackend-secret\n")
    async with (
        FakeOpenAIBackend(model="llama-70b").serve() as primary,
        FakeOpenAIBackend(model="llama-8b").serve() as fallback,
    ):
        config = guarded(
            primary.url,
            fallback=FallbackConfig(url=fallback.url, model_id="llama-8b", when_queue_depth_over=0),
            backend_api_key_file=backend_key,
            metrics_poll_interval_seconds=0.05,
        )
        async with router_at(config) as (url, router), aiohttp.ClientSession() as s:
            headers = {"Authorization": "Bearer tenant-a", "x-api-key": "tenant-a", "api-key": "tenant-a"}
            async with s.post(f"{url}/v1/chat/completions", json=BODY, headers=headers) as r:
                first = (r.status, r.headers["x-llama-backend"])
            primary.waiting_override = 10  # over the threshold of 0: normal traffic overflows
            await scraped(router, "primary", 10)
            async with s.post(f"{url}/v1/chat/completions", json=BODY, headers=headers) as r:
                second = (r.status, r.headers["x-llama-backend"])
    assert (first, second) == ((200, "primary"), (200, "fallback"))
    assert credentials_seen(primary) == credentials_seen(fallback) == [{"authorization": "Bearer backend-secret"}]


async def test_without_a_backend_key_no_credential_is_sent_unless_forwarding_is_configured(router_at):
    async with FakeOpenAIBackend().serve() as primary:
        async with aiohttp.ClientSession() as s:
            for forward in (False, True):
                async with router_at(guarded(primary.url, forward_client_credentials=forward)) as (url, _router):
                    async with s.post(f"{url}/v1/chat/completions", json=BODY, headers={"x-api-key": "tenant-a"}) as r:
                        assert r.status == 200
    assert credentials_seen(primary) == [{}, {"x-api-key": "tenant-a"}]


def test_every_configured_key_is_compared_in_constant_time_whichever_matches(monkeypatch: pytest.MonkeyPatch):
    ring = KeyRing(["tenant-a", "tenant-b", "gold"])
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    for candidate, expected in (("tenant-a", True), ("gold", True), ("guess", False), ("", False)):
        calls.clear()
        assert (candidate in ring) is expected
        assert len(calls) == 3  # no early exit: the time does not say which key (or how many) matched
        assert {len(a) for a, _ in calls} == {len(b) for _, b in calls} == {32}  # digests: no length leak
    assert "tenant-a" not in repr(vars(ring)) and "gold" not in repr(vars(ring))
