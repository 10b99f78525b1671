"""What KEDA + the HPA settle on for a rendered ScaledObject at an instant, read from the manifest alone.

- cron trigger: KEDA's cron scaler is active when the next end comes no later than the next start, and reports
  desiredReplicas while active and 1 otherwise (`pkg/scalers/cron_scaler.go`); croniter evaluates the crons in the
  trigger's timezone;
- prometheus trigger: the query's value, given by the test per trigger name (`None` = the query's own series are
  absent: 0 when the query ends in `or on() (0 * max(up{namespace="N",app_kubernetes_io_instance=~"A|B"}))` and
  Prometheus has a target of one of those services ("N/A" in `scraped`), else an empty result: 0 with
  `ignoreNullValues: "true"`, an error otherwise);
- without `scalingModifiers`: each trigger asks ceil(value / threshold) replicas (AverageValue), the largest wins,
  active when some trigger's value is above its activation threshold (cron: inside its window);
- with `scalingModifiers`: the formula over the raw values (`expr_lang`), active when above `activationTarget`,
  replicas = ceil(composite / target);
- inactive → minReplicaCount; active → clamped to [max(minReplicaCount, 1), maxReplicaCount].
Stabilization windows and cooldowns are left out: this is the steady state the controllers converge to.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from croniter import croniter

from llama_infra.schedules import zone
from llama_infra.targets.kubernetes.expr_lang import evaluate


class TriggerError(Exception):
    pass


def cron_active(trigger: dict, at: datetime) -> bool:
    meta = trigger["metadata"]
    local = at.astimezone(zone(meta["timezone"]))
    next_start = croniter(meta["start"], local).get_next(datetime)
    next_end = croniter(meta["end"], local).get_next(datetime)
    return next_end <= next_start


_OR_ZERO_WHILE_UP = re.compile(
    r'\) or on\(\) \(0 \* max\(up\{namespace="([^"]+)",app_kubernetes_io_instance=~"([^"]+)"\}\)\)$'
)


def trigger_value(trigger: dict, at: datetime, values: dict[str, float | None], scraped: frozenset[str]) -> float:
    if trigger["type"] == "cron":
        return float(trigger["metadata"]["desiredReplicas"]) if cron_active(trigger, at) else 1.0
    value = values.get(trigger["name"])
    if value is None:
        m = _OR_ZERO_WHILE_UP.search(trigger["metadata"]["query"])
        if m and any(f"{m.group(1)}/{instance}" in scraped for instance in m.group(2).split("|")):
            return 0.0
        if trigger["metadata"].get("ignoreNullValues") == "true":
            return 0.0
        raise TriggerError(f"{trigger['name']}: empty result")
    return float(value)


def replicas(so: dict, at: datetime, values: dict[str, float | None], scraped: frozenset[str] = frozenset()) -> int:
    """`scraped`: the services ("namespace/instance") Prometheus has targets for (their `up` series exist)."""
    spec = so["spec"]
    lo, hi = spec.get("minReplicaCount", 0), spec["maxReplicaCount"]
    raw = {t["name"]: trigger_value(t, at, values, scraped) for t in spec["triggers"]}
    if spec.get("advanced", {}).get("scalingModifiers"):
        return formula_replicas(spec, raw)
    asks, active = [], False
    for t in spec["triggers"]:
        v = raw[t["name"]]
        if t["type"] == "cron":
            on = cron_active(t, at)
            active |= on
            asks.append(int(v) if on else 0)
        else:
            active |= v > float(t["metadata"].get("activationThreshold", "0"))
            asks.append(math.ceil(round(v / float(t["metadata"]["threshold"]), 9)))
    wanted = max(asks)
    if not active:
        return lo
    return min(max(wanted, lo, 1), hi)


def formula_replicas(spec: dict, raw: dict[str, float]) -> int:
    """A `scalingModifiers` ScaledObject's `spec`, given each trigger's raw value: the formula, activation above
    `activationTarget`, replicas = ceil(composite / target), clamped."""
    mods = spec["advanced"]["scalingModifiers"]
    lo, hi = spec.get("minReplicaCount", 0), spec["maxReplicaCount"]
    composite = evaluate(mods["formula"], raw)
    if composite <= float(mods.get("activationTarget", "0")):
        return lo
    return min(max(math.ceil(round(composite / float(mods["target"]), 9)), lo, 1), hi)
