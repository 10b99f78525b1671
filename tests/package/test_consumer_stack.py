"""examples/consumer-stack runs as a Pulumi program under mocks (preview and update): it imports the components
from `llama_infra`, reads the platform stack through a StackReference and passes the endpoint's outputs on."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

from llama_infra.plan.record import RecordingMocks, run_program

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "consumer-stack"
PLATFORM = "acme/platform/dev"
TOPIC = "arn:aws:sns:us-east-1:123456789012:oncall"


def run_consumer(preview: bool, stack_outputs: dict | None = None):
    outputs = (
        stack_outputs if stack_outputs is not None else {PLATFORM: {"alarmTopicArn": TOPIC, "appRoleName": "chat-app"}}
    )
    return run_program(
        lambda: runpy.run_path(str(EXAMPLE / "__main__.py"), run_name="__main__"),
        project="llama-consumer",
        stack="dev",
        preview=preview,
        config={"networkStack": PLATFORM},
        mocks=RecordingMocks(stack_outputs=outputs),
    )


@pytest.mark.parametrize("preview", [False, True])
def test_consumer_program_wires_stack_reference_and_component_outputs(preview: bool) -> None:
    run = run_consumer(preview)
    by_name = {r.name: r for r in run.resources}
    endpoint = next(r for r in run.resources if r.type == "aws:sagemaker/endpoint:Endpoint")
    assert endpoint.inputs["name"] == "chat-dev"  # endpoint_name passed to the component's args
    assert by_name["chat"].type == "llama-infra:index:SageMakerLlamaEndpoint"

    alarm = by_name["chat-5xx"].inputs
    assert alarm["dimensions"] == {"EndpointName": "chat-dev", "VariantName": "AllTraffic"}  # component output
    assert alarm["alarmActions"] == [TOPIC] == alarm["okActions"]  # the other stack's output

    policy = json.loads(by_name["chat-invoke"].inputs["policy"])
    (statement,) = policy["Statement"]
    assert statement["Resource"].startswith("arn:aws:sagemaker:us-east-1:") and statement["Resource"].endswith(
        "/chat-dev"
    )  # the endpoint's ARN
    assert by_name["chat-invoke-app"].inputs["role"] == "chat-app"

    assert run.exports["endpoint_name"] == "chat-dev"
    assert run.exports["endpoint_arn"] == statement["Resource"]
    assert set(run.exports) == {"endpoint_name", "endpoint_arn", "dashboard_url", "invoke_policy_arn"}


def test_missing_stack_output_fails_the_program() -> None:
    with pytest.raises(Exception, match="alarmTopicArn"):
        run_consumer(False, {PLATFORM: {"appRoleName": "chat-app"}})
