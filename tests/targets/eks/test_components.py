"""Given a spec, when the EKS components run under Pulumi mocks (preview and not), then the node groups have the
capacity types, taints, labels and scaling config of the plan, and every Kubernetes object the components send
validates against its schema."""

from __future__ import annotations

import pytest

from llama_infra.contracts import kube
from llama_infra.plan.record import Recording, run_plan
from llama_infra.targets.eks.components import build_eks
from llama_infra.targets.kubernetes import labels

from .specs import edited, variants
from .validation import validate

VARIANTS = variants()
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"


def run(program, preview: bool) -> Recording:
    """`program` under the library's recorder, as `llama-infra plan` runs it (strict: every registration is held
    against the cloud contracts, and a violation fails the run with all of them)."""
    return run_plan(program, project="llama-infra", stack="test", preview=preview)


def _k8s_objects(mocks):
    """The objects the Kubernetes registrations send, as the recording mocks hold them (`contracts.kube.manifest`),
    the CRDs' custom resources included."""
    return [m for r in mocks.resources if r.type.startswith("kubernetes:") if (m := kube.manifest(r.type, r.inputs))]


@pytest.fixture(scope="module", params=[False, True], ids=["up", "preview"])
def prod(request):
    return run(lambda: build_eks("prod", VARIANTS["prod-keda-karpenter"]), preview=request.param)


@pytest.fixture(scope="module", params=[False, True], ids=["up", "preview"])
def mng_only(request):
    return run(lambda: build_eks("mng", VARIANTS["managed-node-groups-only"]), preview=request.param)


def test_components_are_typed_and_children_named_after_the_parent(prod):
    comps = {r.type for r in prod.resources if r.type.startswith("llama-infra:index:")}
    assert comps == {
        f"llama-infra:index:{c}"
        for c in (
            "EksLlamaDeployment",
            "EksAddons",
            "EksGpuCapacity",
            "LlamaInferenceService",
            "QueueDepthAutoscaler",
            "KarpenterInterruptionQueue",
        )
    }
    assert all(
        r.name == "prod" or r.name.startswith("prod-") for r in prod.resources if r.type != "pulumi:pulumi:Stack"
    )


def test_baseline_node_group_is_on_demand_tainted_labelled_and_fixed_size(prod):
    (base,) = prod.of_type(NODE_GROUP)
    i = base.inputs
    assert base.name == "prod-capacity-baseline"
    assert i["capacityType"] == "ON_DEMAND"
    assert i["instanceTypes"] == ["g6e.12xlarge"]
    assert i["amiType"] == "AL2023_x86_64_NVIDIA"
    assert i["labels"][labels.CAPACITY_LABEL] == "baseline"
    assert i["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert i["scalingConfig"] == {"minSize": 2, "maxSize": 2, "desiredSize": 2}  # 2 replicas of TP 4 on 4 GPUs
    assert i["subnetIds"] == ["subnet-offline-ml-prod-a", "subnet-offline-ml-prod-b"]  # the cluster lookup's subnets


def test_baseline_launch_template_imdsv2_encrypted_and_nvme_raid0(prod):
    (lt,) = [r for r in prod.of_type("aws:ec2/launchTemplate:LaunchTemplate")]
    i = lt.inputs
    assert i["metadataOptions"] == {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1}
    assert i["blockDeviceMappings"][0]["ebs"]["encrypted"] == "true"
    import base64

    assert "strategy: RAID0" in base64.b64decode(i["userData"]).decode()


def test_karpenter_pools_and_interruption_rules(prod):
    pools = {r.name: r.inputs for r in prod.of_type("kubernetes:karpenter.sh/v1:NodePool")}
    assert set(pools) == {"prod-capacity-burst-spot", "prod-capacity-burst-on-demand"}
    detail_types = sorted(r.inputs["eventPattern"] for r in prod.of_type("aws:cloudwatch/eventRule:EventRule"))
    assert len(detail_types) == 4
    assert any("EC2 Spot Instance Interruption Warning" in d for d in detail_types)
    (nc,) = prod.of_type("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass")
    assert nc.inputs["spec"]["role"] == "prod-capacity-karpenter-node-role"
    (entry,) = prod.of_type("aws:eks/accessEntry:AccessEntry")
    assert entry.inputs["type"] == "EC2_LINUX"


def test_every_kubernetes_object_sent_validates(prod):
    objs = _k8s_objects(prod)
    kinds = sorted(o["kind"] for o in objs)
    assert kinds == sorted(
        [
            "Namespace",
            "ServiceAccount",
            "ClusterRole",  # the burst pods' deletion-cost init container: scale_in_order
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "Deployment",
            "Deployment",
            "Service",
            "PodDisruptionBudget",
            "PodMonitor",
            "EC2NodeClass",
            "NodePool",
            "NodePool",
            "ScaledObject",
        ]
    )
    for obj in objs:
        validate(obj, "1.31")


def test_burst_replicas_left_to_the_autoscaler_and_addons_pinned(prod):
    releases = {r.inputs["name"]: r.inputs for r in prod.of_type("kubernetes:helm.sh/v3:Release")}
    assert set(releases) == {"keda", "nvidia-device-plugin", "dcgm-exporter"}
    assert all(r["version"] and r["repositoryOpts"]["repo"].startswith("https://") for r in releases.values())


def test_managed_node_group_only_mode_spot_from_zero_with_autoscaler_tags(mng_only):
    groups = {r.name: r.inputs for r in mng_only.of_type(NODE_GROUP)}
    burst = groups["mng-capacity-burst"]
    assert burst["capacityType"] == "SPOT"
    assert burst["scalingConfig"] == {"minSize": 0, "maxSize": 6, "desiredSize": 0}
    assert len(burst["instanceTypes"]) == 4
    assert burst["labels"][labels.CAPACITY_LABEL] == "burst"
    tags = {r.inputs["tag"]["key"]: r.inputs["tag"]["value"] for r in mng_only.of_type("aws:autoscaling/tag:Tag")}
    assert tags["k8s.io/cluster-autoscaler/enabled"] == "true"
    assert tags["k8s.io/cluster-autoscaler/ml-prod"] == "owned"
    assert tags["k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu"] == "true:NoSchedule"
    assert tags["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"] == "4"
    assert not mng_only.of_type("kubernetes:karpenter.sh/v1:NodePool")
    assert not mng_only.of_type("aws:sqs/queue:Queue")


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_hpa_variant_installs_the_adapter_with_our_rules(preview):
    mocks = run(lambda: build_eks("h", VARIANTS["hpa-prometheus-adapter"]), preview)
    (hpa,) = mocks.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    validate({k: hpa.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}, "1.31")
    (adapter,) = [r for r in mocks.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "prometheus-adapter"]
    rule_names = [r["name"]["as"] for r in adapter.inputs["values"]["rules"]["external"]]
    assert [m["external"]["metric"]["name"] for m in hpa.inputs["spec"]["metrics"]] == rule_names
    assert not mocks.of_type("kubernetes:keda.sh/v1alpha1:ScaledObject")


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_capacity_reservation_and_capacity_block_reach_the_launch_template(preview):
    odcr = run(lambda: build_eks("r", VARIANTS["capacity-reservation"]), preview)
    (lt,) = odcr.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    assert lt.inputs["capacityReservationSpecification"] == {
        "capacityReservationTarget": {"capacityReservationId": "cr-0123456789abcdef0"}
    }
    assert "instanceMarketOptions" not in lt.inputs
    assert odcr.of_type(NODE_GROUP)[0].inputs["capacityType"] == "ON_DEMAND"

    block = edited(
        **{
            "capacity.baseline": {
                "instance_type": "g6e.12xlarge",
                "count": 2,
                "purchase": "capacity-block",
                "capacity_reservation_id": "cr-0fedcba9876543210",
            }
        }
    )
    cb = run(lambda: build_eks("b", block), preview)
    (lt,) = cb.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    assert lt.inputs["instanceMarketOptions"] == {"marketType": "capacity-block"}
    assert (
        lt.inputs["capacityReservationSpecification"]["capacityReservationTarget"]["capacityReservationId"]
        == "cr-0fedcba9876543210"
    )
    assert cb.of_type(NODE_GROUP)[0].inputs["capacityType"] == "CAPACITY_BLOCK"


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_create_cluster_mode_builds_a_minimal_cluster_and_puts_the_nodes_in_it(preview):
    from llama_infra.targets.eks.components import EksLlamaDeployment, EksLlamaDeploymentArgs

    spec = VARIANTS["prod-keda-karpenter"]
    mocks = run(
        lambda: EksLlamaDeployment(
            "c", EksLlamaDeploymentArgs(spec, subnet_ids=["subnet-1", "subnet-2"], create_cluster=True)
        ),
        preview,
    )
    (cluster,) = mocks.of_type("aws:eks/cluster:Cluster")
    assert cluster.inputs["name"] == "ml-prod" and cluster.inputs["version"] == "1.31"
    assert cluster.inputs["accessConfig"]["authenticationMode"] == "API"
    addons = sorted(r.inputs["addonName"] for r in mocks.of_type("aws:eks/addon:Addon"))
    assert addons == ["coredns", "eks-pod-identity-agent", "kube-proxy", "vpc-cni"]
    (group,) = mocks.of_type(NODE_GROUP)
    assert group.inputs["subnetIds"] == ["subnet-1", "subnet-2"]
    assert "aws:eks/getCluster:getCluster" not in [token for token, _ in mocks.calls]  # nothing to look up: we made it


def test_create_cluster_without_subnets_is_a_clear_error():
    from llama_infra.targets.eks.components import EksLlamaDeployment, EksLlamaDeploymentArgs

    with pytest.raises(Exception, match="create_cluster needs subnet_ids"):
        run(
            lambda: EksLlamaDeployment(
                "c", EksLlamaDeploymentArgs(VARIANTS["prod-keda-karpenter"], create_cluster=True)
            ),
            False,
        )


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_without_the_operator_the_scrape_configs_go_to_a_secret_in_prometheus_namespace(preview):
    """eks.scrape.via: scrape-config-secret: no PodMonitor (its CRD may be absent), one Secret for
    additionalScrapeConfigs holding the jobs of the model servers, the fallback and the router."""
    spec = edited(
        **{"eks.scrape": {"via": "scrape-config-secret"}},
        fallback={
            "model_id": "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4",
            "params_b": 8,
            "precision": "awq",
            "instance_type": "g6e.2xlarge",
        },
    )
    planned = run(lambda: build_eks("scr", spec), preview=preview)
    assert not [r for r in planned.resources if r.inputs.get("kind") == "PodMonitor"]
    (secret,) = [r for r in planned.resources if r.type == "kubernetes:core/v1:Secret"]
    assert secret.inputs["metadata"]["namespace"] == "monitoring" and secret.inputs["type"] == "Opaque"
    import json

    assert "stringData" in secret.secret_inputs  # pulumi-kubernetes makes a Secret's data a Pulumi secret
    jobs = json.loads(secret.inputs["stringData"]["scrape-configs.yaml"])
    assert [j["relabel_configs"][0]["regex"] for j in jobs] == [
        spec.name,
        f"{spec.name}-fallback",
        f"{spec.name}-router",
    ]
    (dcgm,) = [
        r
        for r in planned.resources
        if r.type == "kubernetes:helm.sh/v3:Release" and r.inputs["name"] == "dcgm-exporter"
    ]
    assert dcgm.inputs["values"]["serviceMonitor"] == {"enabled": False}


def test_the_operator_gets_pod_monitors_and_dcgm_its_service_monitor_with_the_same_labels(prod):
    (mon,) = [r for r in prod.resources if r.inputs.get("kind") == "PodMonitor"]
    assert mon.inputs["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    (dcgm,) = [
        r for r in prod.resources if r.type == "kubernetes:helm.sh/v3:Release" and r.inputs["name"] == "dcgm-exporter"
    ]
    assert dcgm.inputs["values"]["serviceMonitor"] == {
        "enabled": True,
        "additionalLabels": {"release": "kube-prometheus-stack"},
    }
