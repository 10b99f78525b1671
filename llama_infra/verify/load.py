"""Closed-loop load: N workers each send one request after another until the load window ends.

Bounded twice over: no request starts after the window, and every request has a timeout.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

NO_RESPONSE = 0
"""Status recorded when no HTTP response arrived (connection refused/reset, timeout)."""


@dataclass(frozen=True)
class RequestRecord:
    started_at_seconds: float
    """Seconds since the verification started."""
    latency_seconds: float
    status: int
    error: str = ""

    @property
    def failed(self) -> bool:
        """A 5xx, no response at all, or a stream that ended in an error event."""
        return self.status >= 500 or self.status == NO_RESPONSE or bool(self.error)

    @property
    def finished_at_seconds(self) -> float:
        return self.started_at_seconds + self.latency_seconds


class LoadTarget(Protocol):
    description: str

    async def send(self) -> tuple[int, str]:
        """One request: (HTTP status or NO_RESPONSE, error text or '')."""
        ...

    async def close(self) -> None: ...


class HttpLoadTarget:
    """An OpenAI-compatible URL (EKS service, ingress, or the router). Streams are read to the end."""

    def __init__(
        self, url: str, body: dict[str, Any], headers: dict[str, str] | None, timeout_seconds: float, concurrency: int
    ) -> None:
        self._url = url
        self._body = json.dumps(body).encode()
        self._headers = {"Content-Type": "application/json"} | (headers or {})
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=timeout_seconds), connector=aiohttp.TCPConnector(limit=concurrency)
        )
        self.description = f"POST {url}"

    async def send(self) -> tuple[int, str]:
        try:
            async with self._session.post(self._url, data=self._body, headers=self._headers) as response:
                payload = await response.read()
                if response.status == 200 and b'data: {"error"' in payload:
                    return response.status, "stream ended with an error event"
                return response.status, ""
        except TimeoutError:
            return NO_RESPONSE, "timeout"
        except aiohttp.ClientError as exc:
            return NO_RESPONSE, f"{type(exc).__name__}: {exc}"

    async def close(self) -> None:
        await self._session.close()


class SageMakerLoadTarget:
    """InvokeEndpoint on a real-time endpoint, from a thread pool sized to the concurrency. No SDK retries, so a
    5xx is seen as a 5xx."""

    def __init__(
        self, endpoint_name: str, body: dict[str, Any], timeout_seconds: float, concurrency: int, session: Any = None
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        import boto3
        from botocore.config import Config

        session = session or boto3.session.Session()
        config = Config(
            max_pool_connections=concurrency, read_timeout=timeout_seconds, retries={"total_max_attempts": 1}
        )
        self._client = session.client("sagemaker-runtime", config=config)
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="verify-load")
        self._endpoint = endpoint_name
        self._body = json.dumps(body).encode()
        self.description = f"InvokeEndpoint {endpoint_name} ({session.region_name})"

    def _invoke(self) -> tuple[int, str]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client.invoke_endpoint(
                EndpointName=self._endpoint, Body=self._body, ContentType="application/json"
            )
            response["Body"].read()
            return int(response["ResponseMetadata"]["HTTPStatusCode"]), ""
        except ClientError as exc:
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", NO_RESPONSE))
            return status, "" if status < 500 else str(exc)[:200]
        except BotoCoreError as exc:
            return NO_RESPONSE, str(exc)[:200]

    async def send(self) -> tuple[int, str]:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._invoke)

    async def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


async def run_load(
    target: LoadTarget,
    concurrency: int,
    duration_seconds: float,
    origin: float,
    clock: Callable[[], float] = time.monotonic,
) -> list[RequestRecord]:
    """Keep `concurrency` requests open for `duration_seconds`; `origin` is the procedure's start on `clock`."""
    records: list[RequestRecord] = []
    deadline = clock() + duration_seconds

    async def worker() -> None:
        while clock() < deadline:
            started = clock()
            status, error = await target.send()
            records.append(RequestRecord(started - origin, clock() - started, status, error))
            if status == NO_RESPONSE:
                await asyncio.sleep(0.05)  # a dead target must not turn the loop into a busy spin

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return records
