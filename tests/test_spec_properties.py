"""Properties of every valid spec: it validates, round-trips through YAML, costs, and its week plan keeps
min ≤ baseline-derived min ≤ max in every hour."""

import copy
import os
from io import StringIO

import pytest
from hypothesis import HealthCheck, example, given, settings
from ruamel.yaml import YAML
from spec_strategies import valid_spec_dicts, valid_specs  # tests/ is on sys.path (pytest rootdir-relative import)

from llama_infra.capacity_plan import day_config, week_plan, window_config
from llama_infra.pricing import HOURS_PER_MONTH
from llama_infra.spec import DeploymentSpec, SpecRuleErrors, parse_spec
from llama_infra.targets import cost_report
from llama_infra.targets import get as target_of

FAST = settings(
    max_examples=int(os.environ.get("SPEC_EXAMPLES", 40)), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@FAST
@given(valid_specs())
def test_a_valid_spec_round_trips_through_yaml(spec):
    buf = StringIO()
    YAML(typ="safe").dump(spec.model_dump(mode="json", exclude_defaults=True), buf)
    assert parse_spec(buf.getvalue(), "roundtrip.yaml") == spec


@FAST
@given(valid_specs())
def test_min_never_drops_below_the_baseline_and_never_exceeds_max(spec):
    base = spec.capacity.baseline.count
    assert base <= spec.min_replicas <= spec.max_replicas
    week = week_plan(spec, tuple([0.5] * 24), target_of(spec.target).billing_units(spec))
    assert len(week) == 168
    day = day_config(spec)
    windows = {s.name: window_config(spec, s) for s in spec.schedules}
    for hour in week:
        cfg = windows[hour.window] if hour.window else day
        assert cfg.min_replicas <= hour.replicas <= cfg.max_replicas
        assert hour.baseline_replicas + hour.burst_replicas == hour.replicas
        assert 0 <= hour.baseline_replicas <= base
        if hour.window is None:  # by day the reserved baseline is always in service
            assert hour.replicas >= spec.min_replicas >= base
            assert hour.baseline_replicas == min(base, hour.replicas) == base


@FAST
@given(valid_specs())
def test_every_valid_spec_has_a_cost_report(spec):
    report = cost_report(spec)
    assert len(report.week) == 168
    assert report.cost_per_month_usd >= 0 and report.baseline_usd_per_hour >= 0
    weekly = sum(h.usd for h in report.week)
    assert abs(report.cost_per_month_usd - weekly * HOURS_PER_MONTH / 168) <= 0.01
    assert abs(report.baseline_per_month_usd + report.burst_per_month_usd - report.cost_per_month_usd) <= 0.02
    if spec.capacity.baseline.count and not spec.schedules:
        # no windows: the baseline runs (and is paid for) every hour of the month
        assert report.baseline_per_month_usd == pytest.approx(report.baseline_usd_per_hour * HOURS_PER_MONTH, rel=1e-4)
    if not spec.schedules:
        assert report.schedule_saving_per_month_usd == 0
    if report.requests_per_month:
        per_1k = report.cost_per_month_usd / report.requests_per_month * 1000
        assert report.cost_per_1k_requests_usd == pytest.approx(per_1k, rel=1e-3, abs=1e-4)


_NO_OTHER_FAMILY = {  # 405B fp8 at TP 4 needs 4×H200-class GPUs: no other family holds a replica
    "name": "llama-405b",
    "target": "eks",
    "model": {
        "id": "meta-llama/Llama-3.1-405B-Instruct",
        "params_b": 405,
        "precision": "fp8",
        "tensor_parallel_degree": 4,
        "memory_overhead_fraction": 0.2,
        "weights": {"source": "s3://llama-weights/llama-405b/"},
    },
    "capacity": {"baseline": {"instance_type": "p5en.48xlarge", "count": 1}, "burst": {"max": 1}},
    "scaling": {},
    "schedules": [],
    "eks": {"cluster_name": "gpu"},
}


@FAST
@given(valid_spec_dicts("eks"))
@example(_NO_OTHER_FAMILY)
def test_the_spot_pool_fix_names_types_the_spec_then_accepts(spec_dict):
    """A one-type spot pool is rejected; adding a type the fix suggests (or its stated way out) makes it valid."""
    spec_dict = copy.deepcopy(spec_dict)
    baseline = spec_dict["capacity"]["baseline"]["instance_type"]
    spec_dict["capacity"]["burst"] = {"capacity": "spot", "max": 2, "instance_types": [baseline]}
    spec_dict["scaling"].pop("max_replicas", None)
    spec_dict["scaling"].pop("min_replicas", None)
    spec_dict["scaling"]["scale_to_zero"] = False
    spec_dict["scaling"]["autoscaler"] = "keda"
    spec_dict["eks"]["addons"] = {"keda": True, "prometheus_adapter": False}
    spec_dict["capacity"]["baseline"]["count"] = max(1, spec_dict["capacity"]["baseline"]["count"])
    spec_dict["schedules"] = []
    with pytest.raises(SpecRuleErrors) as caught:
        DeploymentSpec.model_validate(spec_dict)
    (issue,) = [i for i in caught.value.issues if i.path == ("capacity", "burst", "instance_types")]
    if "e.g. " not in issue.fix:  # no other family holds a replica: the fix offers the two ways out
        assert "no other GPU family holds a replica" in issue.fix
        for way_out in ({"capacity": "on-demand"}, {"min_instance_types": 1}):
            spec_dict["capacity"]["burst"] = {"capacity": "spot", "max": 2, "instance_types": [baseline], **way_out}
            assert DeploymentSpec.model_validate(spec_dict)
        return
    suggested = issue.fix.split("e.g. ", 1)[1].split(", ")
    assert 1 <= len(suggested) <= 3
    for extra in suggested:
        spec_dict["capacity"]["burst"]["instance_types"] = [baseline, extra]
        assert DeploymentSpec.model_validate(spec_dict).burst_instance_types == [baseline, extra]
