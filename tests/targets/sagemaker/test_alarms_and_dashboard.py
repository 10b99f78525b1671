"""Given a classic or a scale-to-zero spec, the endpoint's alarms and dashboard watch the metrics SageMaker
publishes for that kind: `EndpointName, VariantName` on a variant; `InferenceComponentName` (the component the
endpoint registers) on an inference-component endpoint, with per-copy utilisation in
`/aws/sagemaker/InferenceComponents`. Pulumi mocks (preview and update), then botocore's model and moto's CloudWatch
for whether AWS accepts the alarms and the dashboard as rendered.
"""

from __future__ import annotations

import json

import boto3
import botocore.session
import pytest
from botocore.validate import ParamValidator
from moto import mock_aws

from llama_infra.targets.sagemaker.cloudwatch_metrics import EndpointMetrics

from .helpers import make_spec, run_component
from .test_aws_apis_accept import to_api

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
IC = "aws-native:sagemaker:InferenceComponent"
ROLES = ("p99-latency", "5xx-errors", "queue-depth")
ZERO = {
    "capacity": {"baseline": {"instance_type": "ml.g5.12xlarge", "count": 0}, "burst": {"max": 3}},
    "scaling": {"scale_to_zero": True, "min_replicas": 0},
}
VARIANT_DIMS = {"EndpointName": "llama-test", "VariantName": "AllTraffic"}


def _endpoint_alarms(planned) -> dict[str, dict]:
    return {role: planned.one(ALARM, f"llama-test-{role}-alarm").inputs for role in ROLES}


def _component_name(planned) -> str:
    return planned.one(IC).inputs["inferenceComponentName"]


def test_classic_alarms_watch_the_variant(preview):
    alarms = _endpoint_alarms(run_component(make_spec(), preview))
    for alarm in alarms.values():
        assert (alarm["namespace"], alarm["dimensions"]) == ("AWS/SageMaker", VARIANT_DIMS)
    assert alarms["queue-depth"]["metricName"] == "ConcurrentRequestsPerModel"


def test_scale_to_zero_alarms_watch_the_inference_component(preview):
    planned = run_component(make_spec(**ZERO), preview)
    component = _component_name(planned)
    assert component == "llama-test-model"
    alarms = _endpoint_alarms(planned)
    for alarm in alarms.values():
        assert (alarm["namespace"], alarm["dimensions"]) == ("AWS/SageMaker", {"InferenceComponentName": component})
    assert {r: a["metricName"] for r, a in alarms.items()} == {
        "p99-latency": "ModelLatency",
        "5xx-errors": "Invocation5XXErrors",
        "queue-depth": "ConcurrentRequestsPerCopy",
    }
    assert "per copy" in alarms["queue-depth"]["alarmDescription"]
    # every alarm of the endpoint, the wake-up alarm included, watches the component: none the model-less variant
    for alarm in planned.of_type(ALARM):
        assert alarm.inputs["dimensions"] == {"InferenceComponentName": component}, alarm.name
    # the deployment still rolls back on the latency and 5xx alarms, now the component's
    rollback = planned.one(ENDPOINT).inputs["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]
    assert {a["alarmName"] for a in rollback} == {alarms["p99-latency"]["name"], alarms["5xx-errors"]["name"]}


@pytest.mark.parametrize("kind", ["classic", "scale-to-zero"])
def test_queue_alarm_reads_the_documented_statistic_of_its_metric(preview, kind):
    """AWS lists only Min and Max for ConcurrentRequestsPerModel/-PerCopy: the alarm takes `queue_statistic`
    (Maximum), and every alarm's statistic is one AWS documents for its metric."""
    planned = run_component(make_spec(**ZERO) if kind == "scale-to-zero" else make_spec(), preview)
    alarms = _endpoint_alarms(planned)
    queue = alarms["queue-depth"]
    assert (queue["statistic"], queue["comparisonOperator"]) == ("Maximum", "GreaterThanThreshold")
    assert queue["threshold"] == 2 * 7  # the busiest model (copy) above twice the scaling target …
    assert (queue["period"], queue["evaluationPeriods"]) == (60, 5)  # … in every minute of five
    assert "Maximum" in queue["alarmDescription"]
    where = (
        EndpointMetrics.inference_component("llama-test", "AllTraffic", "llama-test-model")
        if kind == "scale-to-zero"
        else EndpointMetrics.variant("llama-test", "AllTraffic")
    )
    for alarm in alarms.values():
        stat = alarm.get("statistic") or alarm["extendedStatistic"]
        assert where.metric(alarm["metricName"]).accepts(stat), (alarm["metricName"], stat)


def test_dashboard_shows_the_queue_signal_with_the_same_statistic(preview):
    for spec in (make_spec(), make_spec(**ZERO)):
        rows = _rows(run_component(spec, preview))
        (queue,) = [r for r in rows if r[1].startswith("ConcurrentRequestsPer")]
        assert queue[-1] == {"stat": "Maximum"}


def test_an_alarm_on_an_undocumented_statistic_is_refused(monkeypatch):
    """The guard in `alarm_specs`: were the queue statistic Average again, planning would stop with the reason."""
    from llama_infra.targets.sagemaker import cloudwatch_metrics as endpoint_metrics
    from llama_infra.targets.sagemaker.components import alarms as alarms_module

    monkeypatch.setattr(endpoint_metrics, "QUEUE_STATISTIC", "Average")
    with pytest.raises(
        ValueError,
        match="alarm 'queue-depth': AWS documents no 'Average' statistic for "
        "ConcurrentRequestsPerModel \\(valid: Maximum, Minimum\\)",
    ):
        alarms_module.alarm_specs(make_spec(), EndpointMetrics.variant("llama-test", "AllTraffic"))


def test_an_explicit_endpoint_name_names_the_component_the_alarms_watch(preview):
    planned = run_component(make_spec(**ZERO), preview, endpoint_name="chat-prod")
    assert _component_name(planned) == "chat-prod-model"
    assert _endpoint_alarms(planned)["5xx-errors"]["dimensions"] == {"InferenceComponentName": "chat-prod-model"}


# --- the dashboard body ---------------------------------------------------------------------------------------------


def _rows(planned) -> list[list]:
    body = json.loads(planned.one(DASHBOARD).inputs["dashboardBody"])
    return [row for w in body["widgets"] for row in w["properties"]["metrics"]]


def _well_formed(row: list) -> tuple[str, str, dict[str, str]]:
    """A metrics-array entry as CloudWatch reads it: namespace, name, dimension name/value pairs, optional options."""
    *head, last = row
    parts = head if isinstance(last, dict) else row
    assert all(isinstance(p, str) and p for p in parts), row
    namespace, name, *dims = parts
    assert len(dims) % 2 == 0, row
    return namespace, name, dict(zip(dims[::2], dims[1::2], strict=True))


def test_classic_dashboard_is_the_variant_only(preview):
    rows = [_well_formed(r) for r in _rows(run_component(make_spec(), preview))]
    assert {ns for ns, _, _ in rows} == {"AWS/SageMaker", "/aws/sagemaker/Endpoints"}
    assert all(dims == VARIANT_DIMS for _, _, dims in rows)


def test_scale_to_zero_dashboard_reads_the_component_and_its_copies(preview):
    planned = run_component(make_spec(**ZERO), preview)
    component = {"InferenceComponentName": _component_name(planned)}
    rows = [_well_formed(r) for r in _rows(planned)]
    by_namespace: dict[str, set[str]] = {}
    for ns, name, dims in rows:
        by_namespace.setdefault(ns, set()).add(name)
        # instance metrics per endpoint + variant; everything about the model per component
        assert dims == (VARIANT_DIMS if ns == "/aws/sagemaker/Endpoints" else component), (ns, name, dims)
    assert by_namespace["AWS/SageMaker"] == {
        "Invocations",
        "Invocation4XXErrors",
        "Invocation5XXErrors",
        "NoCapacityInvocationFailures",
        "ModelLatency",
        "ConcurrentRequestsPerCopy",
    }
    assert by_namespace["/aws/sagemaker/InferenceComponents"] == {
        "CPUUtilizationNormalized",
        "MemoryUtilizationNormalized",
        "GPUUtilizationNormalized",
        "GPUMemoryUtilizationNormalized",
    }
    assert by_namespace["/aws/sagemaker/Endpoints"] == {
        "GPUReservation",
        "GPUUtilizationNormalized",
        "GPUMemoryUtilizationNormalized",
    }


# --- do CloudWatch's API model and moto accept them? ----------------------------------------------------------------


def _alarm_request(record) -> dict:
    request = to_api(record.inputs)
    for key in ("Region", "Tags"):
        request.pop(key, None)
    request["AlarmName"] = request.pop("Name", record.name)
    request["Dimensions"] = [{"Name": k, "Value": v} for k, v in request["Dimensions"].items()]
    request["TreatMissingData"] = record.inputs["treatMissingData"]
    return request


def test_cloudwatch_accepts_the_scale_to_zero_alarms_and_dashboard():
    planned = run_component(make_spec(**ZERO), preview=False)
    shape = botocore.session.get_session().get_service_model("cloudwatch").operation_model("PutMetricAlarm").input_shape
    requests = [_alarm_request(a) for a in planned.of_type(ALARM)]
    assert len(requests) == 4  # latency, 5xx, queue, wake-up
    for request in requests:
        report = ParamValidator().validate(request, shape)
        assert not report.has_errors(), report.generate_report()
        if "Statistic" in request:  # an enum: the validator does not check it
            assert request["Statistic"] in shape.members["Statistic"].enum
    dashboard = planned.one(DASHBOARD).inputs
    with mock_aws():
        cw = boto3.client("cloudwatch", region_name="us-east-1")
        for request in requests:
            cw.put_metric_alarm(**request)
        cw.put_dashboard(DashboardName=dashboard["dashboardName"], DashboardBody=dashboard["dashboardBody"])
        stored = {a["AlarmName"]: a for a in cw.describe_alarms()["MetricAlarms"]}
        body = json.loads(cw.get_dashboard(DashboardName="llama-test")["DashboardBody"])
    assert set(stored) >= {"llama-test-p99-latency", "llama-test-5xx-errors", "llama-test-queue-depth"}
    for alarm in stored.values():
        assert alarm["Dimensions"] == [{"Name": "InferenceComponentName", "Value": "llama-test-model"}]
    assert stored["llama-test-p99-latency"]["ExtendedStatistic"] == "p99"
    assert stored["llama-test-queue-depth"]["Statistic"] == "Maximum"
    assert body == json.loads(dashboard["dashboardBody"])


def test_the_dashboard_check_can_fail():
    """A row with a dangling dimension name (no value) is refused by the shape check above."""
    with pytest.raises(AssertionError):
        _well_formed(["AWS/SageMaker", "Invocations", "InferenceComponentName", {"stat": "Sum"}])
