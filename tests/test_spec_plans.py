"""Any valid spec plans without error: the stacks program (`stacks/__main__.py`) runs under Pulumi mocks for a
generated spec of either target, and the planned autoscaling keeps min ≤ baseline-derived min ≤ max.

Each example runs a whole Pulumi program, so the example count is small; the strategy is the one the fast
property tests use (tests/spec_strategies.py).
"""

import os
import shutil
import tempfile
from io import StringIO
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from spec_strategies import valid_specs  # tests/ is on sys.path (pytest rootdir-relative import)

from llama_infra.capacity_plan import window_config
from llama_infra.plan import plan_stack

ROOT = Path(__file__).resolve().parents[1]
PLANS = settings(
    max_examples=int(os.environ.get("PLAN_EXAMPLES", 3)), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _plan(spec, preview: bool):
    """Plan `spec` as stack 'prop' of a copy of stacks/ (the real program, the generated spec)."""
    with tempfile.TemporaryDirectory() as tmp:
        stacks = Path(tmp) / "stacks"
        (stacks / "specs").mkdir(parents=True)
        shutil.copy(ROOT / "stacks" / "__main__.py", stacks / "__main__.py")
        buf = StringIO()
        YAML(typ="safe").dump(spec.model_dump(mode="json", exclude_defaults=True), buf)
        (stacks / "specs" / "prop.yaml").write_text(buf.getvalue())
        (stacks / "Pulumi.prop.yaml").write_text("config:\n  llama-infra:spec: specs/prop.yaml\n")
        return plan_stack("prop", stacks, preview=preview)


def _count(value) -> int:
    assert float(value).is_integer()
    return int(value)


def _check_sagemaker(spec, plan):
    targets = [r for r in plan.resources if r.type == "aws:appautoscaling/target:Target"]
    assert targets, "a SageMaker plan always registers an Application Auto Scaling target"
    for t in targets:
        lo, hi = _count(t.inputs["minCapacity"]), _count(t.inputs["maxCapacity"])
        assert 0 <= lo <= hi
        if t.inputs["resourceId"].startswith("endpoint/"):  # the variant: instances, bounded by the baseline
            assert not spec.scaling.scale_to_zero, "scale to zero runs inference components, not the variant"
            assert spec.capacity.baseline.count <= lo and hi == spec.max_replicas
            assert lo == spec.min_replicas
        else:  # inference-component copies: from zero
            assert spec.scaling.scale_to_zero and t.inputs["resourceId"].startswith("inference-component/")
            assert lo == 0 and hi == max(1, spec.max_replicas)
    # the queue is the only signal: no policy tracks GPU memory, which the servers pre-allocate (endpoint_metrics)
    from llama_infra.targets.sagemaker.cloudwatch_metrics import Metric

    for p in (r for r in plan.resources if r.type == "aws:appautoscaling/policy:Policy"):
        custom = (p.inputs.get("targetTrackingScalingPolicyConfiguration") or {}).get("customizedMetricSpecification")
        assert custom is None or Metric(custom["namespace"], custom["metricName"], ()).follows_load, p.name


def _day_replicas(body: dict, load: float) -> int:
    """KEDA's answer for a formula ScaledObject outside every window (cron gates report 1) under a queue `load`,
    through the library's KEDA model."""
    from llama_infra.targets.kubernetes.keda_steady_state import TriggerReading, replicas_from

    readings = {
        t["name"]: TriggerReading(1.0, False)
        if t["type"] == "cron"
        else TriggerReading(min(load, 1.0) if t["name"] == "wake" else load, load > 0)
        for t in body["triggers"]
    }
    counts = {k: _count(body[k]) for k in ("minReplicaCount", "maxReplicaCount")}
    return replicas_from(body | counts, readings)


def _check_eks(spec, plan):
    deployments = {r.name.rsplit("-", 1)[-1]: r for r in plan.resources if r.type == "kubernetes:apps/v1:Deployment"}
    baseline = _count(deployments["baseline"].inputs["spec"]["replicas"]) if "baseline" in deployments else 0
    scalers = [
        r
        for r in plan.resources
        if r.type in ("kubernetes:keda.sh/v1alpha1:ScaledObject", "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    ]
    for s in scalers:
        body = s.inputs["spec"]
        lo = _count(body.get("minReplicaCount", body.get("minReplicas", 0)))
        hi = _count(body.get("maxReplicaCount", body.get("maxReplicas")))
        assert 0 <= lo <= hi
        target = body["scaleTargetRef"]["name"]
        if target == f"{spec.name}-baseline":  # the day baseline on its schedule (a night variant exists)
            assert (lo, hi) == (0, baseline)
            continue
        if target != f"{spec.name}-burst":  # a night variant: bounded by its window
            (window,) = [w for w in spec.schedules if target == f"{spec.name}-{w.name}"]
            assert lo == 0 and hi == max(
                1, window_config(spec, window).max_replicas, window_config(spec, window).min_replicas
            )
            continue
        if body.get("advanced", {}).get("scalingModifiers"):
            # with windows the burst's day floor and ceiling are in its formula: read it with every gate closed
            lo, hi = (_day_replicas(body, load) for load in (0.0, 1e6))
        assert baseline + lo >= spec.min_replicas >= baseline  # the baseline-derived floor holds ...
        assert baseline + hi <= max(spec.max_replicas, baseline + 1)  # ... and the ceiling is the spec's


@pytest.mark.slow
@PLANS
@given(valid_specs("sagemaker"), st.booleans())
def test_any_valid_sagemaker_spec_plans(spec, preview):
    plan = _plan(spec, preview)
    assert plan.target == "sagemaker" and plan.resources
    _check_sagemaker(spec, plan)
    assert plan.cost["cost_per_month_usd"] >= 0


@pytest.mark.slow
@PLANS
@given(valid_specs("eks"), st.booleans())
def test_any_valid_eks_spec_plans(spec, preview):
    plan = _plan(spec, preview)
    assert plan.target == "eks" and plan.resources
    _check_eks(spec, plan)
    assert plan.cost["cost_per_month_usd"] >= 0
