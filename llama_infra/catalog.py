"""GPU instance catalog: the one place that knows what each GPU instance type has.

Facts come from the price snapshot shipped in `llama_infra/data/prices/` (SkyPilot's AWS catalog, see its README for
source and commit): GPU model, count, memory per GPU, vCPUs, memory, instance storage. Whether AWS offers a type for
a target comes from the botocore service model its facts name (`target_facts.TargetFacts.instance_type_shape`: EC2
`InstanceType`, SageMaker `ProductionVariantInstanceType`), so a typo or a type a service does not offer is caught
without a hand-kept list.
"""

from __future__ import annotations

import ast
import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from llama_infra import target_facts

Target = target_facts.TargetName

SAGEMAKER_PREFIX = target_facts.SAGEMAKER.instance_prefix  # "ml.": SageMaker's spelling of an EC2 type
SNAPSHOT_FILE = "aws_gpu_prices_snapshot.csv"
# Inferentia (inf2) runs Neuron, not CUDA: vLLM/TGI GPU images do not run there, so it is not a GPU type here.
_NON_CUDA_ACCELERATORS = {"Inferentia2"}
_BYTES_PER_MIB = 1024 * 1024


# GPUs below CUDA compute capability 8.0, which have no bfloat16: vLLM refuses bf16 there ("Bfloat16 is only
# supported on GPUs with compute capability of at least 8.0"). In the catalog only the T4 (g4dn, 7.5), per NVIDIA's
# CUDA GPU compute capability list.
NO_BF16_GPUS = ("T4",)


@dataclass(frozen=True)
class GpuInstance:
    """One EC2 GPU instance type (SageMaker's `ml.` type is the same hardware)."""

    instance_type: str  # EC2 name, e.g. g6e.12xlarge
    gpu_model: str
    gpu_count: int
    gpu_memory_gb: float  # per GPU, decimal GB (1e9 bytes), as weights are counted
    vcpus: int
    memory_gib: float
    instance_storage_gb: float  # NVMe instance store, 0 when the type has none

    @property
    def family(self) -> str:
        return self.instance_type.split(".", 1)[0]

    @property
    def total_gpu_memory_gb(self) -> float:
        return self.gpu_count * self.gpu_memory_gb

    @property
    def has_nvme(self) -> bool:
        """Types with NVMe instance storage: preload target, and SageMaker rejects a KMS key for their volume."""
        return self.instance_storage_gb > 0

    @property
    def sagemaker_name(self) -> str:
        return SAGEMAKER_PREFIX + self.instance_type

    def runs_precision(self, precision: str) -> bool:
        """Whether the GPU can serve weights in `precision` at all (memory aside): see NO_BF16_GPUS."""
        return not (precision == "bf16" and self.gpu_model in NO_BF16_GPUS)

    def describe_gpus(self) -> str:
        return f"{self.gpu_count}×{self.gpu_memory_gb:.0f} GB {self.gpu_model} = {self.total_gpu_memory_gb:.0f} GB"


def _snapshot_rows() -> list[dict[str, str]]:
    text = resources.files("llama_infra.data.prices").joinpath(SNAPSHOT_FILE).read_text()
    return list(csv.DictReader(text.splitlines()))


@cache
def gpu_catalog() -> dict[str, GpuInstance]:
    """Every CUDA GPU instance type in the snapshot, keyed by EC2 name."""
    catalog: dict[str, GpuInstance] = {}
    for row in _snapshot_rows():
        if row["AcceleratorName"] in _NON_CUDA_ACCELERATORS:
            continue
        gpu_info = ast.literal_eval(row["GpuInfo"])  # the catalog stores a Python-literal dict
        gpu = gpu_info["Gpus"][0]
        has_disk = row["LocalDiskType"] not in ("", "nan") and row["NVMeSupported"] == "True"
        catalog[row["InstanceType"]] = GpuInstance(
            instance_type=row["InstanceType"],
            gpu_model=gpu["Name"],
            gpu_count=int(gpu["Count"]),
            gpu_memory_gb=round(gpu["MemoryInfo"]["SizeInMiB"] * _BYTES_PER_MIB / 1e9, 1),
            vcpus=int(float(row["vCPUs"])),
            memory_gib=float(row["MemoryGiB"]),
            instance_storage_gb=float(row["LocalDiskSize"]) * float(row["LocalDiskCount"]) if has_disk else 0.0,
        )
    return catalog


@cache
def _service_instance_types(target: Target) -> frozenset[str]:
    import botocore.session  # botocore's service models are the source of truth for what a service accepts

    service, shape = target_facts.of(target).instance_type_shape
    return frozenset(botocore.session.get_session().get_service_model(service).shape_for(shape).enum)


def ec2_name(instance_type: str) -> str:
    return instance_type.removeprefix(SAGEMAKER_PREFIX)


def target_name(instance_type: str, target: Target) -> str:
    """The instance type as the target spells it (`ml.` prefix on SageMaker)."""
    return target_facts.of(target).instance_prefix + ec2_name(instance_type)


def offered_by(instance_type: str, target: Target) -> bool:
    """Does AWS accept this instance type name for the target (per botocore's service model)?"""
    return instance_type in _service_instance_types(target)


def lookup(instance_type: str) -> GpuInstance | None:
    """Catalog entry for an EC2 or `ml.` name, or None for a type that is not a known GPU type."""
    return gpu_catalog().get(ec2_name(instance_type))


def gpu_types_for(target: Target) -> list[GpuInstance]:
    """Catalog GPU types that the target offers, in catalog order."""
    return [g for g in gpu_catalog().values() if offered_by(target_name(g.instance_type, target), target)]
