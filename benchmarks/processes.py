"""Child processes for the router benchmarks: a backend, a relay or the router, each its own process as in a pod.

One helper for `bench_router` and `bench_router_load` (they had a copy each): `process(...)` starts
`python <args>` from the repository root and waits for the URL the child prints on its first line; `cpu_seconds`
and `rss_bytes` read what a child used from Linux's /proc.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@asynccontextmanager
async def process(
    *args: str, marker: str = "http://", start_timeout_seconds: float = 60
) -> AsyncIterator[tuple[str, int]]:
    """A child whose first line holds its URL (after `marker`); yields (url, pid). At the end it is asked to stop
    (SIGTERM; SIGKILL after 10 s) unless it is already gone (a benchmark may kill it on purpose)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), start_timeout_seconds)).decode()
    if marker not in line:
        proc.kill()
        await proc.wait()
        raise RuntimeError(f"{args[:2]} did not start: {line!r}")
    try:
        yield "http" + line.split("http", 1)[1].strip(), proc.pid
    finally:
        if proc.returncode is None:
            try:
                proc.terminate()
                await asyncio.wait_for(proc.wait(), 10)
            except ProcessLookupError:
                pass
            except TimeoutError:
                proc.kill()
        await proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), for CPU per request: robust to a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (Linux /proc), 0 when it has none left."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
