"""What the workflow reads before it changes anything: endpoint configuration, scalable target and policies."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SERVICE_NAMESPACE = "sagemaker"
VARIANT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
_POLICY_CONFIG_KEYS = {
    "TargetTrackingScaling": "TargetTrackingScalingPolicyConfiguration",
    "StepScaling": "StepScalingPolicyConfiguration",
    "PredictiveScaling": "PredictiveScalingPolicyConfiguration",
}


INVOCATIONS_NAMESPACE = "AWS/SageMaker"  # the endpoint's invocation metrics, one datapoint per minute with traffic


def invocations_per_second(
    cloudwatch: Any, endpoint_name: str, variant_name: str, window_s: float, now: float
) -> float:
    """Requests per second the variant served over the `window_s` before the last complete minute (CloudWatch
    `Invocations`, Sum per minute: a minute without requests has no datapoint, so the missing ones count as 0)."""
    from datetime import UTC, datetime

    end = (int(now) // 60) * 60  # the minute in progress is not complete yet
    start = end - int(window_s)
    out = cloudwatch.get_metric_statistics(
        Namespace=INVOCATIONS_NAMESPACE,
        MetricName="Invocations",
        Dimensions=[{"Name": "EndpointName", "Value": endpoint_name}, {"Name": "VariantName", "Value": variant_name}],
        StartTime=datetime.fromtimestamp(start, UTC),
        EndTime=datetime.fromtimestamp(end, UTC),
        Period=60,
        Statistics=["Sum"],
    )
    return sum(float(d["Sum"]) for d in out.get("Datapoints", [])) / max(1.0, float(end - start))


def variant_resource_id(endpoint_name: str, variant_name: str) -> str:
    """Application Auto Scaling's resource id of a production variant."""
    return f"endpoint/{endpoint_name}/variant/{variant_name}"


@dataclass(frozen=True)
class ScalableTarget:
    min_capacity: int
    max_capacity: int


@dataclass(frozen=True)
class EndpointState:
    """The endpoint as found: its configuration and status, the variant's scalable target and scaling policies."""

    endpoint_config_name: str
    status: str
    target: ScalableTarget | None
    policies: list[dict[str, Any]] = field(default_factory=list)
    failure_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EndpointState:
        target = data.get("target")
        return cls(
            data["endpoint_config_name"],
            data["status"],
            ScalableTarget(**target) if target else None,
            list(data.get("policies") or []),
            data.get("failure_reason"),
        )


def policy_request(policy: dict[str, Any]) -> dict[str, Any]:
    """The PutScalingPolicy fields of a policy (DescribeScalingPolicies adds ARNs, alarms and timestamps)."""
    kind = policy.get("PolicyType", "TargetTrackingScaling")
    key = _POLICY_CONFIG_KEYS[kind]
    return {"PolicyName": policy["PolicyName"], "PolicyType": kind, key: policy[key]}


def policies_match(wanted: list[dict[str, Any]], current: list[dict[str, Any]]) -> bool:
    """Same policy names, and every field we ask for has the value we ask for (AWS may add defaults)."""
    by_name = {p["PolicyName"]: p for p in current}
    if set(by_name) != {p["PolicyName"] for p in wanted}:
        return False
    return all(_contains(by_name[p["PolicyName"]], policy_request(p)) for p in wanted)


def _contains(have: Any, want: Any) -> bool:
    if isinstance(want, dict):
        return isinstance(have, dict) and all(k in have and _contains(have[k], v) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and len(have) == len(want) and all(map(_contains, have, want))
    if isinstance(want, (int, float)) and isinstance(have, (int, float)):
        return float(have) == float(want)
    return have == want


class EndpointMissing(LookupError):
    """DescribeEndpoint says the endpoint does not exist (deleted, or never created)."""


def record(sagemaker: Any, autoscaling: Any, endpoint_name: str, variant_name: str) -> EndpointState:
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=endpoint_name)
    except Exception as e:  # noqa: BLE001 - SageMaker answers ValidationException "Could not find endpoint"
        if "Could not find endpoint" in str(e):
            raise EndpointMissing(f"endpoint {endpoint_name} does not exist: {e}") from e
        raise
    resource_id = variant_resource_id(endpoint_name, variant_name)
    targets = autoscaling.describe_scalable_targets(
        ServiceNamespace=SERVICE_NAMESPACE, ResourceIds=[resource_id], ScalableDimension=VARIANT_DIMENSION
    )["ScalableTargets"]
    policies: list[dict[str, Any]] = []
    token = None
    while True:
        page = autoscaling.describe_scaling_policies(
            ServiceNamespace=SERVICE_NAMESPACE,
            ResourceId=resource_id,
            ScalableDimension=VARIANT_DIMENSION,
            **({"NextToken": token} if token else {}),
        )
        policies += [policy_request(p) for p in page["ScalingPolicies"] if p["ResourceId"] == resource_id]
        token = page.get("NextToken")
        if not token:
            break
    target = ScalableTarget(targets[0]["MinCapacity"], targets[0]["MaxCapacity"]) if targets else None
    return EndpointState(
        endpoint["EndpointConfigName"],
        endpoint["EndpointStatus"],
        target,
        sorted(policies, key=lambda p: p["PolicyName"]),
        endpoint.get("FailureReason"),
    )
