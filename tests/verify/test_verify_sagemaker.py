"""SageMaker adapters against moto (endpoint, scalable target, runtime) and botocore's Stubber (scaling
activities, which moto does not implement): the same API shapes the real services return."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from llama_infra.verify.load import SageMakerLoadTarget
from llama_infra.verify.sagemaker import VARIANT_DIMENSION, SageMakerVariantScaler
from llama_infra.verify.scaler import ScalerError


@pytest.fixture
def aws():
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
        sagemaker = session.client("sagemaker")
        sagemaker.create_model(
            ModelName="llama",
            ExecutionRoleArn="arn:aws:iam::123456789012:role/sagemaker",
            PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/lmi:1"},
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName="llama-config",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "llama",
                    "InitialInstanceCount": 2,
                    "InstanceType": "ml.g4dn.12xlarge",
                }
            ],
        )
        sagemaker.create_endpoint(EndpointName="llama", EndpointConfigName="llama-config")
        yield session


def register(session, min_capacity: int) -> None:
    session.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId="endpoint/llama/variant/AllTraffic",
        ScalableDimension=VARIANT_DIMENSION,
        MinCapacity=min_capacity,
        MaxCapacity=8,
    )


async def test_variant_counts_and_minimum(aws):
    register(aws, min_capacity=2)
    scaler = SageMakerVariantScaler("llama", "AllTraffic", aws)
    assert await scaler.min_replicas() == 2
    counts = await scaler.replicas()
    assert (counts.desired, counts.current) == (2, 2)


async def test_unregistered_variant_and_wrong_variant_name_are_explained(aws):
    with pytest.raises(ScalerError, match="not registered with Application Auto Scaling; nothing scales it"):
        await SageMakerVariantScaler("llama", "AllTraffic", aws).min_replicas()
    with pytest.raises(ScalerError, match=r"endpoint llama has no variant 'Blue' \(it has \['AllTraffic'\]\)"):
        await SageMakerVariantScaler("llama", "Blue", aws).replicas()


async def test_scaling_activities_become_events_since_the_start(aws):
    scaler = SageMakerVariantScaler("llama", "AllTraffic", aws)
    now = datetime.now(UTC)
    activity = {
        "ActivityId": "a1",
        "ServiceNamespace": "sagemaker",
        "ResourceId": scaler.resource_id,
        "ScalableDimension": VARIANT_DIMENSION,
        "Cause": "alarm high",
        "StatusCode": "Successful",
    }
    stub = Stubber(scaler._autoscaling)
    stub.add_response(
        "describe_scaling_activities",
        {
            "ScalingActivities": [
                activity | {"StartTime": now + timedelta(seconds=20), "Description": "Setting desired count to 4."},
                activity | {"StartTime": now - timedelta(hours=1), "Description": "Setting desired count to 2."},
            ]
        },
        {"ServiceNamespace": "sagemaker", "ResourceId": scaler.resource_id, "ScalableDimension": VARIANT_DIMENSION},
    )
    with stub:
        events = await scaler.events(now)
    assert [(e.reason, e.message) for e in events] == [("Successful", "Setting desired count to 4.")]


async def test_invoke_endpoint_load_target_reports_status(aws):
    target = SageMakerLoadTarget("llama", {"inputs": "hi"}, 5, 2, aws)
    try:
        assert await target.send() == (200, "")
        stub = Stubber(target._client)
        stub.add_client_error("invoke_endpoint", "ModelError", "model failed", http_status_code=424)
        stub.add_client_error("invoke_endpoint", "ServiceUnavailable", "no capacity", http_status_code=503)
        with stub:
            model_error = await target.send()
            unavailable = await target.send()
    finally:
        await target.close()
    assert model_error == (424, "")  # the model's own 4xx answer: not a scaling failure
    assert unavailable[0] == 503 and "ServiceUnavailable" in unavailable[1]
