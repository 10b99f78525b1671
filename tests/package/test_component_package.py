"""components/ as a Pulumi component package: the schema the provider host serves, and LlamaDeployment itself.

The schema is generated the way `component_provider_host` does it when Pulumi asks (`ComponentProvider`
analyses the classes' type hints and docstrings); no Pulumi CLI is involved.
"""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from llama_infra.plan.record import run_program

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "components"
DEV_SPEC = (Path(__file__).resolve().parents[2] / "stacks" / "specs" / "dev.yaml").read_text()


@pytest.fixture(scope="module")
def entry_point() -> dict:
    sys.path.insert(0, str(PACKAGE_DIR))
    try:
        yield runpy.run_path(str(PACKAGE_DIR / "__main__.py"), run_name="llama_infra_package_entry")
    finally:
        sys.path.remove(str(PACKAGE_DIR))


@pytest.fixture(scope="module")
def schema(entry_point: dict) -> dict:
    from pulumi.provider.experimental.component import ComponentProvider

    provider = ComponentProvider(entry_point["COMPONENTS"], entry_point["PACKAGE_NAME"], None, "0.1.0")
    return json.loads(provider.schema)


def test_plugin_manifest_runs_the_python_entry_point() -> None:
    manifest = YAML(typ="safe").load((PACKAGE_DIR / "PulumiPlugin.yaml").read_text())
    assert manifest["runtime"]["name"] == "python"
    assert "component_provider_host(" in (PACKAGE_DIR / "__main__.py").read_text()


def test_schema_names_every_component_with_typed_documented_inputs_and_outputs(entry_point: dict, schema: dict):
    assert schema["name"] == "llama-infra"
    tokens = {f"llama-infra:index:{c.__name__}" for c in entry_point["COMPONENTS"]}
    assert set(schema["resources"]) == tokens
    for token, resource in schema["resources"].items():
        assert resource["isComponent"] and resource.get("description"), token
        for kind in ("inputProperties", "properties"):
            assert resource[kind], (token, kind)
            for prop_name, prop in resource[kind].items():
                assert prop.get("type") or prop.get("$ref"), (token, prop_name)
                assert prop.get("description"), (token, prop_name)


def test_llama_deployment_schema(schema: dict) -> None:
    deployment = schema["resources"]["llama-infra:index:LlamaDeployment"]
    inputs = {k: v["type"] for k, v in deployment["inputProperties"].items()}
    assert inputs == {
        "specYaml": "string",
        "environment": "string",
        "region": "string",
        "minReplicas": "integer",
        "maxReplicas": "integer",
        "endpointName": "string",
        "tags": "object",
    }
    assert deployment["inputProperties"]["tags"]["additionalProperties"]["type"] == "string"
    assert deployment["requiredInputs"] == ["specYaml"]
    assert deployment["inputProperties"]["specYaml"]["plain"] is True  # decides which resources exist
    outputs = {k: v["type"] for k, v in deployment["properties"].items()}
    assert outputs == {
        "target": "string",
        "specName": "string",
        "endpointName": "string",
        "endpointArn": "string",
        "dashboardUrl": "string",
        "baselineInstanceType": "string",
        "minReplicas": "integer",
        "maxReplicas": "integer",
        "costPerMonthUsd": "number",
    }
    assert "endpointArn" not in deployment["required"] and "endpointName" in deployment["required"]


@pytest.mark.parametrize("preview", [False, True])
def test_llama_deployment_delegates_to_the_sagemaker_component(entry_point: dict, preview: bool) -> None:
    LlamaDeployment = entry_point["LlamaDeployment"]
    from llama_infra.spec import parse_spec
    from llama_infra.targets import cost_report

    run = run_program(
        lambda: LlamaDeployment(
            "chat",
            {
                "spec_yaml": DEV_SPEC,
                "endpoint_name": "chat-prod",
                "region": "us-west-2",
                "max_replicas": 1,
                "tags": {"owner": "search"},
            },
        ),
        preview=preview,
    )
    by_type = {r.type: r for r in run.resources}
    wrapper = by_type["llama-infra:index:LlamaDeployment"]
    inner = by_type["llama-infra:index:SageMakerLlamaEndpoint"]
    assert inner.parent_urn == wrapper.urn
    endpoint = by_type["aws:sagemaker/endpoint:Endpoint"].inputs
    assert endpoint["name"] == "chat-prod"
    assert endpoint["tags"] == {"team": "ml-platform", "cost-center": "ml-dev", "owner": "search"}
    assert endpoint["region"] == "us-west-2"
    assert by_type["aws:appautoscaling/target:Target"].inputs["maxCapacity"] == 1
    overridden = parse_spec(
        DEV_SPEC.replace("region: us-east-1", "region: us-west-2").replace(
            "scaling:\n", "scaling:\n  max_replicas: 1\n"
        )
    )
    outputs = run.component_outputs[wrapper.urn]
    assert outputs["target"] == "sagemaker" and outputs["endpoint_name"] == "chat-prod"
    assert outputs["endpoint_arn"].endswith("/chat-prod") and outputs["max_replicas"] == 1
    assert outputs["cost_per_month_usd"] == cost_report(overridden).cost_per_month_usd


def test_invalid_spec_is_an_input_error_on_spec_yaml(entry_point: dict) -> None:
    from pulumi.errors import InputPropertyError

    LlamaDeployment = entry_point["LlamaDeployment"]
    with pytest.raises(InputPropertyError) as e:
        run_program(lambda: LlamaDeployment("chat", {"spec_yaml": DEV_SPEC.replace("count: 1", "count: -1")}))
    assert "LlamaDeployment 'chat' specYaml: 1 problem" in str(e.value)
    assert "capacity.baseline.count" in str(e.value)


def test_llama_deployment_on_eks_exposes_the_service(entry_point: dict) -> None:
    LlamaDeployment = entry_point["LlamaDeployment"]
    eks_spec = (Path(__file__).resolve().parents[1] / "data" / "good-specs" / "eks-70b-spot.yaml").read_text()
    run = run_program(lambda: LlamaDeployment("chat", {"spec_yaml": eks_spec}), preview=True)
    by_type = {r.type: r for r in run.resources}
    wrapper = by_type["llama-infra:index:LlamaDeployment"]
    assert by_type["llama-infra:index:EksLlamaDeployment"].parent_urn == wrapper.urn
    services = {r.inputs["metadata"]["name"] for r in run.resources if r.type == "kubernetes:core/v1:Service"}
    outputs = run.component_outputs[wrapper.urn]
    # The spec has a fallback: clients call the overflow router's Service, which fronts the model's.
    assert outputs["target"] == "eks" and outputs["endpoint_name"] == "llama-70b-eks-router"
    assert {"llama-70b-eks", "llama-70b-eks-router"} <= services
    assert "endpoint_arn" not in outputs  # SageMaker only


def test_spec_yaml_from_another_resource_is_refused_with_a_reason(entry_point: dict) -> None:
    import pulumi
    from pulumi.errors import InputPropertyError

    LlamaDeployment = entry_point["LlamaDeployment"]
    with pytest.raises(InputPropertyError, match="known when the program runs"):
        run_program(lambda: LlamaDeployment("chat", {"spec_yaml": pulumi.Output.from_input(DEV_SPEC)}))
