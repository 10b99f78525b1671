"""A rendered ScaledObject read through the library's KEDA model (`targets/kubernetes/keda_steady_state.py`): the
cron scaler's window, activation, the HPA's count per metric, KEDA's bounds, and empty query results."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from llama_infra.scaling.keda import cron_active
from llama_infra.targets.kubernetes.keda_steady_state import TriggerError, settled_replicas

NIGHT = {"timezone": "America/New_York", "start": "0 22 * * *", "end": "0 6 * * *", "desiredReplicas": "3"}


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, 7, hour, minute, tzinfo=UTC)  # a Wednesday; New York is UTC-5 in January


@pytest.mark.parametrize(
    ("when", "active"),
    [(at(2, 59), False), (at(3, 0), True), (at(3, 1), True), (at(10, 59), True), (at(11, 0), False), (at(17), False)],
)
def test_a_cron_trigger_is_active_from_its_start_to_its_end_in_its_timezone(when, active):
    assert cron_active(NIGHT, when) is active


def scaled_object(triggers: list[dict], lo: int = 0, hi: int = 10, formula: str | None = None) -> dict:
    spec: dict = {"minReplicaCount": lo, "maxReplicaCount": hi, "triggers": triggers}
    if formula:
        spec["advanced"] = {"scalingModifiers": {"formula": formula, "target": "5", "activationTarget": "0"}}
    return {"spec": spec}


QUEUE = {"type": "prometheus", "name": "queue_depth", "metadata": {"query": "q", "threshold": "5"}}
FLOOR = {"type": "cron", "name": "floor", "metadata": NIGHT}


@pytest.mark.parametrize(
    ("queue", "when", "replicas"),
    [
        (0.0, at(17), 0),  # nothing active: minReplicaCount
        (12.0, at(17), 3),  # ceil(12 / 5)
        (0.0, at(4), 3),  # the cron floor alone
        (21.0, at(4), 5),  # the queue above the floor
        (500.0, at(17), 10),  # maxReplicaCount
    ],
)
def test_without_a_formula_the_largest_metric_wins_within_keda_bounds(queue, when, replicas):
    assert settled_replicas(scaled_object([QUEUE, FLOOR]), when, {"queue_depth": queue}) == replicas


def test_with_a_formula_the_composite_decides_activation_and_count():
    so = scaled_object([QUEUE, FLOOR], lo=0, formula="max(queue_depth, (floor - 1) * 5)")
    assert settled_replicas(so, at(17), {"queue_depth": 0.0}) == 0  # composite 0: inactive
    assert settled_replicas(so, at(4), {"queue_depth": 0.0}) == 2  # (3 - 1) * 5 / 5
    assert settled_replicas(so, at(17), {"queue_depth": 26.0}) == 6


def test_an_empty_result_is_an_error_unless_null_values_are_ignored():
    with pytest.raises(TriggerError, match="queue_depth: empty result"):
        settled_replicas(scaled_object([QUEUE], lo=1), at(17), {"queue_depth": None})
    ignoring = {**QUEUE, "metadata": {**QUEUE["metadata"], "ignoreNullValues": "true"}}
    assert settled_replicas(scaled_object([ignoring], lo=1), at(17), {}) == 1
