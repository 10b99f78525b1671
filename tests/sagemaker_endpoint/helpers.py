"""Build specs and run the SageMaker component under Pulumi's mocks, recording what it registers."""

from __future__ import annotations

import copy
from typing import Any

import pulumi

from llama_infra.plan.mocks import RecordedResource, RecordingMocks, RecordingMonitor
from llama_infra.spec import DeploymentSpec

BASE: dict[str, Any] = {
    "name": "llama-test",
    "environment": "staging",
    "target": "sagemaker",
    "region": "us-east-1",
    "model": {"id": "meta-llama/Llama-3.1-8B-Instruct", "params_b": 8, "precision": "bf16", "framework": "tgi",
              "max_model_len": 4096,
              "weights": {"source": "s3://weights-bucket/llama-3.1-8b/"}},
    "capacity": {"baseline": {"instance_type": "ml.g5.12xlarge", "count": 2}, "burst": {"max": 3}},
    "scaling": {"queue_depth_target": 7, "scale_up_stabilization_seconds": 45,
                "scale_down_stabilization_seconds": 420},
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
    def __init__(self, monitor: RecordingMonitor, mocks: RecordingMocks, outputs: dict):
        self.records = monitor.records
        self.component_outputs = monitor.component_outputs
        self.outputs = outputs
        self.mocks = mocks

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.records if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> RecordedResource:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}, found {[r.name for r in found]}"
        return found[0]


def run_component(spec: DeploymentSpec, preview: bool, endpoint_name: str | None = None) -> Planned:
    """Run SageMakerLlamaEndpoint for `spec` under mocks (preview or update) and return what was registered."""
    from llama_infra.components.sagemaker import SageMakerLlamaEndpoint, SageMakerLlamaEndpointArgs

    mocks = RecordingMocks(spec.region)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.settings.ROOT.set(None)  # a fresh root stack for every run in this process
    pulumi.runtime.set_mocks(mocks, project="llama-infra", stack="test", preview=preview, monitor=monitor)
    outputs: dict = {}

    @pulumi.runtime.test
    def program():
        ep = SageMakerLlamaEndpoint(spec.name, SageMakerLlamaEndpointArgs(spec, endpoint_name))
        return pulumi.Output.all(ep.endpoint_name, ep.endpoint_arn, ep.scaling_target_id,
                                 ep.dashboard_url).apply(lambda v: outputs.update(zip(
                                     ("endpoint_name", "endpoint_arn", "scaling_target_id", "dashboard_url"), v)))

    program()
    return Planned(monitor, mocks, outputs)
