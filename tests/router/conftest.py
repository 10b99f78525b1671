"""Fixtures of the router tests: the router on a free loopback port, and waiting for its scrapes.

Everything listens on 127.0.0.1 with port 0; nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from llama_infra.router.app import Router, make_runner
from llama_infra.router.config import RouterConfig


@asynccontextmanager
async def running_router(config: RouterConfig) -> AsyncIterator[tuple[str, Router]]:
    """The router in this event loop on a free loopback port; yields (base URL, router)."""
    router = Router(config)
    runner = make_runner(router, shutdown_timeout_seconds=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site.port}", router
    finally:
        await runner.cleanup()


@pytest.fixture
def router_at():
    """`async with router_at(config) as (url, router)`: the router on a free loopback port."""
    return running_router


async def wait_for_depth(router: Router, role: str, depth: float, timeout_seconds: float = 10) -> None:
    """Until the router has scraped `depth` from `role`'s metrics (bounded; scrapes are slow on a busy machine)."""
    deadline = asyncio.get_running_loop().time() + timeout_seconds
    while router.monitor.depth(role) != (depth, "metrics"):
        assert asyncio.get_running_loop().time() < deadline, f"{role} depth is {router.monitor.depth(role)}"
        await asyncio.sleep(0.01)


@pytest.fixture
def scraped():
    """`await scraped(router, "primary", 6)`: wait until the router's view of a backend's queue depth is 6."""
    return wait_for_depth
