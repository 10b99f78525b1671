"""`llama-infra router` on SIGTERM: stops accepting, finishes open streams, exits 0."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

import aiohttp
import pytest

from llama_infra.router.testing import FakeOpenAIBackend

RUN_CLI = "from llama_infra.cli import main; main()"


async def start_router(*args: str) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RUN_CLI,
        "router",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
    assert "listening on" in line, line
    return process, line.rsplit(" ", 1)[-1].strip()


async def test_sigterm_drains_open_streams_then_exits(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("# high-priority tenants\ntenant-gold\n")
    async with FakeOpenAIBackend(chunks=12, chunk_interval_seconds=0.15).serve() as primary:
        process, url = await start_router("--primary-url", primary.url, "--priority-api-keys-file", str(keys))
        try:
            async with aiohttp.ClientSession() as session:
                body = {"model": "m", "prompt": "hi", "stream": True}
                headers = {"Authorization": "Bearer tenant-gold"}
                async with session.post(f"{url}/v1/completions", json=body, headers=headers) as stream:
                    assert stream.headers["x-llama-priority"] == "high"  # key file was read
                    first = await stream.content.readuntil(b"\n\n")
                    process.send_signal(signal.SIGTERM)
                    await asyncio.sleep(0.3)
                    with pytest.raises(aiohttp.ClientConnectionError):  # no longer accepting
                        async with aiohttp.ClientSession() as fresh:
                            await fresh.get(f"{url}/health")
                    rest = await asyncio.wait_for(stream.read(), 10)
            returncode = await asyncio.wait_for(process.wait(), 10)
            output = (await process.stdout.read()).decode()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    events = [block.removeprefix("data: ") for block in (first + rest).decode().split("\n\n") if block]
    assert events[-1] == "[DONE]"
    assert [json.loads(event)["choices"][0]["text"] for event in events[:-1]] == [f"token{i} " for i in range(12)]
    assert returncode == 0
    assert "drained: every open request finished" in output


async def test_bad_router_options_exit_2_with_the_field_named():
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RUN_CLI,
        "router",
        "--primary-url",
        "llama:8000",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert "primary.url" in stderr.decode() and "not an http(s) URL" in stderr.decode()
    assert "Traceback" not in stderr.decode()


def test_router_config_file_maps_the_spec_fallback_section_and_flags_override_it(tmp_path):
    from llama_infra.cli.router import build_router_config

    config_file = tmp_path / "router.yaml"
    config_file.write_text(
        "primary: {url: 'http://llama-70b:8000'}\n"
        "fallback: {url: 'http://llama-8b:8000', model_id: meta-llama/Llama-3.1-8B-Instruct, precision: int4,\n"
        "           when_queue_depth_over: 50}\n"
    )
    config = build_router_config(config_file, {"fallback.when_queue_depth_over": 20, "port": 9000, "host": None})
    assert config.fallback is not None
    assert (config.fallback.model_id, config.fallback.precision) == ("meta-llama/Llama-3.1-8B-Instruct", "int4")
    assert config.fallback.when_queue_depth_over == 20
    assert (config.primary.url, config.port, config.host) == ("http://llama-70b:8000", 9000, "0.0.0.0")
