"""AWS Lambda entry point: `downsizing.handler.lambda_handler`, invoked by EventBridge Scheduler.

Event (the schedule's input; built by `SageMakerDownsizing`):
    {"endpoint_name": "...", "variant_name": "AllTraffic", "target_config_name": "...", "min_capacity": 1,
     "max_capacity": 2, "policies": null | [PutScalingPolicy fields], "timeout_s": 2400,
     "direction": "night" | "day", "window": "overnight"}

Lambda runs at most 15 minutes and a blue/green update of a large model can take longer, so when this invocation's
time is nearly used up while the endpoint is still Updating, the handler invokes itself asynchronously with the
recorded state (`resume`) and the original start time; the overall `timeout_s` still bounds the whole transition.
Environment: ALARM_TOPIC_ARN (optional SNS topic), AWS_REGION (set by Lambda).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from .log import JsonLog
from .state import EndpointState
from .workflow import Clients, transition

# Seconds kept back from Lambda's remaining time: one poll, a restore (a few API calls) and the re-invocation.
RESERVED_FOR_RESTORE_S = 90
REQUIRED = ("endpoint_name", "variant_name", "target_config_name", "min_capacity", "max_capacity")


def lambda_handler(event: dict[str, Any], context: Any, clients: Clients | None = None,
                   lambda_client: Any | None = None) -> dict[str, Any]:
    missing = [k for k in REQUIRED if k not in event]
    if missing:
        raise ValueError(f"downsizing event lacks {', '.join(missing)}; the schedule's input is malformed")
    log = JsonLog(endpoint=event["endpoint_name"], variant=event["variant_name"],
                  direction=event.get("direction"), window=event.get("window"))
    now = time.time()
    started = float(event.get("started_at_epoch_s") or now)
    remaining_s = context.get_remaining_time_in_millis() / 1000 if context is not None else 900.0
    resume = EndpointState.from_dict(event["resume"]) if event.get("resume") else None
    outcome = transition(
        event["endpoint_name"], event["variant_name"], event["target_config_name"], int(event["min_capacity"]),
        int(event["max_capacity"]), event.get("policies"), float(event.get("timeout_s", 1800)),
        clients=clients or Clients.from_boto3(), alarm_topic_arn=os.environ.get("ALARM_TOPIC_ARN") or None,
        poll_interval_s=float(event.get("poll_interval_s", 30)), resume=resume, started_at_epoch_s=started,
        stop_waiting_at_epoch_s=now + max(0.0, remaining_s - RESERVED_FOR_RESTORE_S), log=log,
    )
    if outcome.status == "continue":
        payload = {**event, "resume": outcome.previous.to_dict(), "started_at_epoch_s": started}
        if lambda_client is None:
            import boto3

            lambda_client = boto3.client("lambda")
        lambda_client.invoke(FunctionName=context.invoked_function_arn, InvocationType="Event",
                             Payload=json.dumps(payload).encode())
        log("continuation_invoked", function=context.invoked_function_arn)
    return {"status": outcome.status, "steps": outcome.steps,
            "endpoint_config": outcome.final.endpoint_config_name if outcome.final else None}
