"""The queue metric is named once (llama_infra.metrics) and the scrape config, the prometheus-adapter rule and the
HPA / ScaledObject all agree on it — a mismatch anywhere would silently disable scaling."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llama_infra import metrics
from llama_infra.kube import addons, autoscaling, labels, server
from llama_infra.scaling.hpa import external_average_value_replicas

from .specs import variants

VARIANTS = variants()


def _relabel(scrape: dict, pod_labels: dict[str, str], port_name: str, namespace: str) -> dict[str, str] | None:
    """Apply the scrape config's relabel_configs to a pod target as Prometheus would (the subset we use)."""
    meta = {f"__meta_kubernetes_pod_label_{re.sub(r'[^a-zA-Z0-9_]', '_', k)}": v for k, v in pod_labels.items()}
    meta["__meta_kubernetes_pod_container_port_name"] = port_name
    meta["__meta_kubernetes_namespace"] = namespace
    meta["__meta_kubernetes_pod_name"] = "pod-0"
    out: dict[str, str] = {}
    for rule in scrape["relabel_configs"]:
        if rule.get("action") == "keep":
            value = ";".join(meta.get(s, "") for s in rule["source_labels"])
            if not re.fullmatch(rule["regex"], value):
                return None
        elif rule.get("action") == "labelmap":
            for k, v in meta.items():
                m = re.fullmatch(rule["regex"], k)
                if m:
                    out[m.group(1)] = v
        else:
            out[rule["target_label"]] = ";".join(meta.get(s, "") for s in rule["source_labels"])
    return out


def _kept(scrape: dict, series: str) -> bool:
    (rule,) = scrape["metric_relabel_configs"]
    return re.fullmatch(rule["regex"], series) is not None


def _selector_labels(promql: str) -> dict[str, str]:
    return dict(re.findall(r'(\w+)="([^"]*)"', promql))


@pytest.mark.parametrize("variant", ["prod-keda-karpenter", "hpa-prometheus-adapter", "tgi"])
def test_scrape_config_adapter_rule_and_autoscaler_agree(variant):
    spec = VARIANTS[variant]
    ns = spec.eks.namespace
    scrape = json.loads(autoscaling.scrape_config_map(spec)["data"]["scrape-configs.yaml"])[0]
    assert scrape == autoscaling.scrape_config(spec)
    queries = autoscaling.scaling_queries(spec)
    assert queries[0].series == metrics.server_metrics(spec.model.framework).queue_depth

    for tier in ("baseline", "burst"):  # both tiers' pods are scraped and carry the label the queries select on
        target = _relabel(scrape, labels.pod_labels(spec.name, tier), server.PORT_NAME, ns)
        assert target is not None
        for q in queries:
            assert _selector_labels(q.promql).items() <= target.items()
    assert _relabel(scrape, labels.pod_labels("someone-else", "burst"), "http", ns) is None

    # the adapter's Helm values when we install it, else the rules we hand to a preinstalled adapter
    external = (addons.values(spec, "prometheus-adapter")["rules"]["external"] if spec.eks.addons.prometheus_adapter
                else autoscaling.adapter_external_rules(spec))
    rules = {r["name"]["as"]: r for r in external}
    so = autoscaling.scaled_object(spec)
    hpa = autoscaling.horizontal_pod_autoscaler(spec)
    so_queries = {t["name"]: t["metadata"]["query"] for t in so["spec"]["triggers"]}
    hpa_metrics = [m["external"]["metric"]["name"] for m in hpa["spec"]["metrics"]]
    assert hpa_metrics == list(rules)
    for q in queries:
        assert _kept(scrape, q.series), f"{q.series} is dropped by the scrape keep-list"
        rule = rules[q.external_metric_name]
        assert rule["seriesQuery"].startswith(q.series + "{")
        assert re.fullmatch(rule["name"]["matches"], q.series)
        assert rule["metricsQuery"] == q.promql == so_queries[q.trigger_name]
        assert q.series in q.promql


def test_a_renamed_metric_would_be_caught():
    spec = VARIANTS["prod-keda-karpenter"]
    scrape = autoscaling.scrape_config(spec)
    assert not _kept(scrape, "vllm:gpu_cache_usage_perc")  # the pre-0.10 name is not what the pinned image exports
    assert _kept(scrape, "vllm:kv_cache_usage_perc")


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


@given(baseline=st.integers(0, 8), target=st.sampled_from([1, 5, 30]), current_burst=st.integers(0, 10),
       queue=st.lists(st.integers(0, 200), min_size=1, max_size=20))
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
    assert [t["metadata"]["threshold"] for t in so["spec"]["triggers"]] == ["5", "0.85"]
    assert all(t["metadata"]["ignoreNullValues"] == "false" for t in so["spec"]["triggers"])
    assert so["spec"]["fallback"]["replicas"] == 3  # peak 20 rps / 4 per replica = 5 replicas − 2 baseline
    assert so["spec"]["pollingInterval"] == 15 and so["spec"]["cooldownPeriod"] == 300
    hpa = autoscaling.horizontal_pod_autoscaler(VARIANTS["hpa-prometheus-adapter"])
    assert [m["external"]["target"]["averageValue"] for m in hpa["spec"]["metrics"]] == ["5", "850m"]
    assert hpa["spec"]["minReplicas"] == 1 and hpa["spec"]["maxReplicas"] == 6
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert sorted(map(str, hpa["spec"]["behavior"]["scaleUp"]["policies"])) == sorted(map(str, [
        {"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]))
