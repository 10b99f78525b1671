"""`llama-infra plan` shows what the components render from the SLO: each configuration's effective targets (with
where they come from) in the scaling section, and the predictive floor in the 24 h timeline, per configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from llama_infra.cli import app
from llama_infra.slo_targets import effective_targets, predictive_floor
from llama_infra.spec import load_spec

SPECS = Path(__file__).resolve().parents[1] / "stacks" / "specs"


def without_targets(example: str, tmp_path: Path) -> Path:
    """The example spec with its stated scaling targets removed: the derived ones apply."""
    yaml = YAML()
    doc = yaml.load((SPECS / f"{example}.yaml").read_text())
    for key in ("queue_depth_target", "gpu_memory_target"):
        doc["scaling"].pop(key, None)
    out = tmp_path / f"{example}.yaml"
    with out.open("w") as fh:
        yaml.dump(doc, fh)
    return out


def plan_json(spec_file: Path) -> dict:
    result = CliRunner().invoke(app, ["plan", str(spec_file), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [plan] = json.loads(result.output)["plans"]
    return plan


@pytest.mark.parametrize("example", ["prod", "prod-eks"])
def test_the_scaling_numbers_are_the_targets_that_run_with_their_source(example, tmp_path):
    spec_file = without_targets(example, tmp_path)
    spec = load_spec(spec_file)
    targets = effective_targets(spec)
    assert targets[None].queue_depth_target_source == "derived"
    numbers = plan_json(spec_file)["scaling"]["numbers"]
    assert numbers["queue_depth_target"] == targets[None].queue_depth_target
    rows = {r["configuration"]: r for r in numbers["targets_by_configuration"]}
    assert set(rows) == {t.configuration for t in targets.values()}
    for t in targets.values():
        row = rows[t.configuration]
        assert (row["queue_depth_target"], row["queue_depth_target_source"]) == (
            t.queue_depth_target,
            t.queue_depth_target_source,
        )
    # what SageMaker's target tracking registers is the same number
    if spec.target == "sagemaker":
        words = " ".join(plan_json(spec_file)["scaling"]["words"])
        assert f"at {targets[None].queue_depth_target:g} per instance" in words


@pytest.mark.parametrize("example", ["prod", "prod-eks"])
def test_the_timeline_shows_the_predictive_floor_of_each_configuration(example):
    spec_file = SPECS / f"{example}.yaml"
    floor = {f.hour: f for f in predictive_floor(load_spec(spec_file))}
    assert floor
    timeline = plan_json(spec_file)["timeline"]
    shown: dict[int, int] = {}
    for seg in timeline["segments"]:
        for step in seg["floor_on_weekdays"]:
            for h in range(step["start_hour"], step["end_hour"]):
                assert floor[h].configuration == (seg["window"] or "day")
                shown[h] = step["min_replicas"]
    assert shown == {h: f.min_replicas for h, f in floor.items()}  # every weekday hour, once
    assert any("predictive floor Mon–Fri" in line for line in timeline["lines"])
    # both examples have windows: the reconciler (SageMaker) or the KEDA formula (EKS) makes the floor follow the load
    from llama_infra import targets

    spec = load_spec(spec_file)
    period = targets.get(spec.target).floor_follow_period_s(spec)
    assert period and timeline["floor_follow_period_s"] == period
    assert any("the floor follows the load" in line for line in timeline["lines"])
    # the reconciler reads each hour's capacity steps (the fewest replicas that carry the load); KEDA's formula
    # scales the scheduled floor by the ratio
    steps = targets.get(spec.target).floor_follows_capacity_steps(spec)
    assert timeline["floor_follows_capacity_steps"] is steps is (spec.target == "sagemaker")
    how = "the fewest replicas that carry the recent request rate" if steps else "scaled by the recent request rate"
    assert any(how in line for line in timeline["lines"])


def test_a_spec_without_load_shows_no_floor():
    timeline = plan_json(SPECS / "dev.yaml")["timeline"]  # dev states no load
    assert all(seg["floor_on_weekdays"] == [] for seg in timeline["segments"])
    assert not any("predictive floor" in line for line in timeline["lines"])


def test_where_the_target_renders_no_floor_the_timeline_shows_none(tmp_path):
    """An HPA cannot follow a schedule (`Target.renders_floor`): the spec still has a floor, the plan shows none."""
    from llama_infra import targets

    yaml = YAML()
    doc = yaml.load((SPECS / "prod-eks.yaml").read_text())
    doc.pop("schedules")  # an HPA cannot follow windows either (a spec rule)
    doc["scaling"].update(autoscaler="hpa", min_replicas=3)
    doc["eks"]["addons"] = {"keda": False, "prometheus_adapter": True}
    spec_file = tmp_path / "hpa.yaml"
    with spec_file.open("w") as fh:
        yaml.dump(doc, fh)
    spec = load_spec(spec_file)
    assert predictive_floor(spec) and not targets.get("eks").renders_floor(spec)
    plan = plan_json(spec_file)
    assert all(seg["floor_on_weekdays"] == [] for seg in plan["timeline"]["segments"])
    assert any("predictive floor: not rendered" in line for line in plan["target_summary"])
