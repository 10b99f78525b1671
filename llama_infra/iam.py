"""IAM policy documents as data (pure: no Pulumi): statements and service trust policies.

Shared by every component that writes a policy, so each document has one shape: `Action` sorted, `Resource` a list
of ARNs (or "*" where AWS has no resource type, said at the call site), and trust policies that name one service.
"""

from __future__ import annotations

from functools import cache
from typing import Any

SCHEDULER_SERVICE = "scheduler.amazonaws.com"


@cache
def partition(region: str) -> str:
    """The AWS partition a region belongs to (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, ...): the first field of
    every ARN there. From botocore's endpoint data, which knows every partition and its region pattern."""
    import botocore.session

    return botocore.session.get_session().get_partition_for_region(region)


@cache
def dns_suffix(region: str) -> str:
    """The DNS suffix of a region's partition (`amazonaws.com`, `amazonaws.com.cn`, ...), from the same data."""
    from botocore.loaders import create_loader
    from botocore.regions import EndpointResolver

    return EndpointResolver(create_loader().load_data("endpoints")).get_partition_dns_suffix(partition(region))


def managed_policy_arn(policy_name: str, region: str) -> str:
    """An AWS managed policy (`arn:<partition>:iam::aws:policy/<name>`) in the region's partition."""
    return f"arn:{partition(region)}:iam::aws:policy/{policy_name}"


def s3_arn(bucket: str, key_pattern: str | None, region: str) -> str:
    """An S3 bucket (key_pattern None) or object ARN; S3 ARNs carry no region or account, but a partition."""
    return f"arn:{partition(region)}:s3:::{bucket}" + ("" if key_pattern is None else f"/{key_pattern}")


def statement(
    sid: str, actions: list[str], resources: list[str] | str, condition: dict[str, Any] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}
    if condition:
        out["Condition"] = condition
    return out


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def assume_role_policy(service: str, account: str | None = None) -> dict[str, Any]:
    """Trust policy for a service principal; with `account`, only on behalf of this account (confused deputy)."""
    trust: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if account:
        trust["Condition"] = {"StringEquals": {"aws:SourceAccount": account}}
    return {"Version": "2012-10-17", "Statement": [trust]}
