"""Build specs and run the SageMaker component under Pulumi's mocks, recording what it registers."""

from __future__ import annotations

import copy
from typing import Any

import pulumi

from llama_infra.plan.record import RecordedResource, Recording, run_plan
from llama_infra.spec import DeploymentSpec

BASE: dict[str, Any] = {
    "name": "llama-test",
    "environment": "staging",
    "target": "sagemaker",
    "region": "us-east-1",
    "model": {
        "id": "meta-llama/Llama-3.1-8B-Instruct",
        "params_b": 8,
        "precision": "bf16",
        "framework": "tgi",
        "max_model_len": 4096,
        "weights": {"source": "s3://weights-bucket/llama-3.1-8b/"},
    },
    "capacity": {"baseline": {"instance_type": "ml.g5.12xlarge", "count": 2}, "burst": {"max": 3}},
    "scaling": {"queue_depth_target": 7, "scale_up_stabilization_seconds": 45, "scale_down_stabilization_seconds": 420},
}


def make_spec(**changes: Any) -> DeploymentSpec:
    """BASE with nested changes: make_spec(model={"framework": "vllm"}) merges into BASE["model"]."""
    doc = copy.deepcopy(BASE)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(doc.get(key), dict):
            doc[key] = _merge(doc[key], value)
        else:
            doc[key] = value
    return DeploymentSpec.model_validate(doc)


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


class Planned:
    def __init__(self, run: Recording, outputs: dict):
        self.records = run.resources
        self.component_outputs = run.component_outputs
        self.calls = run.calls
        self.outputs = outputs

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.records if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> RecordedResource:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}, found {[r.name for r in found]}"
        return found[0]


def run_component(spec: DeploymentSpec, preview: bool, endpoint_name: str | None = None) -> Planned:
    """Run SageMakerLlamaEndpoint for `spec` under mocks (preview or update) and return what was registered.

    `run_plan` wraps the program in `@pulumi.runtime.test` after resetting Pulumi's runtime state.
    """
    from llama_infra.targets.sagemaker.components import SageMakerLlamaEndpoint, SageMakerLlamaEndpointArgs

    outputs: dict = {}

    def program():
        ep = SageMakerLlamaEndpoint(spec.name, SageMakerLlamaEndpointArgs(spec, endpoint_name))
        keys = ("endpoint_name", "endpoint_arn", "scaling_target_id", "dashboard_url")
        return pulumi.Output.all(*(getattr(ep, k) for k in keys)).apply(
            lambda v: outputs.update(zip(keys, v, strict=True))
        )

    run = run_plan(program, project="llama-infra", stack="test", preview=preview, region=spec.region)
    return Planned(run, outputs)


def policies_on_metrics_that_ignore_load(policies: list[RecordedResource]) -> list[str]:
    """Names of target-tracking policies whose customized metric does not follow the load (GPU memory:
    `endpoint_metrics.PREALLOCATED_GPU_MEMORY`). A SageMaker endpoint must have none."""
    from llama_infra.targets.sagemaker.cloudwatch_metrics import Metric

    out = []
    for p in policies:
        custom = (p.inputs.get("targetTrackingScalingPolicyConfiguration") or {}).get("customizedMetricSpecification")
        if custom and not Metric(custom["namespace"], custom["metricName"], ()).follows_load:
            out.append(p.name)
    return out
