"""IAM policy documents as data (pure: no Pulumi): statements and service trust policies.

Shared by every component that writes a policy, so each document has one shape: `Action` sorted, `Resource` a list
of ARNs (or "*" where AWS has no resource type, said at the call site), and trust policies that name one service.
"""

from __future__ import annotations

from typing import Any

SCHEDULER_SERVICE = "scheduler.amazonaws.com"


def statement(sid: str, actions: list[str], resources: list[str] | str,
              condition: dict[str, Any] | None = None) -> dict[str, Any]:
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
