"""Given a spec, when the SageMaker component runs under Pulumi's mocks, then these resources with these inputs."""

from __future__ import annotations

import json

import botocore.session
import pytest

from llama_infra import catalog
from llama_infra.targets.sagemaker.components.role import RESOURCE_WILDCARD_ALLOWED
from llama_infra.targets.sagemaker.components.variant import storage

from .helpers import make_spec, policies_on_metrics_that_ignore_load, run_component

TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
MODEL = "aws:sagemaker/model:Model"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
COMPONENT = "llama-infra:index:SageMakerLlamaEndpoint"


def test_scaling_target_and_queue_policy(preview):
    planned = run_component(make_spec(), preview)
    target = planned.one(TARGET).inputs
    assert target["serviceNamespace"] == "sagemaker"
    assert target["resourceId"] == "endpoint/llama-test/variant/AllTraffic"
    assert target["scalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 5)  # baseline 2, + burst 3
    policy = planned.one(POLICY, "llama-test-queue-depth-policy").inputs
    assert policy["policyType"] == "TargetTrackingScaling"
    assert policy["resourceId"] == target["resourceId"]
    tracking = policy["targetTrackingScalingPolicyConfiguration"]
    assert (
        tracking["predefinedMetricSpecification"]["predefinedMetricType"]
        == "SageMakerVariantConcurrentRequestsPerModelHighResolution"
    )
    assert tracking["targetValue"] == 7
    assert (tracking["scaleOutCooldown"], tracking["scaleInCooldown"]) == (45, 420)


def test_dimension_and_metric_are_ones_application_auto_scaling_knows():
    model = botocore.session.get_session().get_service_model("application-autoscaling")
    from llama_infra.targets.sagemaker.components.autoscaling import QUEUE_METRIC
    from llama_infra.targets.sagemaker.scaling_target import ScalingTarget

    assert ScalingTarget.sagemaker_variant("e", "v").scalable_dimension in model.shape_for("ScalableDimension").enum
    assert (
        ScalingTarget.sagemaker_inference_component("c").scalable_dimension in model.shape_for("ScalableDimension").enum
    )
    assert QUEUE_METRIC in model.shape_for("MetricType").enum


@pytest.mark.parametrize("gpu_memory_target", [0.8, 0.95, None, "default"])
def test_the_queue_policy_is_the_variants_only_policy_whatever_gpu_memory_target(preview, gpu_memory_target):
    """GPU memory is allocation, not load, on SageMaker (`endpoint_metrics.PREALLOCATED_GPU_MEMORY`): an explicit
    target, the default or null all leave the queue policy alone on the variant."""
    scaling = {} if gpu_memory_target == "default" else {"gpu_memory_target": gpu_memory_target}
    planned = run_component(make_spec(scaling=scaling), preview)
    policies = planned.of_type(POLICY)
    assert [r.name for r in policies] == ["llama-test-queue-depth-policy"]
    assert policies_on_metrics_that_ignore_load(policies) == []
    # GPU memory stays an observation: the dashboard still graphs it
    body = json.loads(planned.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    assert "GPUMemoryUtilization" in {row[1] for w in body["widgets"] for row in w["properties"]["metrics"]}


def test_min_max_follow_explicit_scaling_bounds(preview):
    planned = run_component(make_spec(scaling={"min_replicas": 3, "max_replicas": 4}), preview)
    target = planned.one(TARGET).inputs
    assert (target["minCapacity"], target["maxCapacity"]) == (3, 4)


def test_instance_type_count_and_timeouts(preview):
    planned = run_component(make_spec(), preview)
    (variant,) = planned.one(CONFIG).inputs["productionVariants"]
    assert variant["instanceType"] == "ml.g5.12xlarge"
    assert variant["initialInstanceCount"] == 2
    assert variant["variantName"] == "AllTraffic"
    assert 60 <= variant["containerStartupHealthCheckTimeoutInSeconds"] <= 3600
    assert 60 <= variant["modelDataDownloadTimeoutInSeconds"] <= 3600


def test_bigger_model_gets_longer_startup_timeout(preview):
    small = run_component(make_spec(), preview).one(CONFIG).inputs["productionVariants"][0]
    big = run_component(
        make_spec(
            model={
                "id": "meta-llama/Llama-3.1-405B-Instruct",
                "params_b": 405,
                "precision": "fp8",
                "framework": "vllm",
            },
            capacity={"baseline": {"instance_type": "ml.p5.48xlarge"}},
        ),
        preview,
    )
    big_variant = big.one(CONFIG).inputs["productionVariants"][0]
    assert (
        big_variant["containerStartupHealthCheckTimeoutInSeconds"]
        > small["containerStartupHealthCheckTimeoutInSeconds"]
    )


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_tgi_image_for_the_region(preview, region):
    planned = run_component(make_spec(region=region), preview)
    image = planned.one(MODEL).inputs["primaryContainer"]["image"]
    assert image.startswith(f"763104351884.dkr.ecr.{region}.amazonaws.com/huggingface-pytorch-tgi-inference:")
    assert "tgi3.3.6" in image


@pytest.mark.parametrize("region", ["us-west-2", "ap-northeast-1"])
def test_lmi_image_for_the_region(preview, region):
    planned = run_component(make_spec(region=region, model={"framework": "vllm"}), preview)
    image = planned.one(MODEL).inputs["primaryContainer"]["image"]
    assert f".dkr.ecr.{region}.amazonaws.com/djl-inference:0.32.0-lmi14.0.0" in image


def test_tgi_env_matches_tensor_parallel_degree(preview):
    env = run_component(make_spec(), preview).one(MODEL).inputs["primaryContainer"]["environment"]
    gpus = catalog.lookup("ml.g5.12xlarge").gpu_count
    assert env["SM_NUM_GPUS"] == env["NUM_SHARD"] == str(gpus) == "4"
    assert env["HF_MODEL_ID"] == "/opt/ml/model"
    assert int(env["MAX_INPUT_TOKENS"]) < int(env["MAX_TOTAL_TOKENS"]) == 4096


def test_vllm_env_on_lmi_matches_tensor_parallel_degree(preview):
    spec = make_spec(
        model={"id": "meta-llama/Llama-3.1-70B-Instruct", "params_b": 70, "precision": "fp16", "framework": "vllm"},
        capacity={"baseline": {"instance_type": "ml.p4d.24xlarge"}},
    )
    env = run_component(spec, preview).one(MODEL).inputs["primaryContainer"]["environment"]
    assert env["OPTION_ROLLING_BATCH"] == "vllm"
    assert env["OPTION_TENSOR_PARALLEL_DEGREE"] == "8"
    assert env["OPTION_MAX_MODEL_LEN"] == "4096"
    assert env["OPTION_DTYPE"] == "fp16"


def test_awq_on_lmi_loads_the_checkpoint_with_its_own_quantization(preview):
    """OPTION_QUANTIZE=awq would make LMI's vLLM skip its awq_marlin kernels: the checkpoint's config says awq."""
    spec = make_spec(
        model={"id": "meta-llama/Llama-3.1-70B-Instruct", "params_b": 70, "precision": "awq", "framework": "lmi"},
        capacity={"baseline": {"instance_type": "ml.g6e.12xlarge"}},
    )
    env = run_component(spec, preview).one(MODEL).inputs["primaryContainer"]["environment"]
    assert "OPTION_QUANTIZE" not in env
    assert "OPTION_DTYPE" not in env


def test_weights_from_uncompressed_s3_prefix(preview):
    container = run_component(make_spec(), preview).one(MODEL).inputs["primaryContainer"]
    (source,) = container["modelDataSource"]["s3DataSources"]
    assert source == {"s3Uri": "s3://weights-bucket/llama-3.1-8b/", "s3DataType": "S3Prefix", "compressionType": "None"}
    assert "modelDataUrl" not in container


def test_hf_token_comes_from_the_secret_not_a_literal(preview):
    spec = make_spec(
        model={"weights": {"source": "hf://meta-llama/Llama-3.1-8B-Instruct", "hf_token_secret": "llama/hf-token"}}
    )
    planned = run_component(spec, preview)
    container = planned.one(MODEL).inputs["primaryContainer"]
    assert "modelDataSource" not in container
    assert container["environment"]["HF_MODEL_ID"] == "meta-llama/Llama-3.1-8B-Instruct"
    assert container["environment"]["HF_TOKEN"] == "<secret llama/hf-token>"  # the offline mock's placeholder
    assert planned.one(MODEL).secret_inputs == ["primaryContainer"]  # a Pulumi secret: encrypted, masked
    assert ("aws:secretsmanager/getSecretVersion:getSecretVersion", {"secretId": "llama/hf-token"}) in [
        (t, {k: v for k, v in a.items() if k == "secretId"}) for t, a in planned.calls
    ]


def test_no_kms_key_and_no_volume_on_nvme_types(preview):
    spec = make_spec(sagemaker={"kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/abcd"})
    planned = run_component(spec, preview)
    config = planned.one(CONFIG).inputs
    assert catalog.lookup("ml.g5.12xlarge").has_nvme
    assert "kmsKeyArn" not in config
    assert "volumeSizeInGb" not in config["productionVariants"][0]


def test_volume_and_kms_only_without_instance_storage():
    ebs_only = catalog.GpuInstance("g9.test", "T", 1, 24.0, 8, 32.0, instance_storage_gb=0.0)
    nvme = catalog.lookup("g6e.xlarge")
    assert storage(ebs_only, 16.0, "arn:aws:kms:us-east-1:1:key/k") == (50, "arn:aws:kms:us-east-1:1:key/k")
    assert storage(nvme, 16.0, "arn:aws:kms:us-east-1:1:key/k") == (None, None)


def test_endpoint_blue_green_with_rollback_on_alarms(preview):
    planned = run_component(make_spec(), preview)
    endpoint = planned.one(ENDPOINT).inputs
    assert endpoint["name"] == "llama-test"
    deployment = endpoint["deploymentConfig"]
    routing = deployment["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    assert routing["type"] == "CANARY" and routing["canarySize"] == {"type": "INSTANCE_COUNT", "value": 1}
    rollback = {a["alarmName"] for a in deployment["autoRollbackConfiguration"]["alarms"]}
    assert rollback == {"llama-test-p99-latency", "llama-test-5xx-errors"}
    alarm_names = {r.inputs["name"] for r in planned.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert rollback < alarm_names and "llama-test-queue-depth" in alarm_names


def test_single_instance_shifts_all_at_once(preview):
    planned = run_component(make_spec(capacity={"baseline": {"count": 1}}), preview)
    routing = planned.one(ENDPOINT).inputs["deploymentConfig"]["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    assert routing["type"] == "ALL_AT_ONCE" and "canarySize" not in routing


def test_latency_alarm_uses_the_slo(preview):
    planned = run_component(make_spec(slo={"ttft_p99_ms": 750}), preview)
    alarm = planned.one("aws:cloudwatch/metricAlarm:MetricAlarm", "llama-test-p99-latency-alarm").inputs
    assert (alarm["metricName"], alarm["extendedStatistic"], alarm["threshold"]) == ("ModelLatency", "p99", 750_000)
    assert alarm["dimensions"] == {"EndpointName": "llama-test", "VariantName": "AllTraffic"}


def _statements(planned) -> list[dict]:
    return json.loads(planned.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])["Statement"]


def test_role_policy_has_no_wildcard_actions(preview):
    for statement in _statements(run_component(make_spec(), preview)):
        assert all("*" not in action for action in statement["Action"]), statement
        if statement["Resource"] == "*" or "*" in statement["Resource"]:
            assert set(statement["Action"]) <= RESOURCE_WILDCARD_ALLOWED, statement


def test_role_reads_only_the_weights_prefix_and_logs_of_its_endpoint(preview):
    statements = {s["Sid"]: s for s in _statements(run_component(make_spec(), preview, endpoint_name="ep-1"))}
    reads = [s for s in statements.values() if s["Action"] == ["s3:GetObject"]]
    assert [s["Resource"] for s in reads] == [["arn:aws:s3:::weights-bucket/llama-3.1-8b/*"]]
    (listing,) = [s for s in statements.values() if s["Action"] == ["s3:ListBucket"]]
    assert listing["Condition"]["StringLike"]["s3:prefix"] == ["llama-3.1-8b/", "llama-3.1-8b/*"]
    assert statements["WriteLogs"]["Resource"][0].endswith(":log-group:/aws/sagemaker/Endpoints/ep-1")
    assert statements["PullImage"]["Resource"] == [
        "arn:aws:ecr:us-east-1:763104351884:repository/huggingface-pytorch-tgi-inference"
    ]
    assert "ReadHfToken" not in statements
    assert statements["PutMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}
    }


def test_role_may_read_the_token_secret_only_when_set(preview):
    spec = make_spec(
        model={"weights": {"source": "hf://meta-llama/Llama-3.1-8B-Instruct", "hf_token_secret": "llama/hf-token"}}
    )
    statements = {s["Sid"]: s for s in _statements(run_component(spec, preview))}
    assert statements["ReadHfToken"]["Resource"] == [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:llama/hf-token-??????"
    ]
    assert not any(s["Action"] == ["s3:GetObject"] for s in statements.values())


def test_children_are_parented_and_named_after_the_component(preview):
    planned = run_component(make_spec(), preview)
    component = planned.one(COMPONENT)
    children = [r for r in planned.records if r is not component]
    assert len(children) >= 10
    for r in children:
        assert r.parent_urn == component.urn, r.name
        assert r.name.startswith("llama-test-"), r.name


def test_outputs_are_registered(preview):
    planned = run_component(make_spec(), preview)
    registered = planned.component_outputs[planned.one(COMPONENT).urn]
    assert set(registered) == {"endpoint_name", "endpoint_arn", "scaling_target_id", "dashboard_url"}
    assert planned.outputs["scaling_target_id"] == "endpoint/llama-test/variant/AllTraffic"
    assert planned.outputs["endpoint_name"] == "llama-test"
    assert planned.outputs["dashboard_url"].endswith("#dashboards:name=llama-test")


def test_schedules_leave_min_max_to_the_scheduled_actions(preview):
    windowless = run_component(make_spec(), preview).one(TARGET)
    assert windowless.ignore_changes == []
    spec = make_spec(
        schedules=[
            {
                "name": "overnight",
                "timezone": "America/New_York",
                "start": "0 22 * * *",
                "end": "0 7 * * *",
                "downsize": {"min_replicas": 1, "max_replicas": 2},
            }
        ]
    )
    target = run_component(spec, preview).one(TARGET)
    assert sorted(target.ignore_changes) == ["maxCapacity", "minCapacity"]


def test_policy_waits_for_the_target_and_target_for_the_endpoint(preview):
    planned = run_component(make_spec(), preview)
    endpoint, target = planned.one(ENDPOINT), planned.one(TARGET)
    assert endpoint.urn in target.depends_on
    assert target.urn in planned.one(POLICY, "llama-test-queue-depth-policy").depends_on


def test_committed_image_table_matches_sagemaker_core():
    """`llama_infra/data/sagemaker_images.json` is what `image_uris.retrieve` returns for the pinned versions."""
    from llama_infra.targets.sagemaker.components.image import committed_images, generate_images

    assert generate_images()["images"] == committed_images(), (
        "stale: run `python -m llama_infra.targets.sagemaker.components.image`"
    )


def test_tensorrt_llm_uses_the_djl_tensorrtllm_image_and_trtllm_backend(preview):
    planned = run_component(make_spec(model={"framework": "tensorrt-llm", "precision": "fp16"}), preview)
    container = planned.one(MODEL).inputs["primaryContainer"]
    assert "/djl-inference:0.33.0-tensorrtllm" in container["image"]
    env = container["environment"]
    assert (env["OPTION_ROLLING_BATCH"], env["OPTION_TENSOR_PARALLEL_DEGREE"]) == ("trtllm", "4")
    assert int(env["OPTION_MAX_INPUT_LEN"]) < int(env["OPTION_MAX_OUTPUT_LEN"]) == 4096
