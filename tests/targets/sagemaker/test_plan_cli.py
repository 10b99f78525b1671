"""`llama-infra plan`: the stacks program run offline per environment, as data (--json) and for people."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llama_infra.cli import app
from llama_infra.plan import plan_stack
from llama_infra.spec import load_spec
from llama_infra.targets import cost_report

REPO = Path(__file__).resolve().parents[3]
STACKS = REPO / "stacks"
SAGEMAKER_TYPES = {
    "llama-infra:index:SageMakerLlamaEndpoint",
    "aws:iam/role:Role",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:sagemaker/model:Model",
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
    "aws:sagemaker/endpoint:Endpoint",
    "aws:appautoscaling/target:Target",
    "aws:appautoscaling/policy:Policy",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:cloudwatch/dashboard:Dashboard",
    "pulumi:providers:aws",
}


# Overnight downsizing (stacks with schedules): its own component, under the endpoint component.
DOWNSIZING = "llama-infra:index:SageMakerDownsizing"
DOWNSIZING_TYPES = {
    DOWNSIZING,
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:iam/role:Role",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:lambda/function:Function",
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
    "aws:scheduler/schedule:Schedule",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:sagemaker/model:Model",
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
    "aws:ssm/parameter:Parameter",
}


def _split_downsizing(resources: list[dict]) -> tuple[list[dict], list[dict]]:
    """(the endpoint's own resources, the downsizing component and everything under it)."""
    parents = {r["name"]: r["parent"] for r in resources}
    roots = {r["name"] for r in resources if r["type"] == DOWNSIZING}

    def under(name: str | None) -> bool:
        while name is not None:
            if name in roots:
                return True
            name = parents.get(name)
        return False

    inside = [r for r in resources if under(r["name"])]
    return [r for r in resources if r not in inside], inside


def invoke(*args: str):
    return CliRunner().invoke(app, ["plan", *args])


@pytest.fixture(scope="module")
def json_plans() -> dict[str, dict]:
    result = invoke("dev", "staging", "prod", "--json", "--stacks-dir", str(STACKS))
    assert result.exit_code == 0, result.output
    return {p["stack"]: p for p in json.loads(result.output)["plans"]}


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_json_plan_has_the_sagemaker_resources_of_the_stack_spec(json_plans, stack):
    plan = json_plans[stack]
    spec = load_spec(STACKS / "specs" / f"{stack}.yaml")
    assert plan["spec_file"] == f"specs/{stack}.yaml" and plan["spec_name"] == spec.name
    resources, downsizing = _split_downsizing(plan["resources"])
    assert {r["type"] for r in resources} == SAGEMAKER_TYPES
    assert {r["type"] for r in downsizing} == (DOWNSIZING_TYPES if spec.schedules else set())
    by_type = {}
    for r in resources:
        by_type.setdefault(r["type"], []).append(r)
    (config,) = [
        r
        for r in by_type["aws:sagemaker/endpointConfiguration:EndpointConfiguration"]
        if r["name"] == f"{spec.name}-endpoint-config"
    ]
    assert config["key_inputs"]["instanceType"] == spec.capacity.baseline.instance_type
    assert config["key_inputs"]["initialInstanceCount"] == spec.capacity.baseline.count
    (target,) = by_type["aws:appautoscaling/target:Target"]
    assert (target["key_inputs"]["minCapacity"], target["key_inputs"]["maxCapacity"]) == (
        spec.min_replicas,
        spec.max_replicas,
    )
    assert plan["outputs"]["scaling_target_id"] == f"endpoint/{spec.name}/variant/AllTraffic"
    (component,) = by_type["llama-infra:index:SageMakerLlamaEndpoint"]
    assert all(
        r["parent"] == component["name"]
        for r in resources + [d for d in downsizing if d["type"] == DOWNSIZING]
        if r["type"] not in {"llama-infra:index:SageMakerLlamaEndpoint", "pulumi:providers:aws"}
    )
    assert {r["parent"] for r in by_type["aws:sagemaker/endpoint:Endpoint"]} == {component["name"]}


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_json_plan_cost_is_the_pricing_report_of_the_spec(json_plans, stack):
    cost = json_plans[stack]["cost"]
    report = cost_report(load_spec(STACKS / "specs" / f"{stack}.yaml"))
    assert cost["cost_per_month_usd"] == report.cost_per_month_usd > 0
    assert cost["baseline_usd_per_hour"] == report.baseline_usd_per_hour
    assert cost["snapshot"] == report.snapshot
    assert cost["day_only_cost_per_month_usd"] >= cost["cost_per_month_usd"]


def test_schedules_save_money_where_there_are_schedules(json_plans):
    assert json_plans["dev"]["cost"]["schedule_saving_per_month_usd"] == 0  # dev has no schedules
    # prod's reserved baseline is a Savings Plan, billed whatever runs at night: no saving there; staging's is
    # on-demand
    assert json_plans["prod"]["cost"]["schedule_saving_per_month_usd"] >= 0
    assert json_plans["staging"]["cost"]["schedule_saving_per_month_usd"] > 0
    assert json_plans["prod"]["cost"]["cost_per_1k_requests_usd"] > 0  # prod states its load


def test_scaling_in_words_names_the_metric_and_numbers(json_plans):
    from llama_infra.slo_targets import effective_targets

    words = " ".join(json_plans["prod"]["scaling"]["words"])
    day = effective_targets(load_spec(STACKS / "specs" / "prod.yaml"))[None]
    assert day.queue_depth_target_source == "derived"  # the example leaves it to the SLO
    assert f"SageMakerVariantConcurrentRequestsPerModelHighResolution at {day.queue_depth_target:g}" in words
    assert "between 2 and 6 instances" in words
    assert "Window 'overnight'" in words


def test_the_slo_panel_shows_the_metric_at_slo_beside_the_target_above_its_spread(json_plans):
    """The plan shows both numbers a derived target comes from: what the metric reads on average at SLO
    (`slo_envelope.occupancy` of the fleet at peak) and the target one spread above it, in --json and in words."""
    from llama_infra.slo_envelope import needs, occupancy

    spec = load_spec(STACKS / "specs" / "prod.yaml")
    slo = json_plans["prod"]["slo"]
    for need, row in zip(needs(spec), slo["configurations"], strict=True):
        mean = occupancy(need.envelope, need.envelope.requests_per_second).in_system  # the floor carries the headroom
        derived = row["derived"]
        assert derived["queue_depth_at_slo"] == pytest.approx(mean, abs=0.005)
        assert derived["queue_depth_at_slo"] < derived["queue_depth_target"]
        line = next(t for t in slo["lines"] if f"queue_depth_target {derived['queue_depth_target']:g} " in t)
        assert f"{derived['queue_depth_at_slo']:g} on average at the rate at SLO" in line


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_sagemaker_plans_scale_on_the_queue_alone_and_say_why_not_gpu_memory(json_plans, stack):
    """One queue policy per endpoint, and right after the policies one line on why GPU memory is not a signal;
    `numbers` shows the GPU-memory target that runs: none."""
    from llama_infra.targets.sagemaker.cloudwatch_metrics import GPU_MEMORY_NOT_A_SCALING_SIGNAL

    plan = json_plans[stack]
    spec = load_spec(STACKS / "specs" / f"{stack}.yaml")
    policies = [r["name"] for r in plan["resources"] if r["type"] == "aws:appautoscaling/policy:Policy"]
    assert policies == [f"{spec.name}-queue-depth-policy"]
    words = plan["scaling"]["words"]
    line = f"GPU memory is not a scaling signal on SageMaker: {GPU_MEMORY_NOT_A_SCALING_SIGNAL}."
    assert words.count(line) == 1
    assert words[words.index(line) - 1].startswith(f"Target tracking ({spec.name}-queue-depth-policy)")
    assert plan["scaling"]["numbers"]["gpu_memory_target"] is None


def test_plans_are_the_same_when_run_again_in_one_process():
    first, second = plan_stack("staging", STACKS), plan_stack("staging", STACKS)
    assert json.dumps(first.to_dict(), sort_keys=True) == json.dumps(second.to_dict(), sort_keys=True)


def test_preview_and_update_runs_plan_the_same_inputs():
    preview, update = plan_stack("dev", STACKS, preview=True), plan_stack("dev", STACKS, preview=False)
    assert [(r.type, r.name, r.inputs) for r in preview.resources] == [
        (r.type, r.name, r.inputs) for r in update.resources
    ]


def test_human_plan_prints_tree_scaling_cost(tmp_path):
    result = invoke("dev", "--stacks-dir", str(STACKS))
    assert result.exit_code == 0, result.output
    for text in ("llama-8b-dev-endpoint", "aws:appautoscaling/policy:Policy", "scaling", "per month", "per 1k"):
        assert text in result.output


def _stacks_with(tmp_path: Path, spec_text: str | None, config: str) -> Path:
    shutil.copy(STACKS / "__main__.py", tmp_path / "__main__.py")
    (tmp_path / "specs").mkdir()
    if spec_text is not None:
        (tmp_path / "specs" / "bad.yaml").write_text(spec_text)
    (tmp_path / "Pulumi.bad.yaml").write_text(config)
    return tmp_path


def test_bad_spec_is_a_clear_error_not_a_traceback(tmp_path):
    spec = (STACKS / "specs" / "dev.yaml").read_text().replace("count: 1", "count: 1, colour: blue")
    stacks = _stacks_with(tmp_path, spec, "config:\n  llama-infra:spec: specs/bad.yaml\n")
    result = invoke("bad", "--stacks-dir", str(stacks))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "bad.yaml:" in result.output and "unknown field 'colour'" in result.output


def test_missing_spec_config_is_a_clear_error(tmp_path):
    stacks = _stacks_with(tmp_path, None, "config:\n  aws:region: us-east-1\n")
    result = invoke("bad", "--stacks-dir", str(stacks))
    assert result.exit_code == 1
    assert "config 'llama-infra:spec' is missing" in result.output and "Traceback" not in result.output


def test_unknown_stack_lists_the_stacks(tmp_path):
    result = invoke("qa", "--stacks-dir", str(STACKS))
    assert result.exit_code == 1
    assert "Pulumi.qa.yaml: no such stack file" in result.output and "dev, " in result.output
