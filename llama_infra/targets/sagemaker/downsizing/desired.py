"""What the endpoint should run: the configurations the stack publishes, and which one is in force.

The stack publishes every configuration (the day one and one per window) in each schedule's input, so a `pulumi up`
that changes one reaches the endpoint at the next tick. Which configuration is in force is a small JSON record in
an SSM parameter: EventBridge Scheduler sets it at each window's start and (early by the lead time) end, in the
window's own timezone; every tick reads it. The record survives a crashed or throttled invocation, so a tick that
fails leaves nothing to remember: the next one reads the same record and the endpoint's own state and carries on.

The record also holds the **predictive floor** in force (`floor_min_capacity`): schedules in the plan timezone set it
at each step of the floor (`llama_infra.scaling.floor_schedule`) and clear it on Saturday 00:00. The variant's
minimum is then the configuration's own raised to the floor, never above the configuration's maximum
(`Configuration.limits`): one owner of min/max, so the floor neither fights the window limits nor is lost when a
switch deregisters the scalable target.

Where the floor **follows the load** (`floor_forecast_rps` > 0, set with the floor by each hour's schedule), every
tick follows it by the request rate the variant served over the last half hour (CloudWatch `Invocations`) against
the hour's forecast (`floor_follow.following_floor`), so a day quieter than the forecast does not hold the fleet
sized for it: the fewest instances whose capacity step (`floor_carries_rps`, what 1, 2, … instances carry at SLO,
set with the floor) holds the followed load, or without steps the floor scaled by the ratio. A tick that cannot
read the rate keeps the scheduled floor.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

DAY = "day"


def in_force_parameter_name(endpoint_name: str) -> str:
    """The SSM parameter that holds the record of `endpoint_name`."""
    return f"/llama-infra/{endpoint_name}/downsizing/in-force"


@dataclass(frozen=True)
class Configuration:
    """One serving configuration: its EndpointConfig, the variant's min/max and scaling policies, and how long a
    switch to it may take before the run alarms (update + bake, with margin)."""

    endpoint_config_name: str
    min_capacity: int
    max_capacity: int
    policies: list[dict[str, Any]] | None = None  # PutScalingPolicy fields; None keeps the policies found
    budget_s: float = 3600

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Configuration:
        return cls(
            str(data["endpoint_config_name"]),
            int(data["min_capacity"]),
            int(data["max_capacity"]),
            data.get("policies"),
            float(data.get("budget_s", 3600)),
        )

    def limits(self, floor_min_capacity: int = 0) -> tuple[int, int]:
        """(min, max) to register: the minimum raised to the predictive floor, within the maximum."""
        return min(max(self.min_capacity, floor_min_capacity), self.max_capacity), self.max_capacity


@dataclass(frozen=True)
class InForce:
    """The record in SSM: which configuration is in force since when, and what the workflow did about it."""

    configuration: str = DAY
    since_epoch_s: float = 0.0
    update_attempts: int = 0
    alarmed: bool = False
    kept_policies: list[dict[str, Any]] = field(default_factory=list)  # the policies found, when the stack names none
    floor_min_capacity: int = 0  # the predictive floor in force (0: none)
    floor_forecast_rps: float = 0.0  # the load the floor's hour forecasts (0: the floor does not follow the load)
    floor_carries_rps: list[float] = field(default_factory=list)  # the hour's capacity steps (none: proportional)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InForce:
        return cls(
            str(data.get("configuration") or DAY),
            float(data.get("since_epoch_s") or 0.0),
            int(data.get("update_attempts") or 0),
            bool(data.get("alarmed")),
            list(data.get("kept_policies") or []),
            int(data.get("floor_min_capacity") or 0),
            float(data.get("floor_forecast_rps") or 0.0),
            [float(c) for c in data.get("floor_carries_rps") or []],
        )

    def switched_to(self, configuration: str, now: float) -> InForce:
        return InForce(
            configuration,
            now,
            floor_min_capacity=self.floor_min_capacity,
            floor_forecast_rps=self.floor_forecast_rps,
            floor_carries_rps=self.floor_carries_rps,
        )

    def with_(self, **changes: Any) -> InForce:
        return replace(self, **changes)


def initial_record() -> str:
    """The parameter's value when the stack creates it: the day configuration, with no switch pending."""
    import json

    return json.dumps(InForce().to_dict(), sort_keys=True)


def read_in_force(ssm: Any, parameter_name: str) -> InForce:
    """The record, or the day configuration when the parameter is missing or unreadable JSON (logged by the
    caller as `in_force_defaulted`)."""
    import json

    try:
        value = ssm.get_parameter(Name=parameter_name)["Parameter"]["Value"]
    except Exception as e:  # noqa: BLE001 - only a missing parameter is defaulted; other errors propagate
        if type(e).__name__ == "ParameterNotFound" or "ParameterNotFound" in str(e):
            return InForce()
        raise
    try:
        data = json.loads(value)
    except ValueError:
        return InForce()
    return InForce.from_dict(data) if isinstance(data, dict) else InForce()


def write_in_force(ssm: Any, parameter_name: str, record: InForce) -> None:
    import json

    ssm.put_parameter(
        Name=parameter_name,
        Value=json.dumps(record.to_dict(), sort_keys=True, default=str),
        Type="String",
        Overwrite=True,
    )
