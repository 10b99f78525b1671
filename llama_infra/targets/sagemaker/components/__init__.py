"""SageMaker target: a real-time endpoint for a Llama model, autoscaled on queue depth, with alarms and dashboard.

Modules, one concept each: `args` (component inputs), `image` (pinned container images), `container_env`
(server environment for the TP degree), `variant` (what a variant runs for a serving configuration),
`serving_config` (Model + EndpointConfiguration for a configuration — reused by the overnight downsizing),
`role` (least-privilege execution role), `autoscaling`, `alarms`, `dashboard`, `endpoint` (the component).
"""

from llama_infra.targets.sagemaker.components.args import SageMakerLlamaEndpointArgs
from llama_infra.targets.sagemaker.components.endpoint import TYPE_TOKEN, EndpointContext, SageMakerLlamaEndpoint
from llama_infra.targets.sagemaker.components.serving_config import ServingConfig, serving_config

__all__ = [
    "TYPE_TOKEN",
    "EndpointContext",
    "SageMakerLlamaEndpoint",
    "SageMakerLlamaEndpointArgs",
    "ServingConfig",
    "serving_config",
]
