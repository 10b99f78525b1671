"""Names that fit: every physical name a spec produces stays within the limits of the API that holds it.

A spec `name` (and a window `name`) may be 40 characters, and components name children `<name>-<role>`; the
providers then autoname them `<logical name>-<7 hex>` (`llama_infra.contracts.autonaming`). Where that would pass
the limit, the name is shortened deterministically: its head, `-`, and 7 hex characters of a digest of the whole
name — the same input always gives the same name, and two names that differ anywhere stay different. Names that fit
are left exactly as they were (no resource of an existing stack is renamed).

- `fit(name, max_length, keep="")` for explicit names (schedule and function names): `keep` (e.g. `-night-down`)
  stays at the end, so a shortened name still says what it is and the day/night pair stays distinct.
- `logical(type_token, name)` for autonamed resources: the logical name shortened so that the provider's
  `<logical>-<7 hex>` fits the tighter of the provider's maximum and the API's (`contracts.name_limit`).
"""

from __future__ import annotations

import hashlib

DIGEST_CHARS = 7
# Pulumi types whose physical name is autonamed from the logical name (see llama_infra.contracts.autonaming).
ROLE = "aws:iam/role:Role"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
SQS_QUEUE = "aws:sqs/queue:Queue"
MODEL = "aws:sagemaker/model:Model"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
SCHEDULE_NAME_MAX = 64  # EventBridge Scheduler CreateSchedule Name (botocore)
FUNCTION_NAME_MAX = 64  # Lambda function name (pulumi-aws override; the API's FunctionName takes an ARN too)
_AUTONAME_SUFFIX = 1 + 7  # "-" + 7 random hex


def fit(name: str, max_length: int, keep: str = "") -> str:
    """`name` unchanged if it fits, else `<head>-<7 hex of name>` + `keep`, at most `max_length` long."""
    if len(name) <= max_length:
        return name
    if keep and not name.endswith(keep):
        raise ValueError(f"{name!r} does not end with {keep!r}")
    room = max_length - len(keep) - 1 - DIGEST_CHARS
    if room < 1:
        raise ValueError(f"cannot fit {name!r} in {max_length} characters keeping {keep!r}")
    base = name[: len(name) - len(keep)] if keep else name
    digest = hashlib.sha256(name.encode()).hexdigest()[:DIGEST_CHARS]
    return f"{base[:room].rstrip('-_.')}-{digest}{keep}"


def logical(type_token: str, name: str) -> str:
    """The logical name to give a resource the provider autonames, so that its physical name fits."""
    from llama_infra.contracts import name_limit

    limit = name_limit(type_token)
    return name if limit is None else fit(name, limit - _AUTONAME_SUFFIX)
