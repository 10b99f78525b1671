"""What one production variant runs for a serving configuration (day, or a downsizing window). Pure: no Pulumi.

`variant_plan(spec, config)` is the one place that decides instance type, instance count, TP degree, image,
container environment, start-up timeouts, volume and KMS for a `capacity_plan.Config`; the Pulumi side
(`serving_config.py`) only translates it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llama_infra import catalog, quantization, sizing
from llama_infra.capacity_plan import weights_for
from llama_infra.targets.sagemaker.components.container_env import container_env
from llama_infra.targets.sagemaker.components.image import image_uri

if TYPE_CHECKING:
    from llama_infra.capacity_plan import Config
    from llama_infra.spec import DeploymentSpec
    from llama_infra.spec.model import Weights

# SageMaker attaches an EBS volume only to instance types without instance storage; 512 GB is its upper bound.
MAX_VOLUME_SIZE_GB = 512
_VOLUME_HEADROOM = 1.25  # weights + tokenizer/config files + the container's scratch space
_VOLUME_BASE_GB = 30


@dataclass(frozen=True)
class VariantPlan:
    instance_type: str
    initial_instance_count: int
    tp_degree: int
    image_uri: str
    environment: dict[str, str]
    weights_source: str
    hf_token_secret: str | None
    startup_health_check_timeout_s: int
    model_data_download_timeout_s: int
    volume_size_gb: int | None  # only on types without NVMe instance storage
    kms_key_arn: str | None  # only where SageMaker accepts one (never on NVMe types)

    @property
    def weights_in_s3(self) -> bool:
        return self.weights_source.startswith("s3://")


def storage(instance: catalog.GpuInstance, weights_gb: float, kms_key_arn: str | None) -> tuple[int | None, str | None]:
    """(volume size GB, KMS key) for an instance: both only where the type has no NVMe instance storage.

    SageMaker rejects VolumeSizeInGB and a storage-volume KMS key on types with instance storage (g4dn, g5, g6,
    g6e, p4d, p5): their volume is the NVMe store, encrypted by the hardware.
    """
    if instance.has_nvme:
        return None, None
    size = min(MAX_VOLUME_SIZE_GB, math.ceil(weights_gb * _VOLUME_HEADROOM + _VOLUME_BASE_GB))
    return size, kms_key_arn


def variant_plan(spec: DeploymentSpec, config: Config, weights: Weights | None = None) -> VariantPlan:
    inst = catalog.lookup(config.instance_type)
    if inst is None:  # the spec layer guarantees catalog types; this guards direct callers
        raise ValueError(f"{config.instance_type} is not in the GPU catalog")
    weights = weights or weights_for(spec, config)
    is_day = config.window is None
    tp = (spec.model.tensor_parallel_degree or inst.gpu_count) if is_day else inst.gpu_count
    nvme_preload = spec.model.weights.preload == "nvme" and inst.has_nvme
    cold = sizing.cold_start(config.params_b, config.precision, nvme_preload)
    volume, kms = storage(
        inst, sizing.weights_gb(config.params_b, config.precision), spec.sagemaker_settings.kms_key_arn
    )
    image = spec.sagemaker_settings.image_uri or image_uri(spec.model.framework, spec.region, config.instance_type)
    return VariantPlan(
        instance_type=catalog.target_name(config.instance_type, "sagemaker"),
        # A real-time variant runs at least one instance; zero needs inference components (downsizing.py).
        initial_instance_count=max(1, config.min_replicas),
        tp_degree=tp,
        image_uri=image,
        environment=container_env(
            spec.model.framework,
            weights_source=weights.source,
            tp_degree=tp,
            precision=config.precision,
            max_model_len=spec.model.max_model_len,
            quantized_checkpoint=quantization.declared_for(
                spec.model.id, spec.model.precision, spec.model.quantized_checkpoint, config.model_id, config.precision
            ),
        ),
        weights_source=weights.source,
        hf_token_secret=weights.hf_token_secret,
        startup_health_check_timeout_s=cold.startup_health_check_timeout_s,
        model_data_download_timeout_s=cold.model_download_timeout_s,
        volume_size_gb=volume,
        kms_key_arn=kms,
    )
