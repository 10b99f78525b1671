"""The EKS components render what the plan and the simulator assume: each configuration's KEDA thresholds from
`slo_targets.effective_targets` (stated wins, else derived from its SLO envelope), and the predictive floor
(`slo_targets.predictive_floor`) as KEDA cron triggers — read back through the library's KEDA model
(`keda_steady_state`) at every weekday hour, at the weekend and across daylight saving, and registered through the
strict recorder against the pinned KEDA CRD."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from llama_infra.capacity_plan import plan_timezone
from llama_infra.plan.record import run_plan
from llama_infra.scaling.floor_schedule import floor_schedule
from llama_infra.schedules import zone
from llama_infra.slo_targets import effective_targets
from llama_infra.spec import DeploymentSpec
from llama_infra.targets.eks.components import build_eks
from llama_infra.targets.eks.manifests import all_objects
from llama_infra.targets.kubernetes import keda_formula as f
from llama_infra.targets.kubernetes.autoscaling import scaled_object
from llama_infra.targets.kubernetes.floor_triggers import FLOOR_OFFSET, burst_floor_triggers, floor_term

from . import settled
from .specs import ROUTER_IMAGE, edited, floor_in_force, forecast_in_force, is_gate, prod_doc
from .validation import validate

NIGHT_MODEL = {"id": "meta-llama/Llama-3.1-8B-Instruct", "params_b": 8, "precision": "bf16"}
OTHER_MODEL = {
    "name": "overnight",
    "timezone": "America/New_York",
    "start": "0 23 * * *",
    "end": "0 6 * * *",
    "downsize": {"instance_type": "g6e.2xlarge", "model_override": NIGHT_MODEL, "min_replicas": 1, "max_replicas": 3},
}
BOUNDS_ONLY = {**OTHER_MODEL, "downsize": {"min_replicas": 1, "max_replicas": 4}}
IDLE = {"queue_depth": 0.0, "kv_cache": 0.0}


def unstated(**changes) -> DeploymentSpec:
    """The prod example (no window) without `scaling.queue_depth_target` and `gpu_memory_target`: derived ones apply."""
    doc = prod_doc()
    doc["eks"].setdefault("router_image", ROUTER_IMAGE)
    for key in ("queue_depth_target", "gpu_memory_target"):
        doc["scaling"].pop(key, None)
    doc.pop("schedules", None)
    doc.update(changes)
    return DeploymentSpec.model_validate(doc)


def scaled_objects(spec) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in all_objects(spec) if o["kind"] == "ScaledObject"}


def test_a_spec_that_states_no_targets_renders_each_configurations_derived_ones():
    spec = unstated(schedules=[OTHER_MODEL])
    targets = effective_targets(spec)
    day, night = targets[None], targets["overnight"]
    assert day.queue_depth_target_source == night.queue_depth_target_source == "derived"
    assert day.queue_depth_target != night.queue_depth_target  # 70B on 4×L40S by day, 8B on one L40S at night
    sos = scaled_objects(spec)
    burst = sos["llama-70b-eks-burst"]["spec"]["advanced"]["scalingModifiers"]["formula"]
    night_formula = sos["llama-70b-eks-overnight"]["spec"]["advanced"]["scalingModifiers"]["formula"]
    assert f.per_replica("queue_depth", day.queue_depth_target) in burst
    assert f.per_replica("queue_depth", night.queue_depth_target) in night_formula
    assert f.per_replica("queue_depth", day.queue_depth_target) not in night_formula
    # the KV-cache trigger exists where a configuration has a KV-cache target, divided by its own
    for formula, t in ((burst, day), (night_formula, night)):
        assert (t.kv_cache_target is not None) == ("kv_cache /" in formula)
        if t.kv_cache_target is not None:
            assert f.per_replica("kv_cache", t.kv_cache_target) in formula


def test_without_windows_the_burst_triggers_carry_the_derived_thresholds_and_the_baseline_offset():
    spec = unstated()
    day = effective_targets(spec)[None]
    assert day.queue_depth_target_source == "derived" and day.queue_depth_target != 5  # the field's default
    so = scaled_object(spec)["spec"]
    (queue,) = [t for t in so["triggers"] if t["name"] == "queue_depth"]
    assert queue["metadata"]["threshold"] == f"{day.queue_depth_target:g}"
    b = spec.capacity.baseline.count
    assert f" - {b * day.queue_depth_target:g}, 0)" in queue["metadata"]["query"]  # clamp_min(total − B·t, 0)


def test_stated_targets_win_in_every_configuration():
    spec = edited(schedules=[OTHER_MODEL])  # states queue_depth_target 5 and gpu_memory_target 0.85
    assert {t.queue_depth_target_source for t in effective_targets(spec).values()} == {"spec"}
    for so in scaled_objects(spec).values():
        mods = so["spec"]["advanced"].get("scalingModifiers")
        if mods and "queue_depth" in mods["formula"]:
            assert f.per_replica("queue_depth", 5) in mods["formula"]
            assert f.per_replica("kv_cache", 0.85) in mods["formula"]


@pytest.mark.parametrize("schedules", [[], [BOUNDS_ONLY], [OTHER_MODEL]], ids=["no-window", "bounds", "model"])
def test_the_floor_is_one_cron_trigger_per_step_monday_to_friday_in_the_plan_timezone(schedules):
    spec = edited(schedules=schedules)
    sched = floor_schedule(spec)
    assert sched is not None and sched.timezone == plan_timezone(spec)
    floors = [t for so in scaled_objects(spec).values() for t in so["spec"]["triggers"] if t["name"] in _names(sched)]
    assert floors, "no floor trigger rendered"
    b = spec.capacity.baseline.count
    by_label = {s.label: s for s in sched.steps}
    for t in floors:
        step = by_label[t["name"].removeprefix("floor_").replace("_", "-")]
        assert t["type"] == "cron" and t["metadata"]["timezone"] == sched.timezone
        assert t["metadata"]["start"] == f"0 {step.start_hour} * * 1-5"
        assert t["metadata"]["end"] == (f"0 {step.end_hour} * * 1-5" if step.end_hour < 24 else "0 0 * * 2-6")
        # plain triggers count burst replicas; in a formula the floor + 1 (an inactive cron trigger reports 1)
        want = step.min_replicas - b if not schedules else step.min_replicas + FLOOR_OFFSET
        assert t["metadata"]["desiredReplicas"] == str(want)
    for obj in all_objects(spec):
        validate(obj, spec.eks.kubernetes_version)


def _names(sched) -> set[str]:
    return {f.identifier(f"floor_{s.label}") for s in sched.steps}


def _service_replicas(spec, at: datetime, values: dict) -> int:
    return sum(settled.deployments(spec, at, values, frozenset()).values())


def _window_edges_near(spec, local: datetime) -> bool:
    """Within two hours of a window's start or end: the gates' cold-start leads make both variants run there."""
    return any(
        min(abs(local.hour - h), 24 - abs(local.hour - h)) <= 1
        for s in spec.schedules
        for h in (int(s.start.split()[1]), int(s.end.split()[1]))
    )


@pytest.mark.parametrize("schedules", [[], [BOUNDS_ONLY], [OTHER_MODEL]], ids=["no-window", "bounds", "model"])
@pytest.mark.parametrize("week", [datetime(2026, 1, 12), datetime(2026, 7, 13)], ids=["winter", "summer"])
def test_an_idle_service_holds_the_floor_at_every_weekday_hour_and_its_minimum_at_the_weekend(schedules, week):
    """KEDA's rules over the rendered objects (the max over triggers, the cron scaler's active interval, the formula
    with its floor term), at half past every local hour of a Monday–Sunday week in winter and in summer time."""
    from llama_infra.capacity_plan import day_config, window_config

    spec = edited(schedules=schedules)
    tz = zone(plan_timezone(spec))
    raised = 0
    for day in range(7):
        for hour in range(24):
            local = (week + timedelta(days=day)).replace(hour=hour, minute=30, tzinfo=tz)
            if schedules and _window_edges_near(spec, local):
                continue
            at = local.astimezone(UTC)
            in_window = bool(schedules) and (hour >= 23 or hour < 6)
            cfg = window_config(spec, spec.schedules[0]) if in_window else day_config(spec)
            floor = floor_in_force(spec, at)
            assert (floor == 0) == (day >= 5), local  # weekdays only
            want = min(max(cfg.min_replicas, floor), cfg.max_replicas)
            assert _service_replicas(spec, at, IDLE) == want, (local, floor, cfg.min_replicas)
            raised += floor > cfg.min_replicas
    assert raised >= 5  # the floor does raise the service above its minimum on weekdays


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
def test_the_floor_triggers_pass_the_strict_recorder_against_the_pinned_keda_crd(preview):
    spec = edited(schedules=[OTHER_MODEL])
    recorded = run_plan(lambda: build_eks("n", spec), project="llama-infra", stack="test", preview=preview)
    sent = [
        r.inputs
        for r in recorded.resources
        if r.type.startswith("kubernetes:") and r.inputs.get("kind") == "ScaledObject"
    ]
    floors = {t["name"] for so in sent for t in so["spec"]["triggers"] if t["type"] == "cron" and not is_gate(t)}
    hourly = floor_schedule(spec, follows_load=True)
    forecasts = {f.identifier(f"forecast_{h.label}") for h in hourly.steps}  # the floor follows the load (windows)
    assert floors == _names(floor_schedule(spec)) | forecasts
    load = [t for so in sent for t in so["spec"]["triggers"] if t["name"] == "floor_load"]
    assert load and all("rate(vllm:request_success_total{" in t["metadata"]["query"] for t in load)
    term = floor_term(spec)
    formulas = [so["spec"]["advanced"].get("scalingModifiers", {}).get("formula", "") for so in sent]
    serving = [x for x in formulas if "queue_depth" in x]  # the burst's and the night Deployment's
    assert term is not None and len(serving) == 2 and all(term in x for x in serving)


def test_an_hpa_renders_no_floor_and_a_spec_without_load_none():
    hpa = edited(
        **{
            "scaling.autoscaler": "hpa",
            "scaling.min_replicas": 3,
            "eks.addons": {"keda": False, "prometheus_adapter": True},
        }
    )
    assert burst_floor_triggers(hpa) == [] and floor_term(hpa) is None
    no_load = prod_doc()
    no_load.pop("load")
    no_load.pop("schedules", None)
    spec = DeploymentSpec.model_validate(no_load)
    assert burst_floor_triggers(spec) == [] and floor_term(spec) is None


@pytest.mark.parametrize("week", [datetime(2026, 1, 12), datetime(2026, 7, 13)], ids=["winter", "summer"])
def test_with_windows_the_floor_follows_the_load_against_the_hours_forecast(week):
    """The formula's floor term, read through the library's KEDA model: on a weekday hour whose floor rises above the
    minimum, the service holds the scheduled floor while the load runs as forecast, the load-following rule's floor
    at half the forecast (`scaling.floor_follow.following_floor`), and its minimum when no request arrives."""
    from llama_infra.capacity_plan import day_config
    from llama_infra.scaling.floor_follow import following_floor

    spec = edited(schedules=[BOUNDS_ONLY])
    tz = zone(plan_timezone(spec))
    lo = day_config(spec).min_replicas
    checked = 0
    for hour in range(8, 20):
        at = week.replace(hour=hour, minute=30, tzinfo=tz).astimezone(UTC)
        floor, forecast = floor_in_force(spec, at), forecast_in_force(spec, at)
        if floor <= lo + 1 or _window_edges_near(spec, week.replace(hour=hour, tzinfo=tz)):
            continue
        assert forecast > 0
        assert _service_replicas(spec, at, IDLE | {"floor_load": forecast}) == floor
        half = following_floor(floor, forecast / 2, forecast)
        assert lo < half < floor
        assert _service_replicas(spec, at, IDLE | {"floor_load": forecast / 2}) == half
        assert _service_replicas(spec, at, IDLE | {"floor_load": 0.0}) == lo
        assert _service_replicas(spec, at, IDLE | {"floor_load": 3 * forecast}) == floor  # never above it
        checked += 1
    assert checked >= 2


def test_without_windows_the_floor_is_plain_cron_triggers_that_do_not_follow_the_load():
    from llama_infra import targets

    spec = edited(schedules=[])
    assert targets.get("eks").floor_follow_period_s(spec) is None
    assert targets.get("eks").floor_follow_period_s(edited(schedules=[BOUNDS_ONLY])) == float(
        spec.scaling.polling_interval_seconds
    )
    names = {t["name"] for t in scaled_object(spec)["spec"]["triggers"]}
    assert "floor_load" not in names and not any(n.startswith("forecast_") for n in names)
