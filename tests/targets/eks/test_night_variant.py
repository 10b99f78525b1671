"""Given an EKS spec whose schedule swaps the model and GPU overnight, a night Deployment runs beside the day one,
switched by KEDA cron triggers in the schedule's timezone with the cold-start lead, so that (modelled with KEDA's
cron-scaler rule over croniter, across both daylight-saving changes) some variant is always Ready."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from llama_infra.capacity_plan import day_config
from llama_infra.plan.record import Recording, run_plan
from llama_infra.scaling.keda import cron_active
from llama_infra.schedules import Cron, zone
from llama_infra.targets.eks import karpenter
from llama_infra.targets.eks.components import build_eks
from llama_infra.targets.eks.manifests import all_objects
from llama_infra.targets.kubernetes import labels, workload
from llama_infra.targets.kubernetes import window_scaling as night_scaling
from llama_infra.targets.kubernetes import window_variants as night
from llama_infra.targets.kubernetes.floor_triggers import floor_term

from . import settled
from .specs import as_forecast, edited, is_gate
from .validation import validate

NIGHT_MODEL = {"id": "meta-llama/Llama-3.1-8B-Instruct", "params_b": 8, "precision": "bf16"}


def run(program, preview: bool) -> Recording:
    """`program` under the library's recorder, as `llama-infra plan` runs it (strict: every registration is held
    against the cloud contracts, and a violation fails the run with all of them)."""
    return run_plan(program, project="llama-infra", stack="test", preview=preview)


def night_spec(tz: str = "America/New_York", start: str = "0 22 * * 1-5", end: str = "0 6 * * 2-6", **downsize):
    return edited(
        schedules=[
            {
                "name": "night",
                "timezone": tz,
                "start": start,
                "end": end,
                "downsize": {
                    "instance_type": "g6e.2xlarge",
                    "model_override": NIGHT_MODEL,
                    "min_replicas": 1,
                    "max_replicas": 3,
                    **downsize,
                },
            }
        ]
    )


def scaled_objects(spec) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in all_objects(spec) if o["kind"] == "ScaledObject"}


def test_every_object_validates_including_the_schedule_scaled_objects():
    spec = night_spec()
    objs = all_objects(spec)
    for obj in objs:
        validate(obj, spec.eks.kubernetes_version)
    assert {"llama-70b-eks-burst", "llama-70b-eks-night", "llama-70b-eks-baseline"} == set(scaled_objects(spec))


def test_no_night_variant_when_the_window_changes_only_replica_counts():
    spec = edited(
        schedules=[
            {
                "name": "quiet",
                "timezone": "UTC",
                "start": "0 1 * * *",
                "end": "0 5 * * *",
                "downsize": {"max_replicas": 4},
            }
        ]
    )
    assert night.variants(spec) == [] and set(scaled_objects(spec)) == {"llama-70b-eks-burst"}


def test_gate_triggers_have_the_timezone_window_and_lead_time():
    spec = night_spec()
    (v,) = night.variants(spec)
    sos = scaled_objects(spec)
    (night_gate,) = [t for t in sos["llama-70b-eks-night"]["spec"]["triggers"] if is_gate(t)]
    (day_gate,) = sos["llama-70b-eks-baseline"]["spec"]["triggers"]
    lead_night, lead_day = night.lead_minutes(spec, v.config), night.lead_minutes(spec, day_config(spec))
    assert lead_night >= 5 and lead_day >= lead_night  # 70B FP8 takes longer to load than 8B
    assert night_gate == {
        "type": "cron",
        "name": "night_night",
        "metadata": {
            "timezone": "America/New_York",
            "start": Cron("0 22 * * 1-5").shifted_earlier(lead_night).expression,
            "end": "0 6 * * 2-6",
            "desiredReplicas": "2",
        },
    }
    assert day_gate == {
        "type": "cron",
        "name": "window_night",
        "metadata": {
            "timezone": "America/New_York",
            "start": "0 22 * * 1-5",
            "end": Cron("0 6 * * 2-6").shifted_earlier(lead_day).expression,
            "desiredReplicas": "2",
        },
    }
    # Hand-checked for this spec: night starts 10 min early (8B BF16 + a node), the day 10 min early.
    assert (night_gate["metadata"]["start"], day_gate["metadata"]["end"]) == ("50 21 * * 1-5", "50 5 * * 2-6")


def test_queue_depth_trigger_stays_active_at_night_on_the_whole_service():
    spec = night_spec()
    so = scaled_objects(spec)["llama-70b-eks-night"]["spec"]
    queue = [t for t in so["triggers"] if t["type"] == "prometheus"]
    # (floor_load: the request rate the predictive floor follows, `floor_triggers.load_trigger`)
    assert {t["name"] for t in queue} == {"queue_depth", "kv_cache", "floor_load"}
    (q,) = [t for t in queue if t["name"] == "queue_depth"]
    # The baseline is down at night: no B·t offset, the night covers the whole queue up to the window's max.
    assert q["metadata"]["query"].startswith(
        '(sum(vllm:num_requests_waiting{namespace="llama",app_kubernetes_io_instance="llama-70b-eks"})) or on()'
    )
    assert (so["minReplicaCount"], so["maxReplicaCount"]) == (0, 3)
    floor = floor_term(spec)  # the predictive floor's cron triggers (`floor_triggers`), in the night's term too
    assert floor is not None
    assert so["advanced"]["scalingModifiers"] == {
        "formula": f"(night_night > 1 ? max(queue_depth / 5, kv_cache / 0.85, 1, {floor}) : 0)",
        "target": "1",
        "activationTarget": "0",
        "metricType": "AverageValue",
    }


def test_service_selects_both_variants_and_the_night_serves_the_day_model_name():
    spec = night_spec()
    dep = night.deployment(spec, night.variants(spec)[0])
    pod = dep["spec"]["template"]
    selector = workload.service(spec)["spec"]["selector"]
    assert all(pod["metadata"]["labels"][k] == v for k, v in selector.items())
    assert pod["spec"]["nodeSelector"] == {labels.INSTANCE_TYPE: "g6e.2xlarge"}
    args = pod["spec"]["containers"][0]["args"]
    i = args.index("--served-model-name")
    assert args[i + 1 : i + 3] == [NIGHT_MODEL["id"], spec.model.id]
    assert args[args.index("--tensor-parallel-size") + 1] == "1" and dep["spec"]["replicas"] == 0
    for pool in karpenter.node_pools(spec):
        (types,) = [
            r["values"] for r in pool["spec"]["template"]["spec"]["requirements"] if r["key"] == labels.INSTANCE_TYPE
        ]
        assert "g6e.2xlarge" in types
        assert int(pool["spec"]["limits"]["nvidia.com/gpu"]) == karpenter.burst_gpu_limit(edited()) + 3


IDLE = {"queue_depth": 0.0, "kv_cache": 0.0}
BUSY = {"queue_depth": 400.0, "kv_cache": 20.0}


@pytest.mark.parametrize(
    "tz,spring,autumn",
    [
        ("America/New_York", datetime(2026, 3, 8), datetime(2026, 11, 1)),
        ("Europe/Berlin", datetime(2026, 3, 29), datetime(2026, 10, 25)),
    ],
)
def test_keda_gates_fire_at_local_time_and_a_variant_is_always_ready_across_dst(tz, spring, autumn):
    """Walk three days around each change in 5-minute steps through the library's KEDA model
    (`keda_steady_state`): some variant has been up for its lead time at every step; the day baseline is down deep
    in the night; the night variant has no replica by day even under a deep queue (its queue trigger is gated to
    the window)."""
    spec = night_spec(tz=tz, start="0 22 * * *", end="0 6 * * *")
    (v,) = night.variants(spec)
    sos = scaled_objects(spec)
    night_so, base_so = sos["llama-70b-eks-night"], sos["llama-70b-eks-baseline"]
    (night_gate,) = [t for t in night_so["spec"]["triggers"] if is_gate(t)]
    lead_night, lead_day = night.lead_minutes(spec, v.config), night.lead_minutes(spec, day_config(spec))
    step = timedelta(minutes=5)
    for change in (spring, autumn):
        # The night gate opens at 22:00 − lead local time on each side of the change.
        for day in (change - timedelta(days=1), change + timedelta(days=1)):
            on = (
                datetime.combine(day.date(), datetime.min.time()).replace(hour=22, tzinfo=zone(tz))
                - timedelta(minutes=lead_night)
            ).astimezone(UTC)
            assert not cron_active(night_gate["metadata"], on - timedelta(minutes=1))
            assert cron_active(night_gate["metadata"], on + timedelta(minutes=1))
        t0 = (change - timedelta(days=1)).replace(tzinfo=UTC)
        history: dict[str, list[bool]] = {"night": [], "day": []}
        for i in range(3 * 24 * 12):
            at = t0 + i * step
            idle = as_forecast(spec, at, IDLE)  # the floor's load as forecast
            history["night"].append(settled.replicas(night_so, at, idle) >= 1)
            history["day"].append(settled.replicas(base_so, at, idle) == spec.capacity.baseline.count)
            if i < 24 * 12:
                continue  # warm-up: need lead time of history
            ready_night = all(history["night"][-(lead_night // 5 + 1) :])
            ready_day = all(history["day"][-(lead_day // 5 + 1) :])
            assert ready_night or ready_day, f"no variant Ready at {at.astimezone(zone(tz))}"
            local = at.astimezone(zone(tz))
            if 23 <= local.hour or local.hour < 5:
                assert not history["day"][-1], f"day baseline still up at {local}"  # the saving happens
                assert settled.replicas(night_so, at, as_forecast(spec, at, BUSY)) == v.config.max_replicas  # on queue
            if 7 <= local.hour < 21:
                assert not history["night"][-1], f"night variant still up at {local}"
                assert settled.replicas(night_so, at, as_forecast(spec, at, BUSY)) == 0, f"night variant up at {local}"


@pytest.fixture(scope="module")
def applied():
    return run(lambda: build_eks("n", night_spec()), preview=False)


def test_components_apply_the_night_deployment_and_schedule_scaled_objects(applied):
    spec = night_spec()
    sent = {
        r.inputs["metadata"]["name"]: r.inputs
        for r in applied.resources
        if r.type.startswith("kubernetes:") and r.inputs.get("kind") == "ScaledObject"
    }
    for so in night_scaling.objects(spec):
        assert sent[so["metadata"]["name"]]["spec"] == so["spec"]
    deps = {r.inputs["metadata"]["name"] for r in applied.resources if r.type == "kubernetes:apps/v1:Deployment"}
    assert "llama-70b-eks-night" in deps


def test_a_day_of_month_window_at_midnight_is_a_spec_error_naming_the_cron():
    from llama_infra.spec.errors import SpecRuleErrors

    with pytest.raises(SpecRuleErrors) as e:
        night_spec(tz="UTC", start="0 0 1 * *", end="0 0 2 * *")
    text = str(e.value)
    assert "schedules[0].start" in text and "schedules[0].end" in text and "cold start" in text
