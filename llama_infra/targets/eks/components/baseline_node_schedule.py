"""`BaselineNodeSchedule`: the on-demand baseline managed node group follows the downsizing schedule.

Per scheduled window (`llama_infra.targets.eks.baseline_node_schedule`, which also says which specs and windows qualify
and when),
two EventBridge Scheduler schedules call EKS `UpdateNodegroupConfig` through the universal target (no Lambda), with a
role that only EventBridge Scheduler of this account can assume and that may only update this node group
(`components/scheduler.py`, shared with SageMaker downsizing). `EksGpuCapacity` builds it as its child and puts
`scalingConfig.minSize` in the node group's `ignore_changes`, so `pulumi up` does not undo the schedule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from llama_infra import naming
from llama_infra.spec import DeploymentSpec
from llama_infra.targets.aws.scheduler import schedule, scheduler_role
from llama_infra.targets.eks import baseline_node_schedule as node_schedule
from llama_infra.targets.eks.components._common import COMPONENT_PREFIX
from llama_infra.targets.kubernetes import labels


@dataclass
class BaselineNodeScheduleArgs:
    spec: DeploymentSpec
    """The validated spec; `baseline_node_schedule.steps(spec)` must not be empty."""
    cluster_name: pulumi.Input[str]
    node_group: aws.eks.NodeGroup
    """The baseline managed node group (its name and ARN)."""


class BaselineNodeSchedule(pulumi.ComponentResource):
    """EventBridge Scheduler schedules that scale the baseline node group in at night and out in the morning."""

    schedule_names: pulumi.Output[list[str]]
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: BaselineNodeScheduleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{COMPONENT_PREFIX}BaselineNodeSchedule", name, None, opts)
        spec, group = args.spec, args.node_group
        steps = node_schedule.steps(spec)
        if not steps:
            raise ValueError(f"spec '{spec.name}' has no node-group schedule (baseline_node_schedule.plan says why)")
        role = scheduler_role(
            f"{name}-scheduler",
            account=group.arn.apply(lambda arn: arn.split(":")[4]),
            policy=group.arn.apply(lambda arn: json.dumps(node_schedule.scheduler_policy(arn))),
            description=f"EventBridge Scheduler: scale the baseline node group of {spec.name} on its schedule",
            tags=labels.aws_tags(spec),
            parent=self,
        )
        made = []
        for step in steps:
            made.append(
                schedule(
                    f"{name}-{step.window}-{step.direction}",
                    schedule_name=naming.fit(
                        f"{spec.name}-{step.window}-nodes-{step.direction}",
                        naming.SCHEDULE_NAME_MAX,
                        keep=f"-nodes-{step.direction}",
                    ),
                    description=_describe(step),
                    cron=step.cron,
                    target_arn=node_schedule.scheduler_target_arn(spec.region),
                    role=role,
                    input=pulumi.Output.json_dumps(step.update_input(args.cluster_name, group.node_group_name)),
                    region=None,
                    parent=self,
                )
            )
        self.schedule_names = pulumi.Output.all(*(s.name for s in made))
        self.role_arn = role.role.arn
        self.register_outputs({"schedule_names": self.schedule_names, "role_arn": self.role_arn})


def _describe(step: node_schedule.Step) -> str:
    when = (
        "after the window starts and the baseline pods are gone"
        if step.direction == "night"
        else "before the window ends, with the day baseline's KEDA cron"
    )
    return f"llama-infra: baseline node group to {step.nodes} nodes ({step.window}, {when})"[:512]
