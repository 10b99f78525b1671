"""What each deployment target is, as plain facts: one table, below the core, keyed by the spec's `target`.

The target-neutral core (catalog, prices, provisioning, quantization, the spec rules, the SLO model, the simulator)
looks a fact up here instead of branching on the target's name; the targets' homes (`llama_infra/targets/`) read the
same facts where they state them too (billing units, the timeline, the GPU-memory trigger), so each fact has one
place. Only data lives here, each with where it comes from: no rule, no component, nothing a target builds. This
module imports nothing of `llama_infra` (an import-linter contract in pyproject.toml holds that), so every layer may
read it.

A new target adds one `TargetFacts` to `TARGETS` (ARCHITECTURE.md, "Where to add … a target").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

TargetName = Literal["sagemaker", "eks"]  # the spec's `target` values (`spec.model.TargetName`)


@dataclass(frozen=True)
class Delay:
    """How long new capacity takes to exist before the model starts loading (`llama_infra.provisioning`)."""

    typical_s: float
    high_s: float


@dataclass(frozen=True)
class TargetFacts:
    """The facts of one target that target-neutral code needs."""

    name: TargetName
    """The spec's `target` value."""
    display_name: str
    """The service as messages name it."""

    # --- instance types and regions -------------------------------------------------------------------------------
    instance_prefix: str
    """How the target spells an EC2 instance type: the prefix before the EC2 name (`ml.` on SageMaker)."""
    prefix_rule: str
    """The naming rule in words, for the message on a type spelled the other way."""
    instance_type_shape: tuple[str, str]
    """(botocore service model, shape) whose enum lists the instance types the target accepts."""
    instance_seller: str
    """Who offers the instance types, as messages name it."""
    region_service: str
    """The botocore endpoint service whose Regions the target runs in."""

    # --- prices and purchases -------------------------------------------------------------------------------------
    price_list: Literal["ec2", "sagemaker-hosting"]
    """Whose hourly prices apply (`llama_infra.pricing`): EC2's, or SageMaker ML hosting's (listed, else EC2 plus
    the snapshot's premium)."""
    baseline_purchases: tuple[str, ...]
    """The baseline `purchase` options the target sells (capacity blocks are an EC2 purchase option)."""
    reserved_is_savings_plan: bool
    """`purchase: reserved` buys a Savings Plan $/hour commitment, flexible across instance families."""
    spot_burst: bool
    """Burst with `capacity: spot` runs on spot capacity (EKS spot pools); SageMaker endpoints have no spot."""

    # --- capacity and serving -------------------------------------------------------------------------------------
    provisioning: Delay
    """How long new GPU capacity takes to exist before the model loads (typical: the simulator; high: lead times)."""
    framework_servers: Mapping[str, str]
    """The model server (`llama_infra.quantization.SERVERS` key) each spec `framework` runs as."""
    one_server_per_instance: str | None
    """Why a replica takes every GPU of its instance, where it does (a tensor-parallel degree below the instance's
    GPUs leaves GPUs idle); None where replicas share an instance."""
    one_replica_shape: bool
    """One workload serves every instance type, so a replica has the same TP degree (GPU request) on each pool."""
    scale_to_zero_serving: str | None
    """How the target serves a spec that scales to zero, where that fixes the instance type (a window may change
    only its min/max copies then); None where a window may change the type as usual."""
    window_switch_replaces_fleet: bool
    """A window switch brings up a new fleet (blue/green, bake included) before the old one goes, so a window must
    last longer than a switch; False where the switch scales the same workload's pools."""
    serves_fallback: bool
    """The target runs llama-infra's router, which overflows to the `fallback:` model."""
    hf_token_store: Literal["secrets-manager", "kubernetes-secret"]
    """What `model.weights.hf_token_secret` names: a Secrets Manager secret (ARN or name) or a Kubernetes Secret."""

    # --- scaling --------------------------------------------------------------------------------------------------
    autoscaler: str | None
    """The autoscaler the target always uses, or None where the spec's `scaling.autoscaler` chooses."""
    queue_depth_reads: Literal["in_system", "waiting"]
    """What the queue-depth metric counts per replica: requests running + queued, or only those waiting."""
    queue_depth_metric: str
    """That metric in words."""
    scales_on_gpu_memory: bool
    """The target renders the GPU-memory (KV-cache) trigger, so a KV-cache target is derived for it."""

    # --- the spec's settings section ------------------------------------------------------------------------------
    settings_section: str
    """The spec section that holds the target's own settings."""
    settings_example: str | None
    """What to add when the section is required (None: optional, defaults apply)."""


SAGEMAKER = TargetFacts(
    name="sagemaker",
    display_name="SageMaker",
    instance_prefix="ml.",
    prefix_rule="SageMaker instance types start with 'ml.'",
    instance_type_shape=("sagemaker", "ProductionVariantInstanceType"),
    instance_seller="SageMaker real-time endpoints",
    region_service="sagemaker",
    price_list="sagemaker-hosting",
    baseline_purchases=("on-demand", "reserved"),
    # SageMaker Savings Plans: a $/hour commitment covering any ML instance usage (llama_infra.pricing).
    reserved_is_savings_plan=True,
    spot_burst=False,  # real-time endpoints have no spot capacity (managed spot is for training jobs)
    # ML instances added to a variant, or a new fleet for a blue/green update: 5–10 minutes. No AWS figure exists;
    # a stated range (llama_infra.provisioning).
    provisioning=Delay(typical_s=300, high_s=600),
    # SageMaker serves vllm and lmi with DJL LMI's vLLM engine (the LMI container); tgi with the TGI container.
    framework_servers={"vllm": "lmi-vllm", "lmi": "lmi-vllm", "tgi": "tgi", "tensorrt-llm": "lmi-tensorrt-llm"},
    one_server_per_instance="a SageMaker variant runs one model server per instance",
    one_replica_shape=False,
    scale_to_zero_serving="SageMaker serves the model as an inference component on managed instances",
    # UpdateEndpoint brings up the window's fleet and bakes it before traffic moves (llama_infra.blue_green).
    window_switch_replaces_fleet=True,
    serves_fallback=False,
    hf_token_store="secrets-manager",
    autoscaler="target-tracking",  # Application Auto Scaling on the variant (or inference component)
    queue_depth_reads="in_system",
    queue_depth_metric="running + queued per instance",
    scales_on_gpu_memory=False,  # GPU memory is not a scaling signal there (targets/sagemaker/cloudwatch_metrics)
    settings_section="sagemaker",
    settings_example=None,
)

EKS = TargetFacts(
    name="eks",
    display_name="EKS",
    instance_prefix="",
    prefix_rule="EC2 instance types on EKS have no 'ml.' prefix",
    instance_type_shape=("ec2", "InstanceType"),
    instance_seller="EC2",
    region_service="eks",
    price_list="ec2",
    baseline_purchases=("on-demand", "reserved", "capacity-block"),
    reserved_is_savings_plan=False,  # reserved instances / ODCR of the baseline type, billed around the clock
    spot_burst=True,  # Karpenter spot node pools
    # Karpenter (or a managed node group) launches a GPU instance, it joins the cluster and the NVIDIA device plugin
    # advertises its GPUs; the image pull is part of the cold start. No AWS figure exists; a stated range.
    provisioning=Delay(typical_s=120, high_s=300),
    framework_servers={"vllm": "vllm", "lmi": "lmi-vllm", "tgi": "tgi", "tensorrt-llm": "lmi-tensorrt-llm"},
    one_server_per_instance=None,  # replicas request GPUs and share a node when TP < its GPUs
    one_replica_shape=True,  # one Deployment serves every burst type
    scale_to_zero_serving=None,
    window_switch_replaces_fleet=False,  # KEDA gates and node-group schedules scale the same Deployments
    serves_fallback=True,
    hf_token_store="kubernetes-secret",
    autoscaler=None,  # scaling.autoscaler: hpa or keda
    queue_depth_reads="waiting",
    queue_depth_metric="waiting per replica",
    scales_on_gpu_memory=True,  # the KV-cache share is the second trigger (vLLM)
    settings_section="eks",
    settings_example="`eks: {cluster_name: <your cluster>}`",
)

TARGETS: dict[TargetName, TargetFacts] = {f.name: f for f in (SAGEMAKER, EKS)}


def of(target: str) -> TargetFacts:
    """The facts of the target named `target` (the spec's `target`)."""
    try:
        return TARGETS[target]  # type: ignore[index]  # any string: a name without facts is a LookupError
    except KeyError:
        raise LookupError(f"no facts for deployment target {target!r} (known: {', '.join(TARGETS)})") from None


def ec2_named() -> list[TargetName]:
    """The targets that spell instance types as EC2 does (no prefix): where an EC2 type runs under its own name."""
    return [f.name for f in TARGETS.values() if not f.instance_prefix]
