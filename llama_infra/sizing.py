"""Model memory math, tensor-parallel degree and cold-start estimate (pure functions, no cloud calls).

Serving facts this module encodes (published figures for vLLM/TGI-class servers):
- weights = parameters × bytes per parameter (FP16/BF16 2, FP8/INT8 1, INT4/AWQ/GPTQ 0.5);
- add 20–30 % for KV cache, activations and framework overhead;
- cold start of a 70B FP16 model: storage→RAM 30–60 s, RAM→GPU 60–120 s, engine init 10–30 s;
  preloading weights onto local NVMe cuts the total by 50–70 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from llama_infra import catalog

BYTES_PER_PARAM: dict[str, float] = {
    "fp16": 2.0,
    "bf16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "int4": 0.5,
    "awq": 0.5,
    "gptq": 0.5,
}
OVERHEAD_RANGE = (0.20, 0.30)  # the guide's range, shown in messages
DEFAULT_OVERHEAD_FRACTION = 0.30  # the fit check uses the conservative end unless the spec says otherwise
# GPU memory a replica should keep free after weights + overhead, for KV-cache growth on long prompts: the policy
# pack's mandatory gpu-memory-headroom rule and the spec's warning read this one number.
MIN_GPU_MEMORY_HEADROOM = 0.15

# Cold-start phases for the guide's reference point (70B FP16 = 140 GB of weights), in seconds (low, high).
_REFERENCE_WEIGHTS_GB = 140.0
_STORAGE_TO_RAM_S = (30.0, 60.0)
_RAM_TO_GPU_S = (60.0, 120.0)
_ENGINE_INIT_S = (10.0, 30.0)
_NVME_PRELOAD_CUT = (0.50, 0.70)  # fraction of the total saved by NVMe preload (guide: 50–70 %)
SAGEMAKER_MAX_TIMEOUT_S = 3600  # ContainerStartupHealthCheckTimeoutInSeconds / ModelDataDownloadTimeoutInSeconds


def weights_gb(params_b: float, precision: str) -> float:
    """Size of the weights in decimal GB: 70B × 2 bytes = 140 GB."""
    return params_b * BYTES_PER_PARAM[precision]


def memory_needed_gb(params_b: float, precision: str, overhead_fraction: float = DEFAULT_OVERHEAD_FRACTION) -> float:
    return weights_gb(params_b, precision) * (1 + overhead_fraction)


def memory_range_gb(params_b: float, precision: str) -> tuple[float, float]:
    w = weights_gb(params_b, precision)
    return w * (1 + OVERHEAD_RANGE[0]), w * (1 + OVERHEAD_RANGE[1])


def valid_tp_degrees(gpu_count: int) -> list[int]:
    """Tensor-parallel degrees a server can use on this many GPUs: divisors of the GPU count."""
    return [d for d in range(1, gpu_count + 1) if gpu_count % d == 0]


@dataclass(frozen=True)
class Fit:
    """How a model at a precision sits on one instance type with a tensor-parallel degree."""

    instance: catalog.GpuInstance
    tp_degree: int
    needed_gb: float
    available_gb: float

    @property
    def fits(self) -> bool:
        return self.needed_gb <= self.available_gb

    @property
    def replicas_per_instance(self) -> int:
        return self.instance.gpu_count // self.tp_degree

    @property
    def headroom_fraction(self) -> float:
        """Share of the replica's GPU memory left after weights + overhead (negative when it does not fit)."""
        return 1 - self.needed_gb / self.available_gb


def fit(
    params_b: float,
    precision: str,
    instance: catalog.GpuInstance,
    tp_degree: int | None = None,
    overhead_fraction: float = DEFAULT_OVERHEAD_FRACTION,
) -> Fit:
    tp = tp_degree or instance.gpu_count
    return Fit(
        instance=instance,
        tp_degree=tp,
        needed_gb=memory_needed_gb(params_b, precision, overhead_fraction),
        available_gb=tp * instance.gpu_memory_gb,
    )


def smallest_fitting_tp(
    params_b: float, precision: str, instance: catalog.GpuInstance, overhead_fraction: float = DEFAULT_OVERHEAD_FRACTION
) -> int | None:
    for tp in valid_tp_degrees(instance.gpu_count):
        if fit(params_b, precision, instance, tp, overhead_fraction).fits:
            return tp
    return None


def fitting_precisions(
    params_b: float, instance: catalog.GpuInstance, tp_degree: int, overhead_fraction: float = DEFAULT_OVERHEAD_FRACTION
) -> list[str]:
    return [
        p
        for p in BYTES_PER_PARAM
        if instance.runs_precision(p) and fit(params_b, p, instance, tp_degree, overhead_fraction).fits
    ]


def fitting_instances(
    params_b: float,
    precision: str,
    target: catalog.Target,
    limit: int = 3,
    overhead_fraction: float = DEFAULT_OVERHEAD_FRACTION,
) -> list[str]:
    """Smallest instance types (by total GPU memory) of the target that hold the model, target spelling."""
    candidates = [
        g
        for g in catalog.gpu_types_for(target)
        if g.runs_precision(precision) and fit(params_b, precision, g, None, overhead_fraction).fits
    ]
    candidates.sort(key=lambda g: (g.total_gpu_memory_gb, g.gpu_count, g.vcpus))
    seen_shapes: set[tuple[str, int]] = set()
    names: list[str] = []
    for g in candidates:  # one size per GPU model and count: g6e.12xlarge, not also g6e.24xlarge
        if (g.gpu_model, g.gpu_count) in seen_shapes:
            continue
        seen_shapes.add((g.gpu_model, g.gpu_count))
        names.append(catalog.target_name(g.instance_type, target))
        if len(names) == limit:
            break
    return names


@dataclass(frozen=True)
class ColdStart:
    """Estimated seconds from "replica scheduled" to "serving", per phase, low and high."""

    storage_to_ram_s: tuple[float, float]
    ram_to_gpu_s: tuple[float, float]
    engine_init_s: tuple[float, float]
    nvme_preload: bool

    @property
    def total_low_s(self) -> float:
        return self._total(0)

    @property
    def total_high_s(self) -> float:
        return self._total(1)

    def _total(self, i: int) -> float:
        raw = self.storage_to_ram_s[i] + self.ram_to_gpu_s[i] + self.engine_init_s[i]
        if not self.nvme_preload:
            return raw
        # The saving is larger when the cut is larger: the low total takes the larger cut.
        cut = _NVME_PRELOAD_CUT[1] if i == 0 else _NVME_PRELOAD_CUT[0]
        return raw * (1 - cut)

    @property
    def startup_health_check_timeout_s(self) -> int:
        """SageMaker ContainerStartupHealthCheckTimeoutInSeconds: the high estimate with 50 % margin, ≤ 3600."""
        return min(SAGEMAKER_MAX_TIMEOUT_S, max(600, math.ceil(self.total_high_s * 1.5 / 60) * 60))

    @property
    def model_download_timeout_s(self) -> int:
        """SageMaker ModelDataDownloadTimeoutInSeconds: twice the high download estimate, ≤ 3600."""
        return min(SAGEMAKER_MAX_TIMEOUT_S, max(600, math.ceil(self.storage_to_ram_s[1] * 2 / 60) * 60))


def cold_start(params_b: float, precision: str, nvme_preload: bool = False) -> ColdStart:
    """Cold start scaled linearly in weight size from the guide's 70B FP16 reference."""
    scale = weights_gb(params_b, precision) / _REFERENCE_WEIGHTS_GB

    def scaled(phase: tuple[float, float]) -> tuple[float, float]:
        return (phase[0] * scale, phase[1] * scale)

    return ColdStart(
        storage_to_ram_s=scaled(_STORAGE_TO_RAM_S),
        ram_to_gpu_s=scaled(_RAM_TO_GPU_S),
        engine_init_s=_ENGINE_INIT_S,  # engine start-up does not shrink with the model
        nvme_preload=nvme_preload,
    )
