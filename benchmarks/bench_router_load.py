"""The router under load and faults, on loopback: many concurrent streams, slow and idle clients, a backend killed.

Primary and fallback are fake OpenAI servers (`llama_infra.router.testing`, one process each) that stream
`--chunks` events `--chunk-interval` apart; the router runs as its own process (`llama-infra router`, the CLI the
pods run) with authentication on; this process is the load. Two phases, each bounded by `--seconds`:

1. direct: `--streams` concurrent closed-loop streams straight to a backend (the baseline for added latency);
2. router: the same streams through the router, while `--slow-clients` connections trickle a request body one byte
   per second and `--idle-clients` connections sit idle; halfway through, the primary is killed (SIGKILL) and the
   router must move new requests to the fallback.

Every stream is classified: `completed` (events and `data: [DONE]`), `errored` (an OpenAI error: an HTTP error
status with a JSON body, or an error event and `[DONE]` mid-stream — a client knows what happened) or `lost`
(anything else: a reset, a cut without an error, a time-out; the goal is 0). Reported: counts, time to the first
event and to the end (P50/P99, direct and through the router, and the difference), how the slow and idle clients
ended, and the router's CPU time and peak memory (RSS above idle) per concurrent stream.

    .venv/bin/python -m benchmarks bench_router_load          # the runner's table (RUN_* below, ~40 s)
    .venv/bin/python -m benchmarks.bench_router_load           # printed report, defaults below
    .venv/bin/python -m benchmarks.bench_router_load --streams 200 --seconds 4   # quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import numpy as np

from benchmarks.processes import cpu_seconds, process, rss_bytes

BACKEND = """
import asyncio, sys
from llama_infra.router.testing import FakeOpenAIBackend
async def main():
    backend = FakeOpenAIBackend(model=sys.argv[1], chunks=int(sys.argv[2]), chunk_interval_seconds=float(sys.argv[3]))
    async with backend.serve():
        print(backend.url, flush=True)
        await asyncio.Event().wait()
asyncio.run(main())
"""
ROUTER = "from llama_infra.cli import main; main()"
KEY = "bench-tenant"
BODY_TIMEOUT_SECONDS = 5.0
IDLE_TIMEOUT_SECONDS = 3.0


@dataclass
class Outcomes:
    counts: Counter[str] = field(default_factory=Counter)
    first_event_s: list[float] = field(default_factory=list)
    total_s: list[float] = field(default_factory=list)
    lost_reasons: Counter[str] = field(default_factory=Counter)
    completed_after_kill: int = 0
    """Completed streams that started after the primary was killed: the ones failover served."""
    errored_after_kill: int = 0
    """Errored streams that started after the kill: requests that reached the dead primary before the router saw it
    go (an OpenAI error the client can retry on), not the streams open on it at the kill."""


async def stream_once(
    session: aiohttp.ClientSession, url: str, body: bytes, out: Outcomes, timed_until: list[float]
) -> None:
    started = time.perf_counter()
    first: float | None = None
    try:
        async with session.post(
            url, data=body, headers={"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}
        ) as response:
            if response.status != 200:
                payload = await response.json(content_type=None)
                errored = "error" in payload
                out.counts["errored" if errored else "lost"] += 1
                out.errored_after_kill += int(errored and started > timed_until[0])
                return
            data = b""
            async for chunk in response.content.iter_any():
                if first is None:
                    first = time.perf_counter() - started
                data += chunk
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        out.counts["lost"] += 1
        out.lost_reasons[type(exc).__name__] += 1
        return
    events = [e for e in data.decode(errors="replace").split("\n\n") if e.strip()]
    if not events or events[-1] != "data: [DONE]":
        out.counts["lost"] += 1
        out.lost_reasons["no [DONE]"] += 1
    elif any('"error"' in e for e in events):
        out.counts["errored"] += 1
        out.errored_after_kill += int(started > timed_until[0])
    else:
        out.counts["completed"] += 1
        if started > timed_until[0]:
            out.completed_after_kill += 1
        if first is not None and time.perf_counter() < timed_until[0]:  # ended before the kill
            out.first_event_s.append(first)
            out.total_s.append(time.perf_counter() - started)


async def load(url: str, streams: int, seconds: float, chunks: int, timed_until: list[float]) -> Outcomes:
    """`streams` closed-loop workers, each streaming back to back until `seconds` are over; completed streams that
    end before `timed_until[0]` (the kill) count for latency."""
    out = Outcomes()
    body = json.dumps({"model": "bench", "messages": [{"role": "user", "content": "hi"}], "stream": True}).encode()
    timeout = aiohttp.ClientTimeout(total=60, sock_read=30)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        deadline = time.perf_counter() + seconds

        async def worker(index: int) -> None:
            await asyncio.sleep(index * 0.5 / streams)  # open the streams over half a second, not in one burst
            while time.perf_counter() < deadline:
                await stream_once(session, f"{url}/v1/chat/completions", body, out, timed_until)

        await asyncio.gather(*(worker(i) for i in range(streams)))
    return out


async def slow_client(url: str, results: Counter[str], stop: asyncio.Event) -> None:
    """Sends a request head, then one body byte per second (of 1,000 promised)."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: r\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {KEY}\r\nContent-Length: 1000\r\n\r\n".encode()
    )
    try:
        while not stop.is_set():
            writer.write(b" ")
            await writer.drain()
            try:
                head = await asyncio.wait_for(reader.readline(), 1.0)
            except TimeoutError:
                continue
            results[head.split(b" ")[1].decode() if head else "closed"] += 1
            return
        results["still open"] += 1
    except ConnectionError:
        results["closed"] += 1
    finally:
        writer.close()


async def idle_client(url: str, results: Counter[str], stop: asyncio.Event) -> None:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        done, _ = await asyncio.wait(
            {asyncio.ensure_future(reader.read()), asyncio.ensure_future(stop.wait())},
            return_when=asyncio.FIRST_COMPLETED,
        )
        results["closed by router" if not stop.is_set() else "still open"] += 1
    finally:
        writer.close()


def percentiles(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    return float(np.percentile(values, 50)), float(np.percentile(values, 99))


async def collect(
    streams: int,
    seconds: float,
    chunks: int,
    interval: float,
    slow: int,
    idle: int,
    *,
    body_timeout_seconds: float = BODY_TIMEOUT_SECONDS,
    idle_timeout_seconds: float = IDLE_TIMEOUT_SECONDS,
) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp) / "keys"
        keys.write_text(f"{KEY}\n")
        async with (
            process("-c", BACKEND, "bench", str(chunks), str(interval)) as primary,
            process("-c", BACKEND, "bench-small", str(chunks), str(interval)) as fallback,
        ):
            # Phase 1: the same load straight to a backend, for the added latency.
            direct = await load(fallback[0], streams, seconds, chunks, [float("inf")])
            config = Path(tmp) / "router.json"
            config.write_text(
                json.dumps(
                    {
                        "primary": {"url": primary[0], "queue_metric": "vllm"},
                        "fallback": {"url": fallback[0], "model_id": "bench-small", "when_queue_depth_over": 1e9},
                        "api_keys_file": str(keys),
                        "require_api_key": True,
                        "max_in_flight_requests": streams * 2,
                        "request_body_timeout_seconds": body_timeout_seconds,
                        "idle_connection_timeout_seconds": idle_timeout_seconds,
                        "host": "127.0.0.1",
                        "port": 0,
                    }
                )
            )
            async with process("-c", ROUTER, "router", "--config", str(config)) as router:
                url, pid = router
                await asyncio.sleep(0.5)
                rss_idle, cpu_before = rss_bytes(pid), cpu_seconds(pid)
                peak = [rss_idle]
                stop = asyncio.Event()

                async def sample() -> None:
                    while not stop.is_set():
                        peak[0] = max(peak[0], rss_bytes(pid))
                        await asyncio.sleep(0.1)

                slow_results: Counter[str] = Counter()
                idle_results: Counter[str] = Counter()
                kill_at = [time.perf_counter() + seconds / 2]

                async def kill_primary() -> None:
                    await asyncio.sleep(seconds / 2)
                    os.kill(primary[1], signal.SIGKILL)

                side = [asyncio.create_task(sample()), asyncio.create_task(kill_primary())]
                side += [asyncio.create_task(slow_client(url, slow_results, stop)) for _ in range(slow)]
                side += [asyncio.create_task(idle_client(url, idle_results, stop)) for _ in range(idle)]
                through = await load(url, streams, seconds, chunks, kill_at)
                stop.set()
                await asyncio.gather(*side, return_exceptions=True)
                cpu = cpu_seconds(pid) - cpu_before
    handled = sum(through.counts.values())
    return {
        "direct": direct,
        "router": through,
        "slow": slow_results,
        "idle": idle_results,
        "cpu_ms_per_stream": cpu * 1000 / max(1, handled),
        "rss_kib_per_concurrent_stream": (peak[0] - rss_idle) / 1024 / streams,
        "rss_idle_mib": rss_idle / 2**20,
        "rss_peak_mib": peak[0] / 2**20,
    }


# `python -m benchmarks` runs this at full concurrency with a short budget (2 phases × RUN_SECONDS + start-up).
RUN_STREAMS, RUN_SECONDS, RUN_CHUNKS, RUN_INTERVAL, RUN_SLOW, RUN_IDLE = 1000, 10.0, 10, 0.2, 40, 200


def rows(result: dict) -> list[dict]:
    direct, through = result["direct"], result["router"]
    d_first, d_total = percentiles(direct.first_event_s), percentiles(direct.total_s)
    r_first, r_total = percentiles(through.first_event_s), percentiles(through.total_s)
    out = []
    for name, o, first, total in (("direct", direct, d_first, d_total), ("router", through, r_first, r_total)):
        out.append(
            {
                "benchmark": "router_load",
                "case": name,
                "completed": o.counts["completed"],
                "errored": o.counts["errored"],
                "lost": o.counts["lost"],
                "first_event_p50_ms": round(first[0] * 1000, 1),
                "first_event_p99_ms": round(first[1] * 1000, 1),
                "stream_p50_ms": round(total[0] * 1000, 1),
                "stream_p99_ms": round(total[1] * 1000, 1),
            }
        )
    out[1].update(
        {
            "added_first_event_p50_ms": round((r_first[0] - d_first[0]) * 1000, 1),
            "added_first_event_p99_ms": round((r_first[1] - d_first[1]) * 1000, 1),
            "completed_after_kill": through.completed_after_kill,
            "errored_after_kill": through.errored_after_kill,
            "cpu_ms_per_stream": round(result["cpu_ms_per_stream"], 2),
            "rss_kib_per_concurrent_stream": round(result["rss_kib_per_concurrent_stream"], 1),
        }
    )
    return out


def run() -> list[dict]:
    return rows(asyncio.run(collect(RUN_STREAMS, RUN_SECONDS, RUN_CHUNKS, RUN_INTERVAL, RUN_SLOW, RUN_IDLE)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=RUN_STREAMS, help="concurrent streams")
    parser.add_argument("--seconds", type=float, default=RUN_SECONDS, help="length of each phase")
    parser.add_argument("--chunks", type=int, default=RUN_CHUNKS, help="events per stream")
    parser.add_argument("--chunk-interval", type=float, default=RUN_INTERVAL, help="seconds between events")
    parser.add_argument("--slow-clients", type=int, default=RUN_SLOW)
    parser.add_argument("--idle-clients", type=int, default=RUN_IDLE)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    result = asyncio.run(
        collect(args.streams, args.seconds, args.chunks, args.chunk_interval, args.slow_clients, args.idle_clients)
    )
    print(
        f"Router under load on loopback: {os.cpu_count()} CPUs (load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after); {args.streams} concurrent streams of {args.chunks} events "
        f"{args.chunk_interval:g} s apart for {args.seconds:g} s per phase; primary killed halfway through the "
        f"router phase; {args.slow_clients} slow and {args.idle_clients} idle clients"
    )
    for row in rows(result):
        print("  " + ", ".join(f"{k}={v}" for k, v in row.items() if k != "benchmark"))
    lost = result["router"].lost_reasons
    print(f"  lost by reason: {dict(lost) or 'none'}")
    print(f"  slow clients ended: {dict(result['slow'])} (body time-out {BODY_TIMEOUT_SECONDS:g} s)")
    print(f"  idle clients: {dict(result['idle'])} (idle time-out {IDLE_TIMEOUT_SECONDS:g} s)")
    print(f"  router RSS: {result['rss_idle_mib']:.1f} MiB idle, {result['rss_peak_mib']:.1f} MiB peak")


if __name__ == "__main__":
    main()
