"""What KEDA and the HPA it owns settle on for a rendered ScaledObject at an instant, read from the manifest alone
with the library's KEDA and HPA model (`llama_infra.scaling`); the EKS tests read every rendered ScaledObject
through it.

- each trigger's scaler: a cron trigger's activity and value (`scaling.keda.cron_active`: `desiredReplicas` inside
  its window, else 1, against a target of 1); a Prometheus trigger's the query's value, active above its
  `activationThreshold`, an empty result 0 with `ignoreNullValues: "true"` and a `TriggerError` otherwise (KEDA
  counts a failure; past `failureThreshold` the HPA gets the fallback);
- with `scalingModifiers`: the formula over the values (`expr_lang`), active above `activationTarget`, one metric
  with the modifiers' target; without: each trigger is a metric with its threshold, active when one trigger is;
- the HPA's count for a metric is ceil(value / target) (`scaling.hpa.raw_desired_replicas` without tolerance), the
  largest metric's wins, and `KedaPolicy.settled_replicas` applies KEDA's and the HPA's bounds.

Stabilization windows, rate limits, the tolerance band and cooldowns are left out: this is the count the controllers
converge to under a steady metric (`scaling.keda.KedaController` runs them step by step).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from llama_infra.scaling.hpa import raw_desired_replicas
from llama_infra.scaling.keda import KedaPolicy, cron_active
from llama_infra.targets.kubernetes.expr_lang import evaluate

CRON_TARGET = 1.0  # the cron scaler's AverageValue target: its value is the replica count it asks for


class TriggerError(Exception):
    """A trigger's scaler failed: a Prometheus query with an empty result and `ignoreNullValues` not "true"."""


@dataclass(frozen=True)
class TriggerReading:
    """What one trigger's scaler reports: its value and whether it counts as active."""

    value: float
    active: bool


def read_trigger(trigger: Mapping, at: datetime, query_value: float | None) -> TriggerReading:
    """`query_value`: what the Prometheus query returns (None: an empty result); cron triggers read the clock."""
    meta = trigger["metadata"]
    if trigger["type"] == "cron":
        on = cron_active(meta, at)
        return TriggerReading(float(meta["desiredReplicas"]) if on else 1.0, on)
    if query_value is None:
        if meta.get("ignoreNullValues") != "true":
            raise TriggerError(f"{trigger['name']}: empty result")
        query_value = 0.0
    return TriggerReading(float(query_value), query_value > float(meta.get("activationThreshold", "0")))


def _hpa_count(value: float, target: float) -> int:
    """The HPA's count for one AverageValue metric at its fixed point: ceil(value / target) (one pod's average is the
    whole value; no tolerance, which only keeps a count it already has)."""
    return raw_desired_replicas(1, value, target, tolerance=0.0)


def replicas_from(body: Mapping, readings: Mapping[str, TriggerReading]) -> int:
    """A ScaledObject `spec`'s settled count, given each trigger's reading (by trigger name)."""
    policy = KedaPolicy.from_scaled_object(dict(body))
    mods = body.get("advanced", {}).get("scalingModifiers")
    if mods:
        composite = evaluate(mods["formula"], {name: r.value for name, r in readings.items()})
        wanted = _hpa_count(composite, float(mods["target"]))
        return policy.settled_replicas(wanted, composite > policy.activation_threshold)
    wanted, active = 0, False
    for t in body["triggers"]:
        r = readings[t["name"]]
        target = CRON_TARGET if t["type"] == "cron" else float(t["metadata"]["threshold"])
        wanted, active = max(wanted, _hpa_count(r.value, target)), active or r.active
    return policy.settled_replicas(wanted, active)


def settled_replicas(scaled_object: Mapping, at: datetime, query_values: Mapping[str, float | None]) -> int:
    """A rendered ScaledObject's settled count at `at`, given what each Prometheus trigger's query returns (by
    trigger name; absent or None: an empty result)."""
    body = scaled_object["spec"]
    readings = {t["name"]: read_trigger(t, at, query_values.get(t["name"])) for t in body["triggers"]}
    return replicas_from(body, readings)
