"""`EndpointMetrics`: the namespace and dimensions of each SageMaker metric, per endpoint kind (AWS's
"Amazon SageMaker AI metrics in Amazon CloudWatch" tables), and the refusal of names a kind does not publish."""

from __future__ import annotations

import pytest

from llama_infra.targets.sagemaker.cloudwatch_metrics import EndpointMetrics, Metric

VARIANT = EndpointMetrics.variant("chat", "AllTraffic")
COMPONENT = EndpointMetrics.inference_component("chat", "AllTraffic", "chat-model")
VARIANT_DIMS = (("EndpointName", "chat"), ("VariantName", "AllTraffic"))
COMPONENT_DIMS = (("InferenceComponentName", "chat-model"),)


@pytest.mark.parametrize("name", ["Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "ModelLatency"])
def test_invocation_metrics_are_per_variant_or_per_component(name):
    assert VARIANT.metric(name) == Metric("AWS/SageMaker", name, VARIANT_DIMS)
    assert COMPONENT.metric(name) == Metric("AWS/SageMaker", name, COMPONENT_DIMS)


def test_the_queue_signal_is_per_model_on_a_variant_and_per_copy_on_a_component():
    assert VARIANT.metric(VARIANT.queue_metric_name) == Metric(
        "AWS/SageMaker", "ConcurrentRequestsPerModel", VARIANT_DIMS
    )
    assert COMPONENT.metric(COMPONENT.queue_metric_name) == Metric(
        "AWS/SageMaker", "ConcurrentRequestsPerCopy", COMPONENT_DIMS
    )
    assert COMPONENT.metric("NoCapacityInvocationFailures").dimension_map == {"InferenceComponentName": "chat-model"}


def test_utilisation_is_the_instances_on_a_variant_and_the_copies_on_a_component():
    assert VARIANT.metric("GPUMemoryUtilization") == Metric(
        "/aws/sagemaker/Endpoints", "GPUMemoryUtilization", VARIANT_DIMS
    )
    assert COMPONENT.metric("GPUMemoryUtilizationNormalized") == Metric(
        "/aws/sagemaker/InferenceComponents", "GPUMemoryUtilizationNormalized", COMPONENT_DIMS
    )
    # the instances under a component endpoint still report per endpoint and variant
    assert COMPONENT.instance_metric("GPUMemoryUtilizationNormalized") == Metric(
        "/aws/sagemaker/Endpoints", "GPUMemoryUtilizationNormalized", VARIANT_DIMS
    )
    assert COMPONENT.instance_metric("GPUReservation").namespace == "/aws/sagemaker/Endpoints"


@pytest.mark.parametrize(
    ("where", "name", "level"),
    [
        (VARIANT, "ConcurrentRequestsPerCopy", "model"),  # a variant has no copies
        (VARIANT, "NoCapacityInvocationFailures", "model"),
        (VARIANT, "GPUMemoryUtilizationNormalized", "model"),  # only on endpoints hosting inference components
        (VARIANT, "GPUReservation", "instance"),
        (COMPONENT, "ConcurrentRequestsPerModel", "model"),  # the component's queue signal is per copy
        (COMPONENT, "GPUMemoryUtilization", "model"),  # summed over an instance's GPUs: not the copy's own metric
        (COMPONENT, "Invocation5xxErrors", "model"),  # a typo CloudWatch would accept and never fire on
        (COMPONENT, "MemoryUtilizationNormalized", "instance"),  # per copy only
    ],
)
def test_a_metric_the_kind_does_not_publish_is_refused(where, name, level):
    lookup = where.metric if level == "model" else where.instance_metric
    with pytest.raises(ValueError, match=f"SageMaker publishes no {level} metric '{name}' for "):
        lookup(name)


def test_renderings_keep_the_dimension_order():
    m = VARIANT.metric("ModelLatency")
    assert m.dimension_map == {"EndpointName": "chat", "VariantName": "AllTraffic"}
    assert m.api_dimensions == [
        {"Name": "EndpointName", "Value": "chat"},
        {"Name": "VariantName", "Value": "AllTraffic"},
    ]
    assert m.dashboard_row({"stat": "p99"}) == [
        "AWS/SageMaker",
        "ModelLatency",
        "EndpointName",
        "chat",
        "VariantName",
        "AllTraffic",
        {"stat": "p99"},
    ]
    assert COMPONENT.metric("GPUUtilizationNormalized").dashboard_row() == [
        "/aws/sagemaker/InferenceComponents",
        "GPUUtilizationNormalized",
        "InferenceComponentName",
        "chat-model",
    ]


def test_a_component_endpoint_needs_the_component_name():
    with pytest.raises(ValueError, match="needs the component's name"):
        EndpointMetrics.inference_component("chat", "AllTraffic", "")


# --- statistics AWS documents per metric ("Valid statistics" in the same tables) -------------------------------------


def test_the_queue_signal_has_only_min_and_max_so_alarms_read_it_as_maximum():
    for where in (VARIANT, COMPONENT):
        queue = where.metric(where.queue_metric_name)
        assert queue.valid_statistics == {"Minimum", "Maximum"}
        assert not queue.accepts("Average")  # what the queue alarm used before: not a documented statistic
        assert where.queue_statistic == "Maximum" and queue.accepts(where.queue_statistic)


@pytest.mark.parametrize(
    ("name", "statistic", "accepted"),
    [
        ("ModelLatency", "p99", True),  # "Percentiles"
        ("ModelLatency", "p99.9", True),
        ("ModelLatency", "Average", True),
        ("Invocations", "Sum", True),
        ("Invocations", "Average", False),  # "Valid statistics: Sum"
        ("Invocations", "p99", False),
        ("Invocation5XXErrors", "Sum", True),
        ("Invocation5XXErrors", "Maximum", False),
        ("InvocationsPerInstance", "Average", False),
    ],
)
def test_documented_statistics_are_accepted_and_others_refused(name, statistic, accepted):
    assert VARIANT.metric(name).accepts(statistic) is accepted


def test_a_metric_without_documented_statistics_accepts_any():
    """The utilisation metrics list units, not statistics: Average (AWS's target-tracking examples) is allowed."""
    gpu = COMPONENT.metric("GPUMemoryUtilizationNormalized")
    assert gpu.valid_statistics is None and gpu.accepts("Average")


def test_gpu_memory_is_allocation_not_load_on_every_kind_and_level():
    """The fact behind SageMaker's single scaling signal: GPU memory (variant, copy, instances) does not follow the
    load, because the servers allocate ~90 % of it at start; the queue and the other utilisations do."""
    gpu_memory = [
        VARIANT.metric("GPUMemoryUtilization"),
        COMPONENT.metric("GPUMemoryUtilizationNormalized"),
        COMPONENT.instance_metric("GPUMemoryUtilization"),
        COMPONENT.instance_metric("GPUMemoryUtilizationNormalized"),
    ]
    assert [m.follows_load for m in gpu_memory] == [False] * 4
    load = [
        VARIANT.metric(VARIANT.queue_metric_name),
        COMPONENT.metric(COMPONENT.queue_metric_name),
        VARIANT.metric("GPUUtilization"),
        COMPONENT.metric("GPUUtilizationNormalized"),
        VARIANT.metric("Invocations"),
    ]
    assert all(m.follows_load for m in load)


def test_the_reason_quotes_the_servers_pre_allocated_fraction_the_simulator_uses():
    """One number in two places must agree: vLLM's default gpu_memory_utilization (the simulator's KV-cache
    budget) is the fraction the reason says GPU memory sits at."""
    from llama_infra.sim.replica_model import GPU_MEMORY_UTILIZATION
    from llama_infra.targets.sagemaker.cloudwatch_metrics import GPU_MEMORY_NOT_A_SCALING_SIGNAL

    assert f"gpu_memory_utilization defaults to {GPU_MEMORY_UTILIZATION:g}" in GPU_MEMORY_NOT_A_SCALING_SIGNAL
    assert f"~{GPU_MEMORY_UTILIZATION:.0%}".replace("%", " %") in GPU_MEMORY_NOT_A_SCALING_SIGNAL
