"""What Prometheus answers the rendered trigger queries with, for the tests that read ScaledObjects through the
library's KEDA model (`llama_infra.targets.kubernetes.keda_steady_state`).

A test gives each Prometheus trigger's value by trigger name; `None` means the query's own series are absent. Then
a query ending in `or on() (0 * max(up{namespace="N",app_kubernetes_io_instance=~"A|B"}))` returns 0 when
Prometheus has a target of one of those services ("N/A" in `scraped`), and an empty result (None) otherwise; a count
ending in `or on() vector(0)` returns 0; a `min_over_time((Q)[…])` subquery returns what Q returns (a steady metric).
"""

from __future__ import annotations

import re
from datetime import datetime

from llama_infra.targets.kubernetes.keda_steady_state import TriggerError, settled_replicas

__all__ = ["TriggerError", "deployments", "query_values", "replicas"]

_HELD = re.compile(r"min_over_time\(\((.*)\)\[\d+s:\d+s\]\)")
_OR_ZERO_WHILE_UP = re.compile(
    r'\) or on\(\) \(0 \* max\(up\{namespace="([^"]+)",app_kubernetes_io_instance=~"([^"]+)"\}\)\)$'
)


def query_values(so: dict, values: dict[str, float | None], scraped: frozenset[str]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    prometheus = [t for t in so["spec"]["triggers"] if t["type"] == "prometheus"]
    for t in prometheus:
        value = values.get(t["name"])
        if value is None:
            m = _OR_ZERO_WHILE_UP.search(t["metadata"]["query"])
            if m and any(f"{m.group(1)}/{instance}" in scraped for instance in m.group(2).split("|")):
                value = 0.0
            elif t["metadata"]["query"].endswith(" or on() vector(0)"):
                value = 0.0  # a count of series with no series
        out[t["name"]] = value
    for t in prometheus:
        held = _HELD.fullmatch(t["metadata"]["query"])
        if held and t["name"] not in values:
            # under a steady metric its least value over any window is the metric itself
            (inner,) = [o["name"] for o in prometheus if o["metadata"]["query"] == held.group(1)]
            out[t["name"]] = out[inner]
    return out


def replicas(so: dict, at: datetime, values: dict[str, float | None], scraped: frozenset[str] = frozenset()) -> int:
    """The ScaledObject's settled count at `at` (the library's model), given the trigger values as above."""
    return settled_replicas(so, at, query_values(so, values, scraped))


def deployments(spec, at: datetime, values: dict[str, float | None], scraped: frozenset[str]) -> dict[str, int]:
    """Replicas per serving Deployment of `spec` at `at`: from its ScaledObject (the floor's load as forecast unless
    `values` gives one, `specs.as_forecast`), or its fixed count."""
    from llama_infra.targets.eks.manifests import all_objects

    from .specs import as_forecast

    objs = all_objects(spec)
    out = {
        o["metadata"]["name"]: o["spec"]["replicas"]
        for o in objs
        if o["kind"] == "Deployment" and o["metadata"]["labels"].get("app.kubernetes.io/instance") == spec.name
    }
    for so in (o for o in objs if o["kind"] == "ScaledObject"):
        out[so["spec"]["scaleTargetRef"]["name"]] = replicas(so, at, as_forecast(spec, at, values), scraped)
    return out
