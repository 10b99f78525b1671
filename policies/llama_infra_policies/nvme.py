"""Which instance types carry NVMe instance storage (and therefore reject a KMS key on a SageMaker endpoint config).

Facts live in one place: `llama_infra.catalog`, whose GPU catalog records each type's instance storage (botocore's
service models carry no instance-storage information). A type the catalog does not know (not a CUDA GPU type, e.g.
ml.inf2 or ml.m5) counts as having no NVMe storage, so the KMS rule applies to it; exempt the resource with a
reason if that is wrong for it.
"""

from __future__ import annotations

from llama_infra import catalog


def instance_family(instance_type: str) -> str:
    """`ml.g5.12xlarge` -> `g5`; `g6e.xlarge` -> `g6e`."""
    return catalog.ec2_name(instance_type).split(".", 1)[0]


def has_nvme_instance_storage(instance_type: str) -> bool:
    entry = catalog.lookup(instance_type)
    return entry is not None and entry.has_nvme


def source() -> str:
    """Where the NVMe facts come from, quoted in violation messages."""
    return "llama_infra.catalog"
