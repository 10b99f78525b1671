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
        default=None, description="Prometheus metrics URL; default `<url>/metrics`. Unused when queue_metric is in_flight."
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
    metrics_poll_interval_seconds: float = Field(default=1.0, gt=0)
    metrics_stale_after_seconds: float | None = Field(
        default=None, gt=0, description="A scrape older than this falls back to in-flight counts; default 3 polls."
    )
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    upstream_idle_timeout_seconds: float = Field(
        default=120.0, gt=0, description="A backend silent this long mid-response is treated as gone."
    )
    drain_timeout_seconds: float = Field(
        default=100.0, gt=0, description="On SIGTERM, wait this long for open streams (keep under the 120 s spot notice)."
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
        return self

    @property
    def low_priority_limit(self) -> int:
        if self.low_priority_max_in_flight_requests is not None:
            return self.low_priority_max_in_flight_requests
        return self.max_in_flight_requests // 2

    @property
    def metrics_stale_seconds(self) -> float:
        return self.metrics_stale_after_seconds or 3 * self.metrics_poll_interval_seconds


def load_priority_api_keys(config: RouterConfig) -> frozenset[str]:
    """The high-priority keys from the config and its key file. Raises `ValueError` naming the file on failure."""
    keys = {key.get_secret_value() for key in config.priority_api_keys}
    path = config.priority_api_keys_file
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(
                f"priority_api_keys_file {path}: cannot read it ({exc.strerror}); "
                "mount the priority keys Secret there or drop the option"
            ) from exc
        keys.update(line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    return frozenset(keys)
