"""Given each EKS spec variant, every rendered object validates against the Kubernetes schema of the spec's
cluster version (kubernetes-validate, offline) or against its CRD's published schema."""

from __future__ import annotations

import copy

import jsonschema
import kubernetes_validate
import pytest
from kubernetes_validate.utils import all_versions

from llama_infra.targets.eks import karpenter
from llama_infra.targets.eks.manifests import all_objects
from llama_infra.targets.kubernetes import autoscaling, labels, server, workload

from . import crd_schema
from .specs import edited, variants
from .validation import validate

VARIANTS = variants()


def test_kubernetes_validate_ships_the_cluster_versions_we_default_to_offline():
    versions = all_versions()
    assert {"1.29.0", "1.30.0", "1.31.0", "1.32.0"} <= set(versions)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_rendered_object_validates(variant):
    spec = VARIANTS[variant]
    objs = all_objects(spec) + [
        o for o in (autoscaling.horizontal_pod_autoscaler(spec), autoscaling.scaled_object(spec)) if o
    ]
    kinds = set()
    for obj in objs:
        validate(obj, spec.eks.kubernetes_version)
        kinds.add(obj["kind"])
    assert {"Deployment", "Service", "PodDisruptionBudget", "ServiceAccount", "PodMonitor"} <= kinds


@pytest.mark.parametrize("version", ["1.29", "1.30", "1.32"])
def test_workload_validates_on_the_neighbouring_cluster_versions(version):
    spec = edited(**{"eks.kubernetes_version": version})
    for obj in all_objects(spec):
        validate(obj, version)


def test_a_misspelt_field_fails_kubernetes_validation():
    dep = copy.deepcopy(workload.burst_deployment(VARIANTS["prod-keda-karpenter"]))
    dep["spec"]["template"]["spec"]["terminationGracePeriod"] = 100  # real name: terminationGracePeriodSeconds
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(dep, "1.31")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda o: o["spec"]["disruption"].update(consolidateAfter="5 minutes"),  # pattern ^(([0-9]+(s|m|h))+|Never)$
        lambda o: o["spec"]["disruption"].update(consolidationAfter="300s"),  # unknown field, pruned by the server
        lambda o: o["spec"].update(weight=101),  # max 100
    ],
    ids=["bad-duration", "unknown-field", "weight-over-100"],
)
def test_a_broken_node_pool_fails_its_crd_schema(mutate):
    pool = copy.deepcopy(karpenter.node_pool(VARIANTS["prod-keda-karpenter"], "spot"))
    mutate(pool)
    with pytest.raises(jsonschema.ValidationError):
        crd_schema.validate(pool)


def test_a_broken_scaled_object_fails_its_crd_schema():
    so = copy.deepcopy(autoscaling.scaled_object(VARIANTS["prod-keda-karpenter"]))
    del so["spec"]["triggers"][0]["type"]
    with pytest.raises(jsonschema.ValidationError):
        crd_schema.validate(so)


def test_node_pools_spot_first_then_on_demand_with_gpu_limits_and_budgets():
    spec = VARIANTS["prod-keda-karpenter"]
    spot, od = karpenter.node_pools(spec)
    req = {r["key"]: r["values"] for r in spot["spec"]["template"]["spec"]["requirements"]}
    assert req[labels.KARPENTER_CAPACITY_TYPE] == ["spot"]
    assert req[labels.INSTANCE_TYPE] == spec.capacity.burst.instance_types and len(req[labels.INSTANCE_TYPE]) >= 3
    assert {r["key"]: r["values"] for r in od["spec"]["template"]["spec"]["requirements"]}[
        labels.KARPENTER_CAPACITY_TYPE
    ] == ["on-demand"]
    assert spot["spec"]["weight"] > od["spec"]["weight"]
    # (max_replicas 8 − baseline 2) burst replicas × TP 4
    assert spot["spec"]["limits"] == {"nvidia.com/gpu": str((spec.max_replicas - 2) * 4)} == {"nvidia.com/gpu": "24"}
    assert spot["spec"]["template"]["metadata"]["labels"][labels.CAPACITY_LABEL] == "burst"
    assert spot["spec"]["template"]["spec"]["taints"] == [labels.GPU_TAINT]
    assert {"nodes": "1", "reasons": ["Drifted", "Underutilized"]} in spot["spec"]["disruption"]["budgets"]


def test_emptied_spot_nodes_wait_one_stabilization_the_on_demand_fallback_pool_goes_at_once():
    spec = VARIANTS["prod-keda-karpenter"]
    spot, od = karpenter.node_pools(spec)
    assert spot["spec"]["disruption"]["consolidateAfter"] == f"{spec.scaling.scale_down_stabilization_seconds}s"
    assert od["spec"]["disruption"]["consolidateAfter"] == "0s"
    # an on-demand burst has no spot to go back to: its emptied nodes wait for the next scale-up like spot ones
    (on_demand,) = karpenter.node_pools(edited(**{"capacity.burst.capacity": "on-demand"}))
    assert on_demand["spec"]["disruption"]["consolidateAfter"] == f"{spec.scaling.scale_down_stabilization_seconds}s"


def test_node_class_imdsv2_hop_limit_one_encrypted_root_and_nvme_raid0():
    nc = karpenter.ec2_node_class(VARIANTS["prod-keda-karpenter"], "role")
    assert nc["spec"]["metadataOptions"]["httpTokens"] == "required"
    assert nc["spec"]["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert nc["spec"]["blockDeviceMappings"][0]["ebs"]["encrypted"] is True
    assert nc["spec"]["instanceStorePolicy"] == "RAID0"
    no_preload = karpenter.ec2_node_class(VARIANTS["hf-weights-no-preload"], "role")
    assert "instanceStorePolicy" not in no_preload["spec"]


def test_no_spot_fallback_pool_when_the_spec_declines_it():
    spec = edited(**{"capacity.burst.on_demand_fallback": False})
    assert [p["metadata"]["name"] for p in karpenter.node_pools(spec)] == ["llama-70b-eks-burst-spot"]


def test_baseline_pinned_to_baseline_nodes_burst_prefers_spot():
    spec = VARIANTS["prod-keda-karpenter"]
    base = workload.baseline_deployment(spec)["spec"]
    burst = workload.burst_deployment(spec)["spec"]
    assert base["replicas"] == spec.capacity.baseline.count == 2
    assert base["template"]["spec"]["nodeSelector"] == {labels.CAPACITY_LABEL: "baseline"}
    affinity = burst["template"]["spec"]["affinity"]["nodeAffinity"]
    assert affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]["matchExpressions"] == [
        {"key": labels.CAPACITY_LABEL, "operator": "In", "values": ["burst"]}
    ]
    assert affinity["preferredDuringSchedulingIgnoredDuringExecution"][0]["preference"]["matchExpressions"] == [
        {"key": labels.KARPENTER_CAPACITY_TYPE, "operator": "In", "values": ["spot"]}
    ]
    assert burst["replicas"] == 0  # KEDA starts the burst from zero


def test_server_container_tp_gpus_probes_and_spot_drain():
    spec = VARIANTS["prod-keda-karpenter"]
    pod = workload.burst_deployment(spec)["spec"]["template"]
    c = pod["spec"]["containers"][0]
    assert c["args"][c["args"].index("--tensor-parallel-size") + 1] == "4"
    assert c["resources"]["limits"]["nvidia.com/gpu"] == c["resources"]["requests"]["nvidia.com/gpu"] == "4"
    assert c["readinessProbe"]["httpGet"]["path"] == "/health"
    # 70B fp16 with NVMe preload: cold start high estimate × 1.5 over 10 s periods, never under 5 minutes
    assert c["startupProbe"]["failureThreshold"] * c["startupProbe"]["periodSeconds"] >= 300
    assert pod["metadata"]["annotations"][labels.DO_NOT_DISRUPT] == "true"
    assert pod["spec"]["terminationGracePeriodSeconds"] < 120  # the spot notice
    assert server.DRAIN_DEADLINE_SECONDS < pod["spec"]["terminationGracePeriodSeconds"]
    assert pod["spec"]["topologySpreadConstraints"][0]["topologyKey"] == labels.ZONE


def test_startup_probe_grows_with_the_model_and_shrinks_with_nvme_preload():
    big = {
        "model.id": "meta-llama/Llama-3.1-405B-Instruct",
        "model.params_b": 405,
        "model.tensor_parallel_degree": 8,
        "capacity.baseline.instance_type": "p5.48xlarge",
        "capacity.burst.instance_types": ["p5.48xlarge", "p5en.48xlarge", "p4de.24xlarge"],
    }
    slow = server.startup_failure_threshold(edited(**big, **{"model.weights.preload": "none"}))
    preloaded = server.startup_failure_threshold(edited(**big))
    small = server.startup_failure_threshold(edited())
    assert slow > preloaded >= small >= 30


def test_tgi_gets_num_shard_and_the_hf_token_from_a_secret_ref():
    spec = edited(
        **{
            "model.framework": "tgi",
            "scaling.gpu_memory_target": None,
            "model.weights": {"source": "hf://meta-llama/Llama-3.1-70B-Instruct", "hf_token_secret": "hf-token"},
        }
    )
    env = {e["name"]: e for e in workload.baseline_deployment(spec)["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["NUM_SHARD"]["value"] == "4"
    assert env["HF_TOKEN"] == {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}}}


def test_pdb_allows_one_disruption_across_both_tiers():
    pdb = workload.pod_disruption_budget(VARIANTS["prod-keda-karpenter"])
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == {labels.INSTANCE_LABEL: "llama-70b-eks"}


def test_baseline_rolls_one_at_a_time_burst_surges():
    """The reserved nodes have no spare GPU: a surge pod there would never schedule and the rollout would hang."""
    spec = VARIANTS["prod-keda-karpenter"]
    assert workload.baseline_deployment(spec)["spec"]["strategy"]["rollingUpdate"] == {
        "maxSurge": 0,
        "maxUnavailable": 1,
    }
    assert workload.burst_deployment(spec)["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
