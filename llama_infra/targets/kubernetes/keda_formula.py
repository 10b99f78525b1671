"""KEDA `scalingModifiers` formulas, in replica units.

With `spec.advanced.scalingModifiers` KEDA evaluates one expr-lang expression over the raw values of the named
triggers and hands the HPA a single `composite-metric` instead of one metric per trigger; activation (0 ↔ 1) becomes
"composite > activationTarget". Every formula here is written in replicas: a Prometheus trigger's raw value divided
by its per-replica target is what the HPA would compute for it alone (`AverageValue`: ceil(value / target)), so with
`target: "1"` the HPA's ceil(composite / 1) is the wanted replica count and `max(...)` reproduces the HPA's "largest
recommendation wins" across triggers.

Window gates are cron triggers with `desiredReplicas: GATE_DESIRED`: KEDA's cron scaler reports desiredReplicas
inside its window and 1 outside it (`pkg/scalers/cron_scaler.go`), so `gate > 1` reads "inside the window".

Only the expr-lang subset below is produced: numbers, trigger names, `+ - /`, `>`, `? :` and `max()`/`min()`
(expr-lang built-ins); `expr_lang` parses and evaluates exactly that subset.
"""

from __future__ import annotations

GATE_DESIRED = 2
TARGET = "1"
ACTIVATION_TARGET = "0"


def num(x: float) -> str:
    return f"{x:g}"


def identifier(name: str) -> str:
    """A trigger name usable as a formula variable (schedule names may contain '-')."""
    return name.replace("-", "_")


WINDOW_GATE_PREFIX = "window_"  # the day Deployments' view of a window
NIGHT_GATE_PREFIX = "night_"  # a night variant's view of its window


def window_gate(schedule_name: str) -> str:
    """The gate trigger of a window as the day Deployments see it (start → end − the day's lead)."""
    return identifier(WINDOW_GATE_PREFIX + schedule_name)


def night_gate(schedule_name: str) -> str:
    """The gate trigger of a window as its night Deployment sees it (start − the night's lead → end)."""
    return identifier(NIGHT_GATE_PREFIX + schedule_name)


def gate_window(trigger_name: str) -> str | None:
    """The window (schedule name as an identifier) a gate trigger belongs to; None for other triggers."""
    for prefix in (WINDOW_GATE_PREFIX, NIGHT_GATE_PREFIX):
        if trigger_name.startswith(prefix):
            return trigger_name[len(prefix) :]
    return None


def inside(gate: str) -> str:
    return f"{gate} > 1"


def largest(*terms: str) -> str:
    return terms[0] if len(terms) == 1 else f"max({', '.join(terms)})"


def smallest(*terms: str) -> str:
    return terms[0] if len(terms) == 1 else f"min({', '.join(terms)})"


def per_replica(trigger: str, target: float) -> str:
    return f"{trigger} / {num(target)}"


def minus(term: str, n: int) -> str:
    return term if n == 0 else f"{term} - {num(n)}"


def by_window(cases: list[tuple[str, str]], otherwise: str) -> str:
    """`(g1 > 1 ? v1 : (g2 > 1 ? v2 : otherwise))`: windows never overlap (a spec rule), so at most one gate is open."""
    out = otherwise
    for gate, value in reversed(cases):
        out = f"({inside(gate)} ? {value} : {out})"
    return out


def modifiers(formula: str) -> dict:
    """The ScaledObject's `advanced.scalingModifiers`."""
    return {"formula": formula, "target": TARGET, "activationTarget": ACTIVATION_TARGET, "metricType": "AverageValue"}
