"""The router facing real clients: slow senders, idle and excess connections, odd headers, long answers.

Raw sockets on loopback play the clients aiohttp's own client would never be (a trickled header or body, bytes
that are not UTF-8); every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp

from llama_infra.router.config import BackendConfig, RouterConfig
from llama_infra.router.testing import FakeOpenAIBackend

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


async def open_raw(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = url.removeprefix("http://").split(":")
    return await asyncio.open_connection(host, int(port))


def request_head(content_length: int, extra: bytes = b"") -> bytes:
    return (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\n"
        + extra
        + b"Content-Length: "
        + str(content_length).encode()
        + b"\r\n\r\n"
    )


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """Everything the server sends until it closes the connection (fails the test if it stays open longer)."""
    return await asyncio.wait_for(reader.read(), seconds)


async def read_response(reader: asyncio.StreamReader, seconds: float = 5) -> bytes:
    """One response with a Content-Length: head and body (the connection may stay open)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), seconds)
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    return head + await asyncio.wait_for(reader.readexactly(length), seconds)


async def test_clients_trickling_their_bodies_hold_no_admission_slot(router_at):
    """Old router: the slot was taken before the body was read, so 8 slow senders locked out normal traffic."""
    async with FakeOpenAIBackend().serve() as primary:
        config = RouterConfig(primary=BackendConfig(url=primary.url), max_in_flight_requests=4)
        async with router_at(config) as (url, router), aiohttp.ClientSession() as session:
            slow = [await open_raw(url) for _ in range(8)]
            for _reader, writer in slow:
                writer.write(request_head(1000) + b'{"mod')  # and then nothing for a while
                await writer.drain()
            await asyncio.sleep(0.2)
            started = time.monotonic()
            async with session.post(f"{url}/v1/chat/completions", json=BODY) as response:
                assert response.status == 200, await response.text()
            assert time.monotonic() - started < 3
            assert router.admission.open_requests == 0  # the slow senders hold connections, not slots
            for _reader, writer in slow:
                writer.close()


async def test_a_body_slower_than_the_body_time_out_gets_408(router_at):
    async with FakeOpenAIBackend().serve() as primary:
        config = RouterConfig(primary=BackendConfig(url=primary.url), request_body_timeout_seconds=0.3)
        async with router_at(config) as (url, _router):
            reader, writer = await open_raw(url)
            writer.write(request_head(100) + b"{")
            await writer.drain()
            answer = await read_response(reader)
            writer.close()
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"did not arrive within 0.3 s" in answer
    assert primary.received == []


async def test_idle_connections_and_trickled_headers_are_closed_after_the_idle_time_out(router_at):
    """Old router: aiohttp's default kept an idle connection (and one stuck mid-header) for an hour."""
    async with FakeOpenAIBackend().serve() as primary:
        config = RouterConfig(primary=BackendConfig(url=primary.url), idle_connection_timeout_seconds=0.3)
        async with router_at(config) as (url, _router):
            idle_reader, idle_writer = await open_raw(url)
            header_reader, header_writer = await open_raw(url)
            header_writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: rou")
            await header_writer.drain()
            started = time.monotonic()
            assert await closed_within(idle_reader, 5) == b""
            assert await closed_within(header_reader, 5) == b""
            assert time.monotonic() - started < 4
            # A kept-alive connection is closed the same way once its last response is out.
            reader, writer = await open_raw(url)
            body = json.dumps(BODY).encode()
            writer.write(request_head(len(body)) + body)
            await writer.drain()
            answer = await closed_within(reader, 5)
            assert answer.startswith(b"HTTP/1.1 200")
            for w in (idle_writer, header_writer, writer):
                w.close()


async def test_connections_beyond_the_cap_get_503_at_once_and_the_open_ones_keep_working(router_at):
    async with FakeOpenAIBackend().serve() as primary:
        config = RouterConfig(primary=BackendConfig(url=primary.url), max_in_flight_requests=2, max_connections=3)
        async with router_at(config) as (url, router):
            held = [await open_raw(url) for _ in range(3)]
            await asyncio.sleep(0.1)
            reader, writer = await open_raw(url)
            refused = await closed_within(reader, 5)
            writer.close()
            assert refused.startswith(b"HTTP/1.1 503") and b"too many open connections" in refused
            body = json.dumps(BODY).encode()
            first_reader, first_writer = held[0]
            first_writer.write(request_head(len(body)) + body)
            await first_writer.drain()
            head = await asyncio.wait_for(first_reader.readuntil(b"\r\n"), 5)
            assert head.startswith(b"HTTP/1.1 200")
            for _r, w in held:
                w.close()
            await asyncio.sleep(0.2)
            async with aiohttp.ClientSession() as session:  # room again once they are gone
                async with session.post(f"{url}/v1/chat/completions", json=BODY) as response:
                    assert response.status == 200
            assert router.metrics.refused_connections._value.get() == 1


async def test_a_key_header_that_is_not_utf8_gets_401_not_500(router_at):
    async with FakeOpenAIBackend().serve() as primary:
        config = RouterConfig(
            primary=BackendConfig(url=primary.url),
            api_keys=["tenant-a"],
            require_api_key=True,
            priority_api_keys=["gold"],
        )
        async with router_at(config) as (url, _router):
            for header in (b"Authorization: Bearer \xff\xfe\xc3\r\n", b"x-api-key: g\xf6ld\r\n"):
                reader, writer = await open_raw(url)
                body = json.dumps(BODY).encode()
                writer.write(request_head(len(body), header + b"Connection: close\r\n") + body)
                await writer.drain()
                answer = await closed_within(reader, 5)
                writer.close()
                assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert primary.received == []


async def test_a_key_header_that_is_not_utf8_is_normal_priority_without_authentication(router_at):
    async with FakeOpenAIBackend().serve() as primary:
        config = RouterConfig(primary=BackendConfig(url=primary.url), priority_api_keys=["gold"])
        async with router_at(config) as (url, _router):
            reader, writer = await open_raw(url)
            body = json.dumps(BODY).encode()
            writer.write(request_head(len(body), b"Authorization: Bearer g\xf6ld\r\nConnection: close\r\n") + body)
            await writer.drain()
            answer = await closed_within(reader, 5)
            writer.close()
    assert answer.startswith(b"HTTP/1.1 200") and b"x-llama-priority: normal" in answer


async def test_non_streaming_answers_slower_than_the_stream_idle_time_out_arrive(router_at):
    """Old router: the 120 s stream idle time-out also cut non-streaming requests, which send nothing until done."""
    async with FakeOpenAIBackend(latency_seconds=0.6).serve() as primary:
        patient = RouterConfig(
            primary=BackendConfig(url=primary.url), upstream_idle_timeout_seconds=0.2, request_timeout_seconds=10
        )
        impatient = RouterConfig(
            primary=BackendConfig(url=primary.url), upstream_idle_timeout_seconds=10, request_timeout_seconds=0.2
        )
        async with aiohttp.ClientSession() as session:
            async with router_at(patient) as (url, _router):
                async with session.post(f"{url}/v1/chat/completions", json=BODY) as response:
                    assert response.status == 200
            async with router_at(impatient) as (url, _router):
                async with session.post(f"{url}/v1/chat/completions", json=BODY) as response:
                    assert response.status == 504
                    assert "did not answer in time" in (await response.json())["error"]["message"]
