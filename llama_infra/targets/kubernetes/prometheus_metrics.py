"""The model servers' Prometheus metrics and the PromQL the autoscalers use: defined once, rendered everywhere.

The PodMonitors' (or scrape config's) keep-list, prometheus-adapter's external rule and the HPA / KEDA ScaledObject
all take their metric names and queries from here, so a renamed metric cannot silently disable scaling in one place
only (`tests/targets/eks/test_metric_pipeline.py` follows each metric from the pod to the autoscaler).

Names are those of the pinned images (`llama_infra.targets.kubernetes.images`):
- vLLM v0.11: `vllm:num_requests_waiting` (gauge), `vllm:kv_cache_usage_perc` (gauge, 0–1; the old
  `vllm:gpu_cache_usage_perc` is hidden since 0.10 unless `--show-hidden-metrics-for-version` is set),
  `vllm:request_success` (counter, exposed as `vllm:request_success_total`: the load a following floor reads).
- TGI 3.3: `tgi_queue_size` (gauge), `tgi_request_success` (counter). TGI has no KV-cache usage gauge and
  pre-allocates its KV blocks at warm-up, so no GPU-memory signal is rendered for it (the spec warns).
- DCGM exporter: `DCGM_FI_DEV_FB_USED` / `DCGM_FI_DEV_FB_FREE` (MiB). Scraped for dashboards only: vLLM and TGI
  reserve most GPU memory at start, so framebuffer use sits near 90 % whatever the load.

Scaling math across the baseline and burst Deployments (see docs/eks.md): with B baseline replicas always running
and a target of t per replica, the service needs ceil(Q / t) replicas for a total queue Q summed over ALL serving
pods. The burst Deployment's autoscaler reads `clamp_min(Q − B·t, 0)` as an External metric with an `AverageValue`
target of t, for which Kubernetes computes desired = ceil(value / t) = ceil(Q / t) − B: the burst replicas the
baseline cannot cover.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Framework = Literal["vllm", "tgi"]

# The label every serving pod (baseline and burst) carries; queries sum over it.
SERVICE_LABEL = "app.kubernetes.io/instance"
SERVICE_LABEL_PROM = "app_kubernetes_io_instance"  # the same label after Prometheus' name sanitising


@dataclass(frozen=True)
class ServerMetrics:
    """What one model server exports and where."""

    framework: Framework
    queue_depth: str  # waiting requests (gauge)
    kv_cache_usage: str | None  # fraction 0–1 of the KV cache in use (gauge), None when the server has none
    running: str  # requests being generated right now (gauge): the router's estimate of the server's slots
    requests_finished: str  # requests served to the end (counter): the load a following predictive floor reads
    path: str = "/metrics"

    @property
    def scaling_series(self) -> tuple[str, ...]:
        return tuple(m for m in (self.queue_depth, self.kv_cache_usage) if m)


SERVER_METRICS: dict[str, ServerMetrics] = {
    "vllm": ServerMetrics(
        "vllm",
        queue_depth="vllm:num_requests_waiting",
        kv_cache_usage="vllm:kv_cache_usage_perc",
        running="vllm:num_requests_running",
        requests_finished="vllm:request_success_total",
    ),
    "tgi": ServerMetrics(
        "tgi",
        queue_depth="tgi_queue_size",
        kv_cache_usage=None,
        running="tgi_batch_current_size",
        requests_finished="tgi_request_success",
    ),
}


def server_metrics(framework: str) -> ServerMetrics:
    try:
        return SERVER_METRICS[framework]
    except KeyError:
        raise ValueError(
            f"no metrics known for framework '{framework}' on EKS (known: {', '.join(SERVER_METRICS)})"
        ) from None


def selector(namespace: str, instance: str) -> str:
    """PromQL label matchers selecting every serving pod of one deployment (baseline and burst)."""
    return f'namespace="{namespace}",{SERVICE_LABEL_PROM}="{instance}"'


@dataclass(frozen=True)
class ScalingQuery:
    """One autoscaling signal: the series, the per-replica target and the PromQL of the burst's share."""

    role: Literal["queue-depth", "kv-cache"]
    series: str
    target_per_replica: float
    baseline_replicas: int
    namespace: str
    instance: str

    @property
    def trigger_name(self) -> str:
        """KEDA trigger name, also its variable in a `scalingModifiers` formula (an expr-lang identifier)."""
        return self.role.replace("-", "_")

    @property
    def external_metric_name(self) -> str:
        """Name prometheus-adapter serves the query under (snake case, unique per deployment)."""
        return f"llama_{self.instance.replace('-', '_')}_burst_{self.role.replace('-', '_')}"

    @property
    def total(self) -> str:
        return f"sum({self.series}{{{selector(self.namespace, self.instance)}}})"

    @property
    def promql(self) -> str:
        """Load above what the baseline absorbs: clamp_min(total − B·t, 0). Empty when no pod exports the series:
        the autoscalers read it through `zero_while_scraped`."""
        offset = self.baseline_replicas * self.target_per_replica
        if offset == 0:
            return self.total
        return f"clamp_min({self.total} - {_num(offset)}, 0)"


def scaling_queries(
    framework: str,
    namespace: str,
    instance: str,
    baseline_replicas: int,
    queue_depth_target: float,
    kv_cache_target: float | None,
) -> list[ScalingQuery]:
    m = server_metrics(framework)
    out = [ScalingQuery("queue-depth", m.queue_depth, queue_depth_target, baseline_replicas, namespace, instance)]
    if kv_cache_target is not None and m.kv_cache_usage:
        out.append(ScalingQuery("kv-cache", m.kv_cache_usage, kv_cache_target, baseline_replicas, namespace, instance))
    return out


# Scale to zero: a replica stays while the router has seen a request for the service within this many seconds; KEDA's
# cooldownPeriod (≥ 300 s) comes on top, so an idle service reaches zero about 15 minutes after its last request.
ROUTER_LAST_REQUEST = "llama_router_backend_last_request_timestamp_seconds"
WAKE_IDLE_SECONDS = 600


def scrape_job_name(namespace: str, instance: str) -> str:
    """The Prometheus job of one service's pods in the scrape-config Secret
    (`llama_infra.targets.kubernetes.monitoring`)."""
    return f"llama-infra/{namespace}/{instance}"


def scraped(namespace: str, instances: Sequence[str]) -> str:
    """`up` of every target Prometheus has for these services' pods: 0 while a server is still loading (its
    /metrics does not answer yet), 1 once it does; no series when Prometheus has no such target."""
    names = "|".join(instances)
    return f'up{{namespace="{namespace}",{SERVICE_LABEL_PROM}=~"{names}"}}'


def zero_while_scraped(promql: str, namespace: str, instances: Sequence[str]) -> str:
    """`promql`, or 0 when it is empty while Prometheus has a target among `instances` (see `scraped`).

    Empty is then a true 0: the servers are still loading (a cold start takes minutes and vLLM/TGI export nothing
    before they serve), or no model pod runs and the router (always running) is the target left. Empty with no
    target at all means the pipeline is broken (no monitor selects the pods, a wrong `release` label, Prometheus
    lost them): that stays empty, an error for KEDA (`ignoreNullValues: false`, so it holds its fallback replicas
    after `failureThreshold` polls) and no value for the HPA (it keeps its count). `or vector(0)` or
    `ignoreNullValues: true` would instead read a broken pipeline as an idle service, forever."""
    return f"({promql}) or on() (0 * max({scraped(namespace, instances)}))"


def held(promql: str, window_s: int, resolution_s: int) -> str:
    """The least value `promql` took over the last `window_s` seconds (a subquery sampled every `resolution_s`): it is
    above a level only when the value stayed above it for the whole window."""
    return f"min_over_time(({promql})[{window_s}s:{resolution_s}s])"


def serving_pods_query(namespace: str, instance: str) -> str:
    """How many of a service's model-server pods answer Prometheus' scrape (`up == 1`): the pods that serve, since
    vLLM and TGI export /metrics only once the model is loaded (`scraped`). 0 when none does."""
    return f"count({scraped(namespace, [instance])} == 1) or on() vector(0)"


def recent_request_query(namespace: str, router_instance: str, idle_seconds: int = WAKE_IDLE_SECONDS) -> str:
    """1 while the router (the Service clients call) received a request for the primary within `idle_seconds`, else
    0 (also before its first request, while it is scraped). The only signal that exists while no model replica runs
    (no pod, no queue series), so it wakes a service scaled to zero, and it keeps one replica while light traffic
    never queues."""
    last = f'max({ROUTER_LAST_REQUEST}{{{selector(namespace, router_instance)},backend="primary"}})'
    return zero_while_scraped(f"(time() - {last}) < bool {idle_seconds}", namespace, [router_instance])


def keep_regex(framework: str) -> str:
    """The scrape config's `metric_relabel_configs` keep-list: the scaling series, the finished-requests counter
    (the predictive floor's load) plus the SLO histograms."""
    m = server_metrics(framework)
    extra = {
        "vllm": (
            "vllm:num_requests_running",
            "vllm:time_to_first_token_seconds_.*",
            "vllm:e2e_request_latency_seconds_.*",
        ),
        "tgi": ("tgi_batch_current_size", "tgi_request_duration_.*"),
    }[m.framework]
    return "|".join(_escape(s) for s in (*m.scaling_series, m.requests_finished)) + "|" + "|".join(extra)


def _escape(series: str) -> str:
    return series.replace(".", r"\.")


def _num(x: float) -> str:
    return f"{x:g}"
