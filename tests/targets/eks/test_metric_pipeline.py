"""Each scaling metric arrives: from the vLLM/TGI pod (names the pinned image exports, read from
../shared/data/upstream/container_facts.json) through the PodMonitor (or the scrape-config Secret) — selector, port,
path, keep-list, target labels — to the query the KEDA ScaledObject or prometheus-adapter's rule runs and the HPA /
ScaledObject that scales on it. A mismatch anywhere would silently disable scaling; an empty metric while the
servers start must read 0, not pin the burst at KEDA's fallback."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llama_infra.scaling.hpa import external_average_value_replicas
from llama_infra.targets.eks import addons
from llama_infra.targets.kubernetes import autoscaling, monitoring, server, workload
from llama_infra.targets.kubernetes import prometheus_metrics as metrics

from . import settled
from .specs import edited, floor_in_force, variants

VARIANTS = variants()
FACTS = json.loads((Path(__file__).resolve().parents[3] / "../shared/data/upstream/container_facts.json").read_text())
EXPORTED = {"vllm": FACTS["vllm v0.11.0"]["metrics"], "tgi": FACTS["tgi v3.3.4"]["metrics"]}
# kube-prometheus-stack's Prometheus selects PodMonitors by `release: <Helm release>` (podMonitorSelector with
# podMonitorSelectorNilUsesHelmValues: true); the release behind the default prometheus_url is kube-prometheus-stack.
DEFAULT_SELECTOR = {"release": "kube-prometheus-stack"}
NOON = datetime(2026, 1, 6, 12, tzinfo=UTC)


def sanitize(label: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", label)


def _pods(spec) -> list[dict]:
    """The serving pods' templates (both tiers), as the cluster would run them."""
    return [d["spec"]["template"] for d in (workload.baseline_deployment(spec), workload.burst_deployment(spec)) if d]


def _through_pod_monitor(monitor: dict, pod: dict, namespace: str, series: str) -> dict[str, str] | None:
    """The labels prometheus-operator's generated job gives `series` scraped from `pod`, or None when the monitor
    does not select the pod, has no endpoint on one of its ports, or drops the series."""
    spec = monitor["spec"]
    pod_labels = pod["metadata"]["labels"]
    if namespace not in spec["namespaceSelector"]["matchNames"]:
        return None
    if not spec["selector"]["matchLabels"].items() <= pod_labels.items():
        return None
    (container,) = pod["spec"]["containers"]
    ports = {p["name"] for p in container["ports"]}
    (endpoint,) = spec["podMetricsEndpoints"]
    if (
        endpoint["port"] not in ports
        or endpoint.get("path", "/metrics")
        != metrics.server_metrics("tgi" if "tgi" in container["image"] else "vllm").path
    ):
        return None
    for rule in endpoint.get("metricRelabelings", []):
        assert rule["sourceLabels"] == ["__name__"] and rule["action"] == "keep"
        if not re.fullmatch(rule["regex"], series):  # Prometheus anchors relabel regexes
            return None
    target = {"namespace": namespace, "pod": "pod-0", "container": container["name"], "endpoint": endpoint["port"]}
    target |= {sanitize(k): pod_labels[k] for k in spec.get("podTargetLabels", []) if k in pod_labels}
    return target


def _through_scrape_config(job: dict, pod: dict, namespace: str, series: str) -> dict[str, str] | None:
    """The same through a plain scrape config (the subset of relabelling we render)."""
    meta = {f"__meta_kubernetes_pod_label_{sanitize(k)}": v for k, v in pod["metadata"]["labels"].items()}
    (container,) = pod["spec"]["containers"]
    meta |= {
        "__meta_kubernetes_pod_container_port_name": container["ports"][0]["name"],
        "__meta_kubernetes_namespace": namespace,
        "__meta_kubernetes_pod_name": "pod-0",
        "__meta_kubernetes_pod_phase": "Running",
    }
    if job["metrics_path"] != metrics.server_metrics("tgi" if "tgi" in container["image"] else "vllm").path:
        return None
    out: dict[str, str] = {}
    for rule in job["relabel_configs"]:
        value = ";".join(meta.get(s, "") for s in rule.get("source_labels", []))
        if rule.get("action") == "keep" and not re.fullmatch(rule["regex"], value):
            return None
        if rule.get("action") == "drop" and re.fullmatch(rule["regex"], value):
            return None
        if rule.get("action") == "labelmap":
            out |= {m.group(1): v for k, v in meta.items() if (m := re.fullmatch(rule["regex"], k))}
        elif "target_label" in rule:
            out[rule["target_label"]] = value
    for rule in job.get("metric_relabel_configs", []):
        if not re.fullmatch(rule["regex"], series):
            return None
    return out


def _selector_labels(promql: str) -> dict[str, str]:
    return dict(re.findall(r'(\w+)="([^"]*)"', promql))


def _arrives(spec, series: str) -> list[dict[str, str]]:
    """The labels `series` has in Prometheus, once per serving pod, through whatever `eks.scrape` renders."""
    ns = spec.eks.namespace
    out = []
    for pod in _pods(spec):
        if spec.eks.scrape.via == "pod-monitor":
            mons = [o for o in monitoring.objects(spec) if o["kind"] == "PodMonitor"]
            for mon in mons:
                assert DEFAULT_SELECTOR.items() <= mon["metadata"]["labels"].items()  # Prometheus selects it
            got = [t for m in mons if (t := _through_pod_monitor(m, pod, ns, series))]
        else:
            (secret,) = monitoring.objects(spec)
            jobs = json.loads(secret["stringData"][monitoring.SECRET_KEY])
            got = [t for j in jobs if (t := _through_scrape_config(j, pod, ns, series))]
        assert len(got) <= 1, f"{series} scraped {len(got)} times from one pod: every sum would count it twice"
        out += got
    return out


CASES = [
    (v, via)
    for v in ("prod-keda-karpenter", "hpa-prometheus-adapter", "tgi")
    for via in ("pod-monitor", "scrape-config-secret")
]


def _variant(variant: str, via: str):
    """A variant spec, scraped through `via` (its own PodMonitor, or the scrape-config Secret)."""
    base = VARIANTS[variant]
    if via == "pod-monitor":
        return base
    scrape = base.eks.scrape.model_copy(update={"via": via})
    return base.model_copy(update={"eks": base.eks.model_copy(update={"scrape": scrape})})


@pytest.mark.parametrize("variant,via", CASES)
def test_each_scaling_metric_arrives_from_the_pod_at_the_autoscaler(variant, via):
    spec = _variant(variant, via)
    queries = autoscaling.scaling_queries(spec)
    assert queries and queries[0].series == metrics.server_metrics(spec.model.framework).queue_depth
    external = (
        addons.values(spec, "prometheus-adapter")["rules"]["external"]
        if spec.eks.addons.prometheus_adapter
        else autoscaling.adapter_external_rules(spec)
    )
    rules = {r["name"]["as"]: r for r in external}
    so, hpa = autoscaling.scaled_object(spec), autoscaling.horizontal_pod_autoscaler(spec)
    triggers = {t["name"]: t for t in so["spec"]["triggers"]}
    assert [m["external"]["metric"]["name"] for m in hpa["spec"]["metrics"]] == list(rules)
    for q in queries:
        # 1. the pinned server exports it
        assert q.series in EXPORTED[spec.model.framework], f"{q.series} is not exported by the pinned image"
        # 2. it reaches Prometheus from every serving pod, with the labels the query selects
        arrived = _arrives(spec, q.series)
        assert len(arrived) == len(_pods(spec)) >= 1
        for labels_ in arrived:
            assert _selector_labels(q.total).items() <= labels_.items()
        # 3. the adapter discovers it on the pods' `up` series (same labels) and runs the autoscalers' query
        rule = rules[q.external_metric_name]
        assert re.fullmatch(rule["name"]["matches"], "up")
        assert rule["seriesQuery"] == metrics.scraped(spec.eks.namespace, autoscaling.scraped_instances(spec))
        for labels_ in arrived:
            up_matchers = _selector_labels(rule["seriesQuery"].replace("=~", "="))
            assert labels_["namespace"] == up_matchers["namespace"]
            assert labels_[metrics.SERVICE_LABEL_PROM] in up_matchers[metrics.SERVICE_LABEL_PROM].split("|")
        assert rule["metricsQuery"] == autoscaling.autoscaler_query(spec, q)
        # 4. KEDA's trigger runs the same query; HPA and ScaledObject target the per-replica value
        t = triggers[q.trigger_name]
        assert t["metadata"]["query"] == rule["metricsQuery"] and q.promql in t["metadata"]["query"]
        assert t["metadata"]["serverAddress"] == spec.eks.prometheus_url
        assert t["metadata"]["threshold"] == f"{q.target_per_replica:g}"
    assert so["spec"]["scaleTargetRef"]["name"] == hpa["spec"]["scaleTargetRef"]["name"] == f"{spec.name}-burst"


def test_the_pods_carry_no_prometheus_io_annotations():
    """A Prometheus that reads prometheus.io/* would scrape each pod a second time beside its PodMonitor."""
    for pod in _pods(VARIANTS["prod-keda-karpenter"]):
        assert not any(k.startswith("prometheus.io/") for k in pod["metadata"].get("annotations", {}))


def test_monitor_labels_follow_the_prometheus_selector():
    spec = edited(**{"eks.scrape": {"monitor_labels": {"prometheus": "main"}}})
    (mon,) = monitoring.objects(spec)
    assert mon["metadata"]["labels"]["prometheus"] == "main" and "release" not in mon["metadata"]["labels"]
    assert edited().eks.scrape.monitor_labels == DEFAULT_SELECTOR  # the documented default


def test_the_scrape_config_secret_lives_where_prometheus_reads_it():
    spec = edited(**{"eks.scrape": {"via": "scrape-config-secret", "secret_namespace": "observability"}})
    (secret,) = monitoring.objects(spec)
    assert (secret["kind"], secret["metadata"]["namespace"]) == ("Secret", "observability")
    assert not [o for o in monitoring.objects(spec) if o["kind"] == "PodMonitor"]


def test_a_renamed_metric_would_be_caught():
    spec = VARIANTS["prod-keda-karpenter"]
    assert _arrives(spec, "vllm:gpu_cache_usage_perc") == []  # the pre-0.10 name: hidden in the pinned image
    assert "vllm:gpu_cache_usage_perc" in FACTS["vllm v0.11.0"]["hidden_since_0_10"]
    assert len(_arrives(spec, "vllm:kv_cache_usage_perc")) == 2


def test_an_empty_metric_at_start_up_reads_zero_not_the_fallback():
    """While the servers load, vLLM exports nothing, but Prometheus already has their targets (up = 0). The old
    query was empty then: KEDA (ignoreNullValues: false) errored and held the fallback burst (3 replicas) until
    the metric appeared. Now it reads 0 → the burst minimum; with no target at all it still errors (→ fallback)."""
    spec = VARIANTS["prod-keda-karpenter"]
    so = autoscaling.scaled_object(spec)
    empty = {"queue_depth": None, "kv_cache": None}
    # the predictive floor's cron triggers hold the burst's share of the floor at noon, the queue nothing more
    floor = max(so["spec"]["minReplicaCount"], floor_in_force(spec, NOON) - spec.capacity.baseline.count)
    assert settled.replicas(so, NOON, empty, frozenset({"llama/llama-70b-eks"})) == floor
    with pytest.raises(settled.TriggerError):
        settled.replicas(so, NOON, empty, frozenset())  # no monitor selects the pods: an error, not idle
    assert settled.replicas(so, NOON, {"queue_depth": 12.0, "kv_cache": 0.2}) == max(3, floor)  # ceil(12 / 5)


def test_tgi_scales_on_tgi_queue_size_only():
    qs = autoscaling.scaling_queries(VARIANTS["tgi"])
    assert [q.series for q in qs] == ["tgi_queue_size"]


def _prom_value(promql: str, per_pod: list[float]) -> float:
    """Evaluate the only PromQL shapes we render: sum(series{…}) and clamp_min(sum(series{…}) - k, 0)."""
    total = sum(per_pod)
    m = re.fullmatch(r"clamp_min\(sum\([^)]*\) - ([0-9.e+-]+), 0\)", promql)
    if m:
        return max(total - float(m.group(1)), 0.0)
    assert re.fullmatch(r"sum\([^)]*\)", promql)
    return total


@given(
    baseline=st.integers(0, 8),
    target=st.sampled_from([1, 5, 30]),
    current_burst=st.integers(0, 10),
    queue=st.lists(st.integers(0, 200), min_size=1, max_size=20),
)
def test_burst_desired_is_total_desired_minus_baseline(baseline, target, current_burst, queue):
    """The shared HPA math (llama_infra.scaling.hpa, External metric + AverageValue) applied to the burst query
    gives the burst exactly the replicas a single autoscaler over the whole service would add above the baseline
    (tolerance 0; the 10 % band applies to the burst count instead of the total, see docs/eks.md)."""
    q = metrics.ScalingQuery("queue-depth", "vllm:num_requests_waiting", target, baseline, "llama", "x")
    value = _prom_value(q.promql, [float(v) for v in queue])
    burst = external_average_value_replicas(current_burst, value, target, tolerance=0.0)
    whole = external_average_value_replicas(baseline + current_burst, float(sum(queue)), target, tolerance=0.0)
    assert burst == max(whole - baseline, 0)


def test_hpa_and_keda_targets_are_the_per_replica_targets():
    spec = VARIANTS["prod-keda-karpenter"]
    so = autoscaling.scaled_object(spec)
    prometheus = [t for t in so["spec"]["triggers"] if t["type"] == "prometheus"]
    assert [t["metadata"]["threshold"] for t in prometheus] == ["5", "0.85"]
    assert all(t["metadata"]["ignoreNullValues"] == "false" for t in prometheus)
    assert so["spec"]["fallback"]["replicas"] == 3  # peak 20 rps / 4 per replica = 5 replicas − 2 baseline
    assert so["spec"]["pollingInterval"] == 15 and so["spec"]["cooldownPeriod"] == 300
    hpa = autoscaling.horizontal_pod_autoscaler(VARIANTS["hpa-prometheus-adapter"])
    assert [m["external"]["target"]["averageValue"] for m in hpa["spec"]["metrics"]] == ["5", "850m"]
    assert hpa["spec"]["minReplicas"] == 1 and hpa["spec"]["maxReplicas"] == 6
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert sorted(map(str, hpa["spec"]["behavior"]["scaleUp"]["policies"])) == sorted(
        map(
            str,
            [{"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}],
        )
    )


def test_the_server_port_the_monitor_names_is_the_one_the_container_exposes():
    spec = VARIANTS["prod-keda-karpenter"]
    (mon,) = monitoring.objects(spec)
    (endpoint,) = mon["spec"]["podMetricsEndpoints"]
    assert endpoint["port"] == server.PORT_NAME
    (c,) = _pods(spec)[0]["spec"]["containers"]
    assert {"name": server.PORT_NAME, "containerPort": server.PORT, "protocol": "TCP"} in c["ports"]


@pytest.mark.parametrize("variant,via", CASES)
def test_the_load_the_predictive_floor_follows_arrives_from_the_pod(variant, via):
    """`floor_load` (`floor_triggers.load_query`) reads the servers' finished-requests counter: the pinned image
    exports it (a prometheus_client Counter `vllm:request_success` is exposed with `_total`; TGI's metrics-rs counter
    keeps its name), and it reaches Prometheus from every serving pod with the labels the query selects."""
    from llama_infra.targets.kubernetes.floor_triggers import load_query

    spec = _variant(variant, via)
    series = metrics.server_metrics(spec.model.framework).requests_finished
    exported = series.removesuffix("_total") if spec.model.framework == "vllm" else series
    assert exported in EXPORTED[spec.model.framework]
    arrived = _arrives(spec, series)
    assert len(arrived) == len(_pods(spec)) >= 1
    query = load_query(spec)
    assert f"rate({series}{{" in query
    for labels_ in arrived:
        inner = query[query.index(series) :]
        assert _selector_labels(inner[: inner.index("}") + 1]).items() <= labels_.items()
