"""`RouterConfig`: what the overflow router needs to run.

Field names follow the deployment spec's `fallback` section (`model_id`, `precision`, `when_queue_depth_over`) so
the EKS component can map `spec.fallback` onto `RouterConfig.fallback` field by field. The spec's
`priority_api_keys_secret` names a Kubernetes Secret; the component mounts it as a file and passes its path as
`priority_api_keys_file` (one key per line), so keys never appear in a pod spec, a plan or a command line.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from yarl import URL

QueueMetric = Literal["auto", "vllm", "tgi", "in_flight"]
"""Where a backend's queue depth comes from: `vllm` reads `vllm:num_requests_waiting`, `tgi` reads
`tgi_queue_size`, `auto` takes whichever of the two the backend exports, `in_flight` uses the router's own count of
requests it has open to that backend (for servers that export neither)."""


class Priority(str, enum.Enum):
    """Priority classes. `high` is never overflowed or shed; `low` is shed first."""

    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


def _http_url(value: str) -> str:
    url = URL(value)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"{value!r} is not an http(s) URL; write it like http://llama-70b.serving.svc:8000")
    return str(url).rstrip("/")


class BackendConfig(BaseModel):
    """One OpenAI-compatible inference service (vLLM, TGI, LMI...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="Base URL of the service, without /v1 (http://llama-70b.serving.svc:8000).")
    metrics_url: str | None = Field(
        default=None,
        description="Prometheus metrics URL; default `<url>/metrics`. Unused when queue_metric is in_flight.",
    )
    queue_metric: QueueMetric = Field(default="auto", description="Source of this backend's queue depth.")

    @field_validator("url", "metrics_url")
    @classmethod
    def _check_urls(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)

    @property
    def resolved_metrics_url(self) -> str:
        return self.metrics_url or f"{self.url}/metrics"


class FallbackConfig(BackendConfig):
    """The smaller (often quantized) model that takes normal and low priority traffic when the primary is saturated.

    Mirrors the spec's `fallback` section plus the `url` where the EKS component exposes it.
    """

    model_id: str | None = Field(
        default=None,
        description="Model name the fallback serves; overflowed requests have their `model` field rewritten to it.",
    )
    precision: str | None = Field(default=None, description="Informational (fp16, int8, int4); exported as a label.")
    when_queue_depth_over: float = Field(
        ge=0, description="Overflow while the primary's queue depth is strictly greater than this; back at or below it."
    )


class RouterConfig(BaseModel):
    """Everything `llama-infra router` needs. Durations are in seconds, counts are requests."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    primary: BackendConfig
    fallback: FallbackConfig | None = Field(
        default=None, description="Without a fallback the router still does admission, priorities and queue metrics."
    )
    priority_api_keys: tuple[SecretStr, ...] = Field(
        default=(), description="API keys of high-priority tenants (given directly, for tests and embedding)."
    )
    priority_api_keys_file: Path | None = Field(
        default=None, description="File with one high-priority API key per line (a mounted Secret); '#' comments."
    )
    priority_header: str = Field(
        default="x-llama-priority", description="Header a client (or a trusted gateway) uses to set its class."
    )
    trust_priority_header: bool = Field(
        default=False,
        description="When false the header can only lower a request's class (to low); set true behind a gateway "
        "that strips the header from untrusted clients, to let it raise requests to high as well.",
    )
    max_in_flight_requests: int = Field(
        default=512, ge=1, description="Normal-priority requests beyond this many open requests get 429."
    )
    low_priority_max_in_flight_requests: int | None = Field(
        default=None, ge=0, description="Low-priority requests beyond this many open requests get 429; default half."
    )
    api_keys: tuple[SecretStr, ...] = Field(
        default=(), description="API keys of every tenant allowed in (given directly, for tests and embedding)."
    )
    api_keys_file: Path | None = Field(
        default=None, description="File with one client API key per line (a mounted Secret); '#' comments."
    )
    require_api_key: bool = Field(
        default=False,
        description="When true a generation or models request without a listed key (api_keys, api_keys_file or a "
        "priority key) gets 401. The EKS components always turn it on; keys are compared in constant time.",
    )
    forward_client_credentials: bool = Field(
        default=False,
        description="Send the client's Authorization / x-api-key / api-key headers on to the backends; by default "
        "they are dropped (and backend_api_key_file's key is sent instead, if set).",
    )
    backend_api_key_file: Path | None = Field(
        default=None,
        description="File holding the key the backends require (vLLM --api-key); sent as `Authorization: Bearer`.",
    )
    metrics_poll_interval_seconds: float = Field(default=1.0, gt=0)
    metrics_scrape_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How long one queue-depth scrape may take (Prometheus /federate often needs more than a second).",
    )
    metrics_stale_after_seconds: float | None = Field(
        default=None,
        gt=0,
        description="A scrape older than this falls back to the in-flight estimate; default 3 polls, and at least "
        "one scrape time-out plus one poll.",
    )
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    upstream_idle_timeout_seconds: float = Field(
        default=120.0, gt=0, description="A backend silent this long mid-stream is treated as gone."
    )
    request_timeout_seconds: float = Field(
        default=600.0,
        gt=0,
        description="A non-streaming request whose backend has not answered in this long gets 504. A server sends "
        "nothing until the whole answer is generated: 4,096 tokens at 10 tokens/s take ~410 s; 600 s is the OpenAI "
        "SDKs' own default time-out, after which the client has given up anyway.",
    )
    request_body_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A client must send its whole request body within this long, or gets 408. The body is read "
        "before admission, so slow senders never hold an admission slot.",
    )
    idle_connection_timeout_seconds: float = Field(
        default=15.0,
        gt=0,
        description="A connection that has not sent a complete request head this long after it opened or after its "
        "last response is closed (keep-alive and header time-out in one).",
    )
    max_connections: int = Field(
        default=2048,
        ge=1,
        description="Client connections beyond this many open ones get 503 + Connection: close at once, before any "
        "request is read, so idle or slow connections cannot use up the process' file descriptors.",
    )
    drain_timeout_seconds: float = Field(
        default=100.0,
        gt=0,
        description="On SIGTERM, wait this long for open streams (keep under the 120 s spot notice).",
    )
    wake_wait_seconds: float = Field(
        default=0,
        ge=0,
        description="While the chosen backend refuses connections (no replica: scaled to zero and waking), hold the "
        "request and try again every wake_retry_interval_seconds for up to this long before answering 503 + "
        "Retry-After; 0 answers at once. Only refused connections are retried, never a request the backend "
        "received. A held request keeps its admission slot (it counts against max_in_flight_requests), is answered "
        "503 at once when the router drains (SIGTERM), and is dropped when its client hangs up.",
    )
    wake_retry_interval_seconds: float = Field(
        default=2.0, gt=0, description="How often a held request tries the backend again (see wake_wait_seconds)."
    )
    host: str = "0.0.0.0"
    port: int = Field(default=8080, ge=0, le=65535)

    @model_validator(mode="after")
    def _check_limits(self) -> RouterConfig:
        low = self.low_priority_max_in_flight_requests
        if low is not None and low > self.max_in_flight_requests:
            raise ValueError(
                f"low_priority_max_in_flight_requests ({low}) is above max_in_flight_requests "
                f"({self.max_in_flight_requests}); low priority must be shed first, so set it lower"
            )
        if self.max_connections < self.max_in_flight_requests:
            raise ValueError(
                f"max_connections ({self.max_connections}) is below max_in_flight_requests "
                f"({self.max_in_flight_requests}); every admitted request needs a connection, so raise it"
            )
        return self

    @property
    def low_priority_limit(self) -> int:
        if self.low_priority_max_in_flight_requests is not None:
            return self.low_priority_max_in_flight_requests
        return self.max_in_flight_requests // 2

    @property
    def metrics_stale_seconds(self) -> float:
        if self.metrics_stale_after_seconds is not None:
            return self.metrics_stale_after_seconds
        poll = self.metrics_poll_interval_seconds
        return max(3 * poll, self.metrics_scrape_timeout_seconds + poll)


def _read_keys(field: str, path: Path) -> set[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ValueError(
            f"{field} {path}: cannot read it ({why}); mount the keys Secret there or drop the option"
        ) from exc
    return {line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")}


def load_priority_api_keys(config: RouterConfig) -> frozenset[str]:
    """The high-priority keys from the config and its key file. Raises `ValueError` naming the file on failure."""
    keys = {key.get_secret_value() for key in config.priority_api_keys}
    if config.priority_api_keys_file is not None:
        keys |= _read_keys("priority_api_keys_file", config.priority_api_keys_file)
    return frozenset(keys)


def load_client_api_keys(config: RouterConfig) -> frozenset[str]:
    """Every key let in: the client keys and the priority keys. Raises `ValueError` when a key file cannot be read
    or `require_api_key` is on with no key at all (the router would answer every request 401)."""
    keys = {key.get_secret_value() for key in config.api_keys} | load_priority_api_keys(config)
    if config.api_keys_file is not None:
        keys |= _read_keys("api_keys_file", config.api_keys_file)
    if config.require_api_key and not keys:
        raise ValueError(
            "require_api_key: no API key is configured, so every request would get 401; put one key per line in "
            "api_keys_file (the mounted Secret) or turn require_api_key off"
        )
    return frozenset(keys)


def load_backend_api_key(config: RouterConfig) -> str | None:
    """The key the backends require (first non-comment line of `backend_api_key_file`), or None."""
    if config.backend_api_key_file is None:
        return None
    keys = sorted(_read_keys("backend_api_key_file", config.backend_api_key_file))
    if len(keys) != 1:
        raise ValueError(
            f"backend_api_key_file {config.backend_api_key_file}: holds {len(keys)} keys; it must hold exactly one"
        )
    return keys[0]
