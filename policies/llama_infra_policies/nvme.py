"""Which instance types carry NVMe instance storage (and therefore reject a KMS key on a SageMaker endpoint config).

Facts live in one place. `llama_infra.catalog` (the GPU/instance catalog) is that place; botocore's service
models carry no instance-storage information. Until the catalog exposes it, this module keeps a small, clearly
marked fallback table.

TODO(lead): once `llama_infra.catalog` exposes instance storage, delete `_FALLBACK_NVME_FAMILIES` and keep only
the catalog import below (the policy tests pin the behaviour for ml.g5 / ml.p4d / ml.g6e / ml.inf2 / ml.p3).
"""

from __future__ import annotations

from collections.abc import Callable


def _catalog_lookup() -> Callable[[str], bool] | None:
    try:  # the catalog is the single source of instance facts once it provides them
        from llama_infra import catalog  # type: ignore[attr-defined]
    except ImportError:
        return None
    lookup = getattr(catalog, "has_nvme_instance_storage", None)
    return lookup if callable(lookup) else None


# FALLBACK TABLE — source: Amazon SageMaker Developer Guide, "Instance storage volumes"
# (https://docs.aws.amazon.com/sagemaker/latest/dg/host-instance-storage.html) and the CreateEndpointConfig
# KmsKeyId reference ("If any of the models ... use nitro-based instances with local storage, do not specify a
# value for the KmsKeyId parameter ... the call to CreateEndpointConfig fails"). Families, not sizes: every size of
# these families ships NVMe instance storage.
_FALLBACK_NVME_FAMILIES = frozenset(
    {
        "c5d", "m5d", "r5d", "c6id", "m6id", "r6id",  # general purpose/compute/memory "d" variants
        "g4dn", "g5", "g6", "g6e",  # NVIDIA GPU families used for Llama serving
        "p3dn", "p4d", "p4de", "p5", "p5e", "p5en",  # NVIDIA training-class GPUs
        "trn1", "trn1n",  # AWS Trainium
    }
)


def instance_family(instance_type: str) -> str:
    """`ml.g5.12xlarge` -> `g5`; `g6e.xlarge` -> `g6e`."""
    parts = instance_type.split(".")
    if parts and parts[0] == "ml":
        parts = parts[1:]
    return parts[0] if parts else ""


def has_nvme_instance_storage(instance_type: str) -> bool:
    lookup = _catalog_lookup()
    if lookup is not None:
        return bool(lookup(instance_type))
    return instance_family(instance_type) in _FALLBACK_NVME_FAMILIES


def source() -> str:
    """Where the NVMe facts came from, for reports and tests."""
    return "llama_infra.catalog" if _catalog_lookup() is not None else "policies fallback table (TODO: catalog)"
