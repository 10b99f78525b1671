"""Overnight vertical downsizing of a SageMaker endpoint: the workflow that runs in AWS Lambda.

Changing the instance type of an autoscaled variant fails unless its scaling policies are deleted and its scalable
target deregistered first. `transition` does that safely and idempotently:

    record state → (no-op if already wanted) → delete policies → deregister target → UpdateEndpoint (blue/green)
    → wait for InService → register target with the new min/max → attach the policies

and on a failure at any step restores the recorded target and policies (the endpoint keeps serving on whichever
configuration SageMaker left InService), then raises the `llama-infra/Downsizing TransitionFailed` metric (an alarm
watches it) and publishes to SNS when configured.

This package is shipped to Lambda on its own (see `SageMakerDownsizing`), so it imports only the standard library and
boto3, and only relatively: it runs both as `llama_infra.downsizing` and as a top-level `downsizing` package.
"""

from .alarm import METRIC_NAME, METRIC_NAMESPACE
from .state import EndpointState, ScalableTarget, variant_resource_id
from .workflow import Outcome, TransitionFailed, transition

__all__ = ["METRIC_NAME", "METRIC_NAMESPACE", "EndpointState", "Outcome", "ScalableTarget", "TransitionFailed",
           "transition", "variant_resource_id"]
