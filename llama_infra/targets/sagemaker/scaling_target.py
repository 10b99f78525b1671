"""What Application Auto Scaling scales: a `ScalingTarget` builds the resource id and scalable dimension.

No component formats these identifiers by hand (a typo in `endpoint/<name>/variant/<variant>` passes every type
check and silently scales nothing). The dimensions are checked against botocore's service model in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

SAGEMAKER_NAMESPACE = "sagemaker"
SAGEMAKER_VARIANT_INSTANCES = "sagemaker:variant:DesiredInstanceCount"
SAGEMAKER_INFERENCE_COMPONENT_COPIES = "sagemaker:inference-component:DesiredCopyCount"


@dataclass(frozen=True)
class ScalingTarget:
    """One scalable target: service namespace, resource id and the dimension that is scaled."""

    service_namespace: str
    resource_id: str
    scalable_dimension: str

    @classmethod
    def sagemaker_variant(cls, endpoint_name: str, variant_name: str) -> ScalingTarget:
        """Instance count of a production variant of a real-time endpoint."""
        for label, value in (("endpoint_name", endpoint_name), ("variant_name", variant_name)):
            if not value or "/" in value:
                raise ValueError(f"{label} '{value}' must be a non-empty name without '/'")
        return cls(SAGEMAKER_NAMESPACE, f"endpoint/{endpoint_name}/variant/{variant_name}", SAGEMAKER_VARIANT_INSTANCES)

    @classmethod
    def sagemaker_inference_component(cls, component_name: str) -> ScalingTarget:
        """Copy count of an inference component (the scale-to-zero path)."""
        if not component_name or "/" in component_name:
            raise ValueError(f"component_name '{component_name}' must be a non-empty name without '/'")
        return cls(SAGEMAKER_NAMESPACE, f"inference-component/{component_name}", SAGEMAKER_INFERENCE_COMPONENT_COPIES)
