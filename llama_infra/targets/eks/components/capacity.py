"""`EksGpuCapacity`: GPU nodes for one deployment on an existing EKS cluster.

- Reserved baseline: a managed node group of on-demand (or Capacity Block) nodes sized to the baseline, targeting
  a capacity reservation through its launch template when the spec names one; GPU taint, baseline label, IMDSv2
  hop limit 1, encrypted gp3 root, NVMe RAID0 (AL2023 NodeConfig) for weight preload. An on-demand baseline
  follows the downsizing schedule (`BaselineNodeSchedule`, `llama_infra.targets.eks.baseline_node_schedule`).
- Burst with Karpenter (`eks.karpenter: true`): EC2NodeClass + spot NodePool (+ on-demand fallback NodePool) and,
  when we own Karpenter's settings, its interruption queue.
- Burst without Karpenter: a SPOT managed node group from zero, tagged for cluster-autoscaler.
The plans (capacity types, labels, taints, sizes) come from `llama_infra.targets.kubernetes`; this module only
translates them.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from llama_infra.spec import DeploymentSpec
from llama_infra.targets.eks import baseline_node_schedule as node_schedule
from llama_infra.targets.eks import karpenter
from llama_infra.targets.eks.components._common import COMPONENT_PREFIX, child, node_role
from llama_infra.targets.eks.components.baseline_node_schedule import BaselineNodeSchedule, BaselineNodeScheduleArgs
from llama_infra.targets.eks.components.interruption_queue import (
    KarpenterInterruptionQueue,
    KarpenterInterruptionQueueArgs,
)
from llama_infra.targets.eks.node_groups import LaunchTemplatePlan, NodeGroupPlan, baseline_node_group, spot_node_group
from llama_infra.targets.kubernetes import labels


@dataclass
class EksGpuCapacityArgs:
    """Inputs of `EksGpuCapacity`: the spec, the cluster's Kubernetes provider and the node subnets."""

    spec: DeploymentSpec
    k8s_provider: k8s.Provider | None
    """Provider of the cluster (None: the ambient kubeconfig)."""
    subnet_ids: pulumi.Input[list[str]]
    """Private subnets of the managed node groups (Karpenter selects subnets by the discovery tag)."""
    cluster_name: pulumi.Input[str] | None = None
    """Default: spec.eks.cluster_name (pass the created cluster's name to order after it)."""
    ami_alias: str = karpenter.DEFAULT_AMI_ALIAS


class EksGpuCapacity(pulumi.ComponentResource):
    """GPU nodes of one deployment: a reserved baseline managed node group, and Karpenter spot/on-demand
    NodePools (with the interruption queue) or a SPOT managed node group for the burst."""

    baseline_node_group_name: pulumi.Output[str | None]
    baseline_node_schedule_names: pulumi.Output[list[str]]
    """EventBridge Scheduler schedules that scale an on-demand baseline overnight (empty when not scheduled)."""
    burst_node_group_name: pulumi.Output[str | None]
    node_pool_names: pulumi.Output[list[str]]
    interruption_queue_name: pulumi.Output[str | None]
    karpenter_node_role_name: pulumi.Output[str | None]

    def __init__(self, name: str, args: EksGpuCapacityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{COMPONENT_PREFIX}EksGpuCapacity", name, None, opts)
        spec = args.spec
        assert spec.eks is not None
        self._args = args
        self._cluster = args.cluster_name or spec.eks.cluster_name
        self._tags = labels.aws_tags(spec)
        self.node_groups: dict[str, aws.eks.NodeGroup] = {}
        self.node_pools: list[k8s.apiextensions.CustomResource] = []
        self.node_class: k8s.apiextensions.CustomResource | None = None
        self.interruption_queue: KarpenterInterruptionQueue | None = None
        self.karpenter_node_role: aws.iam.Role | None = None
        self.node_schedule: BaselineNodeSchedule | None = None

        role, attachments = node_role(f"{name}-node-role", self, self._tags, self._args.spec.region)
        base_plan = baseline_node_group(spec)
        if base_plan.max_size and spec.capacity.baseline.count:
            scheduled = bool(node_schedule.steps(spec))
            group = self._node_group(f"{name}-baseline", base_plan, role, attachments, scheduled=scheduled)
            self.node_groups["baseline"] = group
            if scheduled:
                self.node_schedule = BaselineNodeSchedule(
                    f"{name}-baseline-schedule", BaselineNodeScheduleArgs(spec, self._cluster, group), child(self)
                )

        if spec.eks.karpenter and karpenter.node_pools(spec):
            self._karpenter(name)
        else:
            burst_plan = spot_node_group(spec)
            if burst_plan:
                self.node_groups["burst"] = self._node_group(f"{name}-burst", burst_plan, role, attachments)

        self.baseline_node_group_name = _name_of(self.node_groups.get("baseline"))
        self.burst_node_group_name = _name_of(self.node_groups.get("burst"))
        self.baseline_node_schedule_names = (
            self.node_schedule.schedule_names if self.node_schedule else pulumi.Output.from_input([])
        )
        self.node_pool_names = pulumi.Output.all(*[p.metadata["name"] for p in self.node_pools])
        self.interruption_queue_name = (
            self.interruption_queue.queue_name if self.interruption_queue else pulumi.Output.from_input(None)
        )
        # Karpenter's controller role must be allowed iam:PassRole on it to launch burst nodes.
        self.karpenter_node_role_name = (
            self.karpenter_node_role.name if self.karpenter_node_role else pulumi.Output.from_input(None)
        )
        self.register_outputs(
            {
                "karpenter_node_role_name": self.karpenter_node_role_name,
                "baseline_node_group_name": self.baseline_node_group_name,
                "baseline_node_schedule_names": self.baseline_node_schedule_names,
                "burst_node_group_name": self.burst_node_group_name,
                "node_pool_names": self.node_pool_names,
                "interruption_queue_name": self.interruption_queue_name,
            }
        )

    # --- managed node groups -------------------------------------------------------------------------------

    def _launch_template(self, name: str, plan: LaunchTemplatePlan) -> aws.ec2.LaunchTemplate:
        crs = None
        if plan.capacity_reservation_id:
            target = aws.ec2.LaunchTemplateCapacityReservationSpecificationCapacityReservationTargetArgs(
                capacity_reservation_id=plan.capacity_reservation_id
            )
            crs = aws.ec2.LaunchTemplateCapacityReservationSpecificationArgs(capacity_reservation_target=target)
        return aws.ec2.LaunchTemplate(
            name,
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=plan.root_volume_gib,
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            capacity_reservation_specification=crs,
            instance_market_options=(
                aws.ec2.LaunchTemplateInstanceMarketOptionsArgs(market_type="capacity-block")
                if plan.capacity_block
                else None
            ),
            user_data=base64.b64encode(plan.user_data.encode()).decode() if plan.user_data else None,
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=self._tags)
                for kind in ("instance", "volume")
            ],
            update_default_version=True,
            tags=self._tags,
            opts=child(self),
        )

    def _node_group(
        self,
        name: str,
        plan: NodeGroupPlan,
        role: aws.iam.Role,
        attachments: list[aws.iam.RolePolicyAttachment],
        scheduled: bool = False,
    ) -> aws.eks.NodeGroup:
        lt = self._launch_template(f"{name}-lt", plan.launch_template)
        group = aws.eks.NodeGroup(
            name,
            cluster_name=self._cluster,
            node_role_arn=role.arn,
            subnet_ids=self._args.subnet_ids,
            capacity_type=plan.capacity_type,
            instance_types=plan.instance_types,
            ami_type=plan.ami_type,
            labels=plan.labels,
            taints=[
                aws.eks.NodeGroupTaintArgs(key=t["key"], value=t["value"], effect=t["effect"]) for t in plan.taints
            ],
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=plan.min_size, max_size=plan.max_size, desired_size=plan.desired_size
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            node_repair_config=aws.eks.NodeGroupNodeRepairConfigArgs(enabled=True),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(id=lt.id, version=lt.latest_version.apply(_version)),
            tags=plan.tags,
            # The autoscaler (and overnight schedules) own the desired size, a node-group schedule also the minimum
            # (0 at night); Pulumi must not reset them.
            opts=child(
                self,
                depends_on=attachments,
                ignore_changes=["scalingConfig.desiredSize"] + (["scalingConfig.minSize"] if scheduled else []),
            ),
        )
        for key, value in plan.asg_tags.items():
            # Managed node group tags do not reach its Auto Scaling group; cluster-autoscaler reads them there.
            aws.autoscaling.Tag(
                f"{name}-asg-tag-{_slug(key)}",
                autoscaling_group_name=group.resources.apply(_asg_name),
                tag=aws.autoscaling.TagTagArgs(key=key, value=value, propagate_at_launch=False),
                opts=child(self),
            )
        return group

    # --- Karpenter ---------------------------------------------------------------------------------------

    def _karpenter(self, name: str) -> None:
        spec = self._args.spec
        assert spec.eks is not None
        role, _ = node_role(f"{name}-karpenter-node-role", self, self._tags, spec.region)
        self.karpenter_node_role = role
        # Karpenter-launched nodes join through an EC2_LINUX access entry (managed node groups get theirs from EKS).
        access = aws.eks.AccessEntry(
            f"{name}-karpenter-node-access",
            cluster_name=self._cluster,
            principal_arn=role.arn,
            type="EC2_LINUX",
            tags=self._tags,
            opts=child(self),
        )
        k8s_opts = {"provider": self._args.k8s_provider}
        node_class = karpenter.ec2_node_class(spec, "PLACEHOLDER", self._args.ami_alias)
        node_class["spec"]["role"] = role.name
        self.node_class = _custom_resource(
            f"{name}-node-class", node_class, child(self, depends_on=[access], **k8s_opts)
        )
        for pool in karpenter.node_pools(spec):
            capacity = pool["spec"]["template"]["spec"]["requirements"][1]["values"][0]
            self.node_pools.append(
                _custom_resource(
                    f"{name}-burst-{capacity}", pool, child(self, depends_on=[self.node_class], **k8s_opts)
                )
            )
        if spec.eks.karpenter_interruption_queue:
            self.interruption_queue = KarpenterInterruptionQueue(
                f"{name}-interruption", KarpenterInterruptionQueueArgs(tags=self._tags), child(self)
            )


def _custom_resource(name: str, obj: dict, opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(
        name, api_version=obj["apiVersion"], kind=obj["kind"], metadata=obj["metadata"], spec=obj["spec"], opts=opts
    )


def _name_of(group: aws.eks.NodeGroup | None) -> pulumi.Output[str | None]:
    return group.node_group_name if group else pulumi.Output.from_input(None)


def _asg_name(resources) -> str | None:
    if not resources or not resources[0].autoscaling_groups:
        return None  # unknown until the group exists (preview, tests)
    return resources[0].autoscaling_groups[0].name


def _version(v: int | None) -> str | None:
    return None if v is None else str(v)


def _slug(key: str) -> str:
    short = key.removeprefix("k8s.io/cluster-autoscaler/")
    return "".join(c if c.isalnum() else "-" for c in short.lower()).strip("-")
