"""Router overhead on loopback: the same fake backend called directly and through `llama-infra router`.

Backend, router and load generator run as three processes (as in a pod: the router is its own process), so on a
2-core machine they share the cores the way a sidecar would. For non-streaming and streaming requests it reports,
side by side from one run:

- latency at concurrency 1 (P50, P99; for streams, time to the last event), and the added latency
  (percentile through the proxy minus the direct percentile),
- throughput (requests/s) at `--concurrency` concurrent requests, and the CPU time per request of the process
  answering (backend for direct, the proxy otherwise): the number that stays meaningful on a busy machine,

for three paths: direct, a bare aiohttp relay (the floor of any extra hop) and the router (the relay plus
priority, admission, queue-depth routing, event-aligned streaming and metrics).

Every phase is bounded by `--seconds`. Run from the repository root:

    .venv/bin/python -m benchmarks bench_router           # the runner's table (RUN_SECONDS per path and mode)
    .venv/bin/python -m benchmarks.bench_router            # printed report, ~45 s
    .venv/bin/python -m benchmarks.bench_router --seconds 1 # quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time

import aiohttp
import numpy as np

from benchmarks.processes import cpu_seconds, process

BACKEND = """
import asyncio, sys
from llama_infra.router.testing import FakeOpenAIBackend
async def main():
    async with FakeOpenAIBackend(model="bench", chunks=int(sys.argv[1])).serve() as backend:
        print(backend.url, flush=True)
        await asyncio.Event().wait()
asyncio.run(main())
"""
ROUTER = "from llama_infra.cli import main; main()"
# The floor any aiohttp proxy pays for the extra hop: read the body, POST it upstream, relay the reply.
BARE_PROXY = """
import sys, aiohttp
from aiohttp import web
UPSTREAM = sys.argv[1]
async def start(app):
    app["session"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
async def stop(app):
    await app["session"].close()
async def relay(request):
    body = await request.read()
    headers = {"Content-Type": "application/json"}
    async with request.app["session"].post(UPSTREAM + request.path, data=body, headers=headers) as upstream:
        if upstream.content_type != "text/event-stream":
            return web.Response(body=await upstream.read(), status=upstream.status, content_type=upstream.content_type)
        out = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await out.prepare(request)
        async for chunk in upstream.content.iter_any():
            await out.write(chunk)
        await out.write_eof()
        return out
async def main():
    app = web.Application()
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_post("/v1/chat/completions", relay)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"http://127.0.0.1:{site.port}", flush=True)
    import asyncio
    await asyncio.Event().wait()
import asyncio
asyncio.run(main())
"""
PATHS = ("direct", "bare proxy", "router")


async def one(session: aiohttp.ClientSession, url: str, body: bytes) -> float:
    started = time.perf_counter()
    async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
        payload = await response.read()
        if response.status != 200 or (b"[DONE]" not in payload and b'"choices"' not in payload):
            raise RuntimeError(f"bad response {response.status}: {payload[:200]!r}")
    return time.perf_counter() - started


async def phase(url: str, body: bytes, concurrency: int, seconds: float) -> tuple[list[float], float]:
    """(latencies, requests/s) with `concurrency` closed-loop workers for `seconds`."""
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(min(concurrency, 20)):  # warm connections and code paths
            await one(session, url, body)
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()

        async def worker() -> None:
            while time.perf_counter() < deadline:
                latencies.append(await one(session, url, body))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, len(latencies) / elapsed


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.3f}"


async def measure(
    urls: dict[str, tuple[str, int]], body: bytes, seconds: float, concurrency: int, rounds: int
) -> dict[str, tuple[float, float, float, float]]:
    """Per path: (P50, P99, req/s, CPU seconds per request of the process serving that URL).

    Paths alternate within each round so load drift hits them alike."""
    latencies: dict[str, list[float]] = {name: [] for name in urls}
    rates: dict[str, list[float]] = {name: [] for name in urls}
    cpu: dict[str, list[float]] = {name: [] for name in urls}
    for _ in range(rounds):
        for name, (base, pid) in urls.items():
            url = f"{base}/v1/chat/completions"
            latencies[name] += (await phase(url, body, 1, seconds / rounds))[0]
            cpu_before = cpu_seconds(pid)
            measured, rate = await phase(url, body, concurrency, seconds / rounds)
            rates[name].append(rate)
            cpu[name].append((cpu_seconds(pid) - cpu_before) / max(1, len(measured) + min(concurrency, 20)))
    return {
        name: (
            np.percentile(latencies[name], 50),
            np.percentile(latencies[name], 99),
            statistics.median(rates[name]),
            statistics.median(cpu[name]),
        )
        for name in urls
    }


async def collect(seconds: float, concurrency: int, chunks: int, rounds: int) -> list[tuple[str, dict]]:
    """(mode, per-path measurements) for non-streaming and streaming, every phase bounded by `seconds`."""
    async with process("-c", BACKEND, str(chunks)) as backend, process("-c", BARE_PROXY, backend[0]) as bare:
        backend_url = backend[0]
        async with process(
            "-c",
            ROUTER,
            "router",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--primary-url",
            backend_url,
            "--fallback-url",
            backend_url,
            "--when-queue-depth-over",
            "1000000",
            "--max-in-flight-requests",
            "100000",
            "--max-connections",  # the router refuses a connection cap below the admission limit
            "100000",
        ) as router:
            # CPU is read from the process answering each URL: the backend for direct, the proxy otherwise.
            urls = {"direct": backend, "bare proxy": bare, "router": router}
            rows = []
            for mode, stream in (("non-streaming", False), ("streaming", True)):
                body = json.dumps(
                    {"model": "bench", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
                ).encode()
                rows.append((mode, await measure(urls, body, seconds, concurrency, rounds)))
    return rows


# `python -m benchmarks` runs this with a short budget: 2 modes × 3 paths × 2 measures × RUN_SECONDS ≈ 25 s.
RUN_SECONDS, RUN_ROUNDS, RUN_CONCURRENCY, RUN_CHUNKS = 2.0, 2, 32, 16


def run() -> list[dict]:
    """Rows for the benchmarks runner: one per mode and path, added latency and throughput ratio beside direct."""
    rows = asyncio.run(collect(RUN_SECONDS, RUN_CONCURRENCY, RUN_CHUNKS, RUN_ROUNDS))
    out = []
    for mode, measured in rows:
        d50, d99, drate, _ = measured["direct"]
        for name in PATHS:
            p50, p99, rate, cpu = measured[name]
            out.append(
                {
                    "benchmark": "router",
                    "case": f"{mode} {name}",
                    "p50_ms": round(p50 * 1000, 3),
                    "p99_ms": round(p99 * 1000, 3),
                    "added_p50_ms": round((p50 - d50) * 1000, 3),
                    "added_p99_ms": round((p99 - d99) * 1000, 3),
                    "requests_per_s": round(rate, 1),
                    "throughput_ratio": round(rate / drate, 2),
                    "cpu_us_per_request": round(cpu * 1e6, 1),
                }
            )
    return out


async def main(seconds: float, concurrency: int, chunks: int, rounds: int) -> None:
    load_before = os.getloadavg()[0]
    rows = await collect(seconds, concurrency, chunks, rounds)
    print(
        f"Router overhead on loopback: {os.cpu_count()} CPUs (load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after), {seconds:g} s per path and measure in {rounds} rounds, "
        f"{chunks} SSE events per stream; latency at concurrency 1 (streams: to the last event), "
        f"throughput at concurrency {concurrency}"
    )
    header = ("mode", "path", "P50 ms", "P99 ms", "req/s", "CPU us/req", "added P50", "added P99", "req/s vs direct")
    print("{:14} {:11} {:>8} {:>8} {:>7} {:>10}  {:>9} {:>9} {:>15}".format(*header))
    for mode, measured in rows:
        d50, d99, drate, _ = measured["direct"]
        for name in PATHS:
            p50, p99, rate, cpu = measured[name]
            added = "" if name == "direct" else f"{ms(p50 - d50):>9} {ms(p99 - d99):>9} {rate / drate:15.2f}"
            print(f"{mode:14} {name:11} {ms(p50):>8} {ms(p99):>8} {rate:7.0f} {cpu * 1e6:10.0f}  {added}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="time per path and measure (split over rounds)")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the paths")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--chunks", type=int, default=16, help="SSE events per streamed response")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency, args.chunks, args.rounds))
