"""AWS Lambda entry point: `downsizing.handler.lambda_handler`, invoked by EventBridge Scheduler.

Event (a schedule's input; built by `SageMakerDownsizing`):
    {"endpoint_name": "...", "variant_name": "AllTraffic", "in_force_parameter": "/llama-infra/<endpoint>/in-force",
     "configurations": {"day": {"endpoint_config_name": "...", "min_capacity": 2, "max_capacity": 6,
                                "policies": null | [PutScalingPolicy fields], "budget_s": 3600},
                        "<window>": {...}},
     "set_in_force": "<window>" | "day",      # only the window schedules; the tick schedule omits it
     "set_floor": 3,                         # only the predictive floor's schedules (0 on Saturday 00:00)
     "set_forecast_rps": 12.5,               # with set_floor where the floor follows the load: the hour's forecast
     "set_floor_carries_rps": [3.1, 7.3],    # and what 1, 2, … instances carry at SLO then (floor − 1 values)
     "floor_follow": {"window_s": 1800, "margin": 0.1}}  # every schedule, where the floor follows the load

Each invocation is one tick (`workflow.tick`): it takes at most a few API calls and returns, so Lambda's 15-minute
limit never cuts a transition; a blue/green update that takes 40 minutes is simply waited for by the ticks that find
it `Updating`. Environment: ALARM_TOPIC_ARN (optional SNS topic), AWS_REGION (set by Lambda).
"""

from __future__ import annotations

import os
from typing import Any

from .desired import Configuration
from .log import JsonLog
from .workflow import Clients, Desired, FloorFollow, tick

REQUIRED = ("endpoint_name", "variant_name", "configurations", "in_force_parameter")


def desired_from_event(event: dict[str, Any]) -> Desired:
    missing = [k for k in REQUIRED if k not in event]
    if missing:
        raise ValueError(f"downsizing event lacks {', '.join(missing)}; the schedule's input is malformed")
    return Desired(
        event["endpoint_name"],
        event["variant_name"],
        {name: Configuration.from_dict(c) for name, c in event["configurations"].items()},
        event["in_force_parameter"],
        os.environ.get("ALARM_TOPIC_ARN") or None,
        FloorFollow.from_dict(event["floor_follow"]) if event.get("floor_follow") else None,
    )


def lambda_handler(event: dict[str, Any], context: Any, clients: Clients | None = None) -> dict[str, Any]:
    desired = desired_from_event(event)
    log = JsonLog(
        endpoint=desired.endpoint_name,
        variant=desired.variant_name,
        set_in_force=event.get("set_in_force"),
        set_floor=event.get("set_floor"),
    )
    result = tick(
        desired,
        clients or Clients.from_boto3(),
        set_in_force=event.get("set_in_force"),
        set_floor=event.get("set_floor"),
        set_forecast_rps=event.get("set_forecast_rps"),
        set_floor_carries_rps=event.get("set_floor_carries_rps"),
        log=log,
    )
    return {
        "status": result.status,
        "in_force": result.in_force,
        "actions": result.actions,
        "alarmed": result.alarmed,
        "error": result.error,
    }
