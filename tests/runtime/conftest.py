"""Run-time tests (router, verify): `async def` tests run in a fresh event loop, bounded by a timeout.

Everything listens on 127.0.0.1 with port 0; nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from llama_infra.router.app import Router
from llama_infra.router.config import RouterConfig

ASYNC_TEST_TIMEOUT_SECONDS = 30


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(asyncio.wait_for(pyfuncitem.obj(**kwargs), ASYNC_TEST_TIMEOUT_SECONDS))
    return True


@asynccontextmanager
async def running_router(config: RouterConfig) -> AsyncIterator[tuple[str, Router]]:
    """The router in this event loop on a free loopback port; yields (base URL, router)."""
    router = Router(config)
    runner = web.AppRunner(router.build_app(), access_log=None, shutdown_timeout=0.5)
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
