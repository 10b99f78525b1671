"""EventBridge Scheduler as Pulumi resources, shared by the SageMaker downsizing workflow and the EKS baseline node
group's schedule (one shape for both, so neither copies the other):

- `scheduler_role`: a role only EventBridge Scheduler acting for this account can assume (`aws:SourceAccount`),
  with one inline policy the caller writes for its own target (least privilege);
- `schedule`: a schedule that fires a `Cron` in its IANA timezone (6-field AWS form, `Cron.as_aws()`) at the exact
  minute (flexible time window OFF) with a bounded retry policy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from llama_infra import naming
from llama_infra.iam import SCHEDULER_SERVICE, assume_role_policy
from llama_infra.schedules import Cron

# A transient failure of the target (throttling, a concurrent update) is retried twice within 15 minutes; later the
# moment has passed and the next scheduled run converges instead.
RETRY_ATTEMPTS = 2
RETRY_MAX_EVENT_AGE_SECONDS = 900


@dataclass(frozen=True)
class SchedulerRole:
    role: aws.iam.Role
    policy: aws.iam.RolePolicy


def scheduler_role(
    name: str,
    *,
    account: pulumi.Input[str],
    policy: pulumi.Input[str],
    description: str,
    tags: dict[str, str] | None,
    parent: pulumi.Resource,
) -> SchedulerRole:
    """`<name>-role` assumable by EventBridge Scheduler for `account` only, and `<name>-policy` (a JSON document)."""
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        naming.logical(naming.ROLE, f"{name}-role"),
        assume_role_policy=pulumi.Output.from_input(account).apply(
            lambda acct: json.dumps(assume_role_policy(SCHEDULER_SERVICE, acct))
        ),
        description=description,
        tags=tags,
        opts=child,
    )
    role_policy = aws.iam.RolePolicy(f"{name}-policy", role=role.id, policy=policy, opts=child)
    return SchedulerRole(role, role_policy)


def schedule(
    name: str,
    *,
    schedule_name: str,
    description: str,
    cron: Cron | None = None,
    rate_minutes: int | None = None,
    target_arn: pulumi.Input[str],
    role: SchedulerRole,
    input: pulumi.Input[str],
    region: str | None,
    parent: pulumi.Resource,
    depends_on: list[pulumi.Resource] | None = None,
) -> aws.scheduler.Schedule:
    """A schedule that calls `target_arn` with `input` at every firing of `cron` (local time of its timezone), or
    every `rate_minutes` minutes."""
    if (cron is None) == (rate_minutes is None):
        raise ValueError("a schedule fires at a cron or at a rate: pass exactly one of cron, rate_minutes")
    return aws.scheduler.Schedule(
        name,
        name=schedule_name,
        description=description,
        schedule_expression=cron.as_aws() if cron else f"rate({rate_minutes} minutes)",
        schedule_expression_timezone=cron.timezone if cron else None,
        flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
        target=aws.scheduler.ScheduleTargetArgs(
            arn=target_arn,
            role_arn=role.role.arn,
            input=input,
            retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                maximum_retry_attempts=RETRY_ATTEMPTS, maximum_event_age_in_seconds=RETRY_MAX_EVENT_AGE_SECONDS
            ),
        ),
        region=region,
        # The role's policy must exist before the first firing, or the call is denied.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[role.policy, *(depends_on or [])]),
    )
