"""The fallback model service of an EKS spec with `fallback`: where the router overflows to.

Built from the same builders as the primary (`llama_infra.targets.kubernetes.workload` / `server`), applied to a derived
spec:
the fallback's model id, size and precision, the smallest tensor-parallel degree that fits it on
`fallback.instance_type` (default: the baseline type), and Hugging Face Hub weights (`hf://<model_id>`, the
primary's token Secret for gated models): the spec's `fallback` section names a model, not a weights prefix.

Its pods carry `app.kubernetes.io/instance=<name>-fallback`, so the primary's Service, PDB and queue-depth queries
(which select `<name>`) never include them; the router reads the fallback's queue with the same selector shape.
It runs on burst capacity (required `capacity=burst`, spot preferred) pinned to its instance type; the Karpenter
NodePools admit that type (`llama_infra.targets.eks.karpenter`). One replica: overflow is a safety valve, not capacity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_infra import catalog, sizing
from llama_infra.targets.kubernetes import labels, server, workload

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec

FALLBACK_REPLICAS = 1
TIER = "fallback"


def name_of(spec: DeploymentSpec) -> str:
    return f"{spec.name}-fallback"


def instance_type(spec: DeploymentSpec) -> str:
    assert spec.fallback is not None
    return spec.fallback.instance_type or spec.capacity.baseline.instance_type


def tp_degree(spec: DeploymentSpec) -> int:
    """Smallest tensor-parallel degree that fits the fallback model on its type (the spec rules check it fits)."""
    assert spec.fallback is not None
    fb, inst = spec.fallback, catalog.lookup(instance_type(spec))
    if inst is None:
        return 1
    return (
        sizing.smallest_fitting_tp(fb.params_b, fb.precision, inst, spec.model.memory_overhead_fraction)
        or inst.gpu_count
    )


def fallback_spec(spec: DeploymentSpec) -> DeploymentSpec:
    """The spec the fallback's objects are rendered from (a copy; never validated as a user spec)."""
    fb = spec.fallback
    assert fb is not None, "only specs with a fallback have a fallback service"
    itype = instance_type(spec)
    weights = spec.model.weights.model_copy(update={"source": f"hf://{fb.model_id}", "preload": "none"})
    model = spec.model.model_copy(
        update={
            "id": fb.model_id,
            "params_b": fb.params_b,
            "precision": fb.precision,
            "quantized_checkpoint": None,  # a Hub model: inferred from its precision
            "tensor_parallel_degree": tp_degree(spec),
            "weights": weights,
        }
    )
    baseline = spec.capacity.baseline.model_copy(update={"instance_type": itype, "count": 0})
    capacity = spec.capacity.model_copy(update={"baseline": baseline})
    # The fallback requires the primary's backend key (the router sends one key to both).
    eks = spec.eks.model_copy(update={"backend_api_key_secret": server.api_key_secret(spec)}) if spec.eks else None
    return spec.model_copy(
        update={
            "name": name_of(spec),
            "model": model,
            "capacity": capacity,
            "fallback": None,
            "schedules": [],
            "eks": eks,
        }
    )


def deployment(spec: DeploymentSpec) -> dict:
    fspec = fallback_spec(spec)
    itype = instance_type(spec)
    dep = workload.model_deployment(fspec, TIER, FALLBACK_REPLICAS, [itype], name=name_of(spec))
    dep["spec"]["template"]["spec"]["nodeSelector"] = {labels.INSTANCE_TYPE: itype}
    return dep


def objects(spec: DeploymentSpec) -> list[dict]:
    """ServiceAccount, Deployment and Service of the fallback model (empty without `spec.fallback`)."""
    if spec.fallback is None:
        return []
    fspec = fallback_spec(spec)
    return [workload.service_account(fspec), deployment(spec), workload.service(fspec)]
