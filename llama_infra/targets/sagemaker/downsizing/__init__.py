"""Overnight vertical downsizing of a SageMaker endpoint: the reconciler that runs in AWS Lambda.

Changing the instance type of an autoscaled variant fails unless its scaling policies are deleted and its scalable
target deregistered first, and a blue/green update of a large model takes longer than a Lambda may run. So the
workflow is level-triggered: EventBridge Scheduler records which configuration is in force (`desired.py`) at each
window's start and end, and every few minutes a tick (`workflow.tick`) compares the endpoint with it and takes one
safe step — wait while it updates, start the blue/green update, or give the serving configuration its own limits
and policies. Nothing is lost when a tick fails or is killed: the next one starts from what AWS reports.

This package is shipped to Lambda on its own (see `SageMakerDownsizing`), so it imports only the standard library and
boto3, and only relatively: it runs both as `llama_infra.targets.sagemaker.downsizing` and as a top-level `downsizing`
package.
"""

from .alarm import METRIC_NAME, METRIC_NAMESPACE
from .desired import DAY, Configuration, InForce
from .state import EndpointState, ScalableTarget, variant_resource_id
from .workflow import Clients, Desired, Tick, tick

__all__ = [
    "DAY",
    "METRIC_NAME",
    "METRIC_NAMESPACE",
    "Clients",
    "Configuration",
    "Desired",
    "EndpointState",
    "InForce",
    "ScalableTarget",
    "Tick",
    "tick",
    "variant_resource_id",
]
