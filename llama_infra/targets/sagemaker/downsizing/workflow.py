"""The reconciler: each tick moves the endpoint one safe step toward the configuration in force.

Level-triggered, like a Kubernetes controller: nothing is remembered between ticks except the in-force record
(`desired.py`); every tick reads the endpoint as it is and takes the one step that state allows:

    endpoint gone                      → alarm (nothing can converge)
    Updating / Creating / RollingBack  → wait for the next tick (autoscaling is blocked during an update)
    Failed / OutOfService              → alarm
    InService on another configuration → delete policies, deregister the target, UpdateEndpoint (blue/green, the
                                         endpoint's deployment config retained); if UpdateEndpoint is refused,
                                         re-register the serving configuration's own limits at once
    InService on the one in force      → register its min/max (the minimum raised to the predictive floor in
                                         force, within the maximum; where the floor follows the load, the
                                         fewest instances that carry the rate served over the last half hour
                                         against the hour's forecast, `floor_follow`) and attach its policies
                                         where they differ

A tick that fails half-way (throttling, a time-out, the Lambda killed) leaves a state the next tick recognises.
The limits registered are always those of the configuration the endpoint is actually serving, never the previous
one's. A switch that has not converged within its budget (update + bake, with margin) or after `MAX_UPDATE_ATTEMPTS`
rolled-back updates raises the `TransitionFailed` metric and notifies the SNS topic (once per switch).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .alarm import raise_alarm
from .desired import DAY, Configuration, InForce, read_in_force, write_in_force
from .floor_follow import MARGIN, WINDOW_S, following_floor
from .log import JsonLog
from .state import (
    SERVICE_NAMESPACE,
    VARIANT_DIMENSION,
    EndpointMissing,
    EndpointState,
    ScalableTarget,
    invocations_per_second,
    policies_match,
    policy_request,
    record,
    variant_resource_id,
)

SETTLING = frozenset({"Updating", "SystemUpdating", "RollingBack", "Creating"})
BROKEN = frozenset({"Failed", "UpdateRollbackFailed", "OutOfService", "Deleting"})
MAX_UPDATE_ATTEMPTS = 3  # rolled-back blue/green updates toward one configuration before the workflow gives up


@dataclass
class Clients:
    sagemaker: Any
    autoscaling: Any
    cloudwatch: Any
    ssm: Any
    sns: Any | None = None

    @classmethod
    def from_boto3(cls, region_name: str | None = None) -> Clients:
        import boto3

        session = boto3.session.Session(region_name=region_name)
        return cls(
            session.client("sagemaker"),
            session.client("application-autoscaling"),
            session.client("cloudwatch"),
            session.client("ssm"),
            session.client("sns"),
        )


@dataclass(frozen=True)
class FloorFollow:
    """How the predictive floor follows the load (`floor_follow`): the trailing window of the observed rate and how
    far below the forecast the load may run before the floor falls."""

    window_s: float = WINDOW_S
    margin: float = MARGIN

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FloorFollow:
        window_s, margin = float(data.get("window_s", WINDOW_S)), float(data.get("margin", MARGIN))
        if not 60 <= window_s <= 86400 or not 0 <= margin <= 1:
            raise ValueError(f"floor_follow needs 60 ≤ window_s ≤ 86400 and 0 ≤ margin ≤ 1, got {data!r}")
        return cls(window_s, margin)


@dataclass(frozen=True)
class Desired:
    """Everything a tick needs to know about the stack (the schedule's input)."""

    endpoint_name: str
    variant_name: str
    configurations: dict[str, Configuration]
    in_force_parameter: str
    alarm_topic_arn: str | None = None
    floor_follow: FloorFollow | None = None  # None: the floor in force is the scheduled one

    def __post_init__(self) -> None:
        if DAY not in self.configurations:
            raise ValueError(f"the configurations name no '{DAY}' configuration: {sorted(self.configurations)}")

    def serving(self, endpoint_config_name: str) -> Configuration | None:
        """The configuration whose EndpointConfig the endpoint runs (None: one this stack no longer publishes)."""
        return next((c for c in self.configurations.values() if c.endpoint_config_name == endpoint_config_name), None)


@dataclass
class Tick:
    """What one tick found and did. `converged`: the endpoint runs the configuration in force with its limits and
    policies."""

    status: str
    in_force: str
    actions: list[str] = field(default_factory=list)
    alarmed: bool = False
    error: str | None = None

    @property
    def converged(self) -> bool:
        return self.status == "converged"


def _checked_capacity_steps(value: Any) -> list[float]:
    """`set_floor_carries_rps` checked: a list of request rates ≥ 0 that never decrease (empty when absent)."""
    if value is None:
        return []
    ok = isinstance(value, list) and all(
        isinstance(c, int | float) and not isinstance(c, bool) and 0 <= c < 1e9 for c in value
    )
    if not ok or any(b < a for a, b in zip(value, value[1:], strict=False)):
        raise ValueError(
            f"set_floor_carries_rps must be a list of request rates ≥ 0 that never decrease, got {value!r}"
        )
    return [float(c) for c in value]


def tick(
    desired: Desired,
    clients: Clients,
    *,
    set_in_force: str | None = None,
    set_floor: int | None = None,
    set_forecast_rps: float | None = None,
    set_floor_carries_rps: list[float] | None = None,
    log: JsonLog | None = None,
    clock: Callable[[], float] = time.time,
) -> Tick:
    """One reconciliation step. `set_in_force` (the window schedules) records a new configuration in force first,
    `set_floor` (the predictive floor's schedules) a new floor, with the load its hour forecasts
    (`set_forecast_rps`; 0 or absent: the floor does not follow the load) and what 1, 2, … instances carry at SLO in
    that hour (`set_floor_carries_rps`; absent: the floor follows the load in proportion)."""
    log = log or JsonLog(endpoint=desired.endpoint_name, variant=desired.variant_name)
    now = clock()
    rec = read_in_force(clients.ssm, desired.in_force_parameter)
    if set_in_force is not None and set_in_force != rec.configuration:
        if set_in_force not in desired.configurations:
            raise ValueError(f"set_in_force '{set_in_force}' is none of {sorted(desired.configurations)}")
        rec = rec.switched_to(set_in_force, now)
        write_in_force(clients.ssm, desired.in_force_parameter, rec)
        log("in_force_set", configuration=set_in_force)
    if set_floor is not None:
        if not isinstance(set_floor, int) or isinstance(set_floor, bool) or set_floor < 0:
            raise ValueError(f"set_floor must be a whole number of instances ≥ 0, got {set_floor!r}")
        forecast = set_forecast_rps or 0.0
        if isinstance(forecast, bool) or not isinstance(forecast, int | float) or not 0 <= forecast < 1e9:
            raise ValueError(f"set_forecast_rps must be a request rate ≥ 0, got {set_forecast_rps!r}")
        carries = _checked_capacity_steps(set_floor_carries_rps)
        if (set_floor, float(forecast), carries) != (
            rec.floor_min_capacity,
            rec.floor_forecast_rps,
            rec.floor_carries_rps,
        ):
            rec = rec.with_(floor_min_capacity=set_floor, floor_forecast_rps=float(forecast), floor_carries_rps=carries)
            write_in_force(clients.ssm, desired.in_force_parameter, rec)
            log(
                "floor_set", floor_min_capacity=set_floor, floor_forecast_rps=float(forecast), floor_carries_rps=carries
            )
    name = rec.configuration if rec.configuration in desired.configurations else DAY
    if name != rec.configuration:
        log("in_force_unknown", recorded=rec.configuration, using=DAY)  # the stack removed that window
    want = desired.configurations[name]
    r = _Reconciler(desired, clients, log, rec, name, want, now)
    try:
        result = r.step()
    except Exception as e:  # noqa: BLE001 - a failed step is retried by the next tick; the budget still counts
        log("tick_failed", error=f"{type(e).__name__}: {e}", actions=r.actions)
        result = r._result("error")
        result.error = f"{type(e).__name__}: {e}"
    r.check_budget(result)
    if r.rec != rec:
        write_in_force(clients.ssm, desired.in_force_parameter, r.rec)
    log("tick_done", status=result.status, in_force=name, actions=result.actions, alarmed=result.alarmed)
    return result


@dataclass
class _Reconciler:
    desired: Desired
    clients: Clients
    log: JsonLog
    rec: InForce
    name: str
    want: Configuration
    now: float
    actions: list[str] = field(default_factory=list)
    alarmed: bool = False
    _floor: int | None = None

    def floor(self) -> int:
        """The predictive floor in force: the scheduled one, scaled by the load where it follows it (read once per
        tick; a tick that cannot read the rate keeps the scheduled floor)."""
        rec, follow = self.rec, self.desired.floor_follow
        if not rec.floor_min_capacity or rec.floor_forecast_rps <= 0 or follow is None:
            return rec.floor_min_capacity
        if self._floor is None:
            d = self.desired
            try:
                rps = invocations_per_second(
                    self.clients.cloudwatch, d.endpoint_name, d.variant_name, follow.window_s, self.now
                )
            except Exception as e:  # noqa: BLE001 - no rate read: the scheduled floor holds
                self.log("floor_load_unread", error=f"{type(e).__name__}: {e}")
                self._floor = rec.floor_min_capacity
            else:
                self._floor = following_floor(
                    rec.floor_min_capacity, rps, rec.floor_forecast_rps, follow.margin, rec.floor_carries_rps
                )
                self.log(
                    "floor_followed",
                    observed_rps=round(rps, 3),
                    forecast_rps=rec.floor_forecast_rps,
                    scheduled=rec.floor_min_capacity,
                    floor_min_capacity=self._floor,
                )
        return self._floor

    @property
    def _target_ids(self) -> dict[str, Any]:
        return {
            "ServiceNamespace": SERVICE_NAMESPACE,
            "ScalableDimension": VARIANT_DIMENSION,
            "ResourceId": variant_resource_id(self.desired.endpoint_name, self.desired.variant_name),
        }

    def _result(self, status: str) -> Tick:
        return Tick(status, self.name, self.actions, self.alarmed)

    def step(self) -> Tick:
        d = self.desired
        try:
            found = record(self.clients.sagemaker, self.clients.autoscaling, d.endpoint_name, d.variant_name)
        except EndpointMissing as e:
            self.alarm("endpoint_missing", str(e))
            return self._result("endpoint_missing")
        self.log("state_recorded", state=found.to_dict(), in_force=self.name)
        if found.status in SETTLING:
            return self._result("waiting")
        if found.status != "InService":
            self.alarm("endpoint_broken", f"endpoint is {found.status}: {found.failure_reason or 'no reason given'}")
            return self._result("endpoint_broken")
        if found.endpoint_config_name != self.want.endpoint_config_name:
            return self.switch(found)
        return self.settle(found)

    # --- InService on another configuration: one blue/green update toward the one in force ---------------------

    def switch(self, found: EndpointState) -> Tick:
        serving = self.desired.serving(found.endpoint_config_name) or Configuration(
            found.endpoint_config_name,
            *(
                (found.target.min_capacity, found.target.max_capacity)
                if found.target
                else (self.want.min_capacity, self.want.max_capacity)
            ),
            self.want.policies,
        )
        if self.rec.update_attempts >= MAX_UPDATE_ATTEMPTS:
            # Stop retrying a switch SageMaker keeps rolling back; keep the serving fleet autoscaled on its limits.
            self.settle(found, serving, give_up=True)
            self.alarm(
                "gave_up",
                f"{self.rec.update_attempts} updates to {self.want.endpoint_config_name} rolled "
                f"back ({found.failure_reason or 'no reason given'}); serving {found.endpoint_config_name}",
            )
            return self._result("gave_up")
        if self.want.policies is None and found.policies:
            self.rec = self.rec.with_(kept_policies=found.policies)
        # Written before anything changes, so a crash after UpdateEndpoint still counts the attempt.
        self.rec = self.rec.with_(update_attempts=self.rec.update_attempts + 1)
        write_in_force(self.clients.ssm, self.desired.in_force_parameter, self.rec)
        for p in found.policies:
            self._call(
                "delete_policy",
                self.clients.autoscaling.delete_scaling_policy,
                PolicyName=p["PolicyName"],
                **self._target_ids,
                missing_ok=True,
            )
        if found.target is not None:
            self._call(
                "deregister_target",
                self.clients.autoscaling.deregister_scalable_target,
                **self._target_ids,
                missing_ok=True,
            )
        try:
            self._call(
                "update_endpoint",
                self.clients.sagemaker.update_endpoint,
                EndpointName=self.desired.endpoint_name,
                EndpointConfigName=self.want.endpoint_config_name,
                # Keep the canary and the alarm rollback the stack gave the endpoint (DeploymentConfig).
                RetainDeploymentConfig=True,
            )
        except Exception as e:  # noqa: BLE001 - the serving fleet gets its autoscaling back, then the tick fails
            self.log("update_refused", error=f"{type(e).__name__}: {e}")
            self._restore(serving, found.policies)
            raise
        return self._result("update_started")

    def _restore(self, limits: Configuration, found_policies: list[dict[str, Any]]) -> None:
        lo, hi = limits.limits(self.floor())
        self._call(
            "register_target",
            self.clients.autoscaling.register_scalable_target,
            MinCapacity=lo,
            MaxCapacity=hi,
            **self._target_ids,
        )
        self._put_policies(limits.policies if limits.policies is not None else found_policies, [])

    # --- InService on the configuration in force: its limits and policies ----------------------------------------

    def settle(self, found: EndpointState, config: Configuration | None = None, give_up: bool = False) -> Tick:
        config = config or self.want
        wanted_target = ScalableTarget(*config.limits(self.floor()))
        if config.policies is not None:
            wanted_policies = [policy_request(p) for p in config.policies]
        else:
            wanted_policies = found.policies or self.rec.kept_policies
        if found.target != wanted_target:
            self._call(
                "register_target",
                self.clients.autoscaling.register_scalable_target,
                MinCapacity=wanted_target.min_capacity,
                MaxCapacity=wanted_target.max_capacity,
                **self._target_ids,
            )
        if not policies_match(wanted_policies, found.policies):
            self._put_policies(wanted_policies, found.policies)
        if give_up:
            return self._result("gave_up")
        if self.rec.update_attempts or self.rec.alarmed:
            if self.rec.alarmed:
                self.log("recovered", configuration=self.name)
            self.rec = self.rec.with_(update_attempts=0, alarmed=False)
        return self._result("converged")

    def _put_policies(self, wanted: list[dict[str, Any]], current: list[dict[str, Any]]) -> None:
        names = {p["PolicyName"] for p in wanted}
        for p in current:
            if p["PolicyName"] not in names:
                self._call(
                    "delete_policy",
                    self.clients.autoscaling.delete_scaling_policy,
                    PolicyName=p["PolicyName"],
                    **self._target_ids,
                    missing_ok=True,
                )
        for p in wanted:
            self._call(
                "put_policy", self.clients.autoscaling.put_scaling_policy, **policy_request(p), **self._target_ids
            )

    # --- plumbing ----------------------------------------------------------------------------------------------

    def _call(self, action: str, fn: Callable[..., Any], missing_ok: bool = False, **kwargs: Any) -> Any:
        self.log(
            "action",
            action=action,
            **{
                k: v
                for k, v in kwargs.items()
                if k in ("PolicyName", "EndpointConfigName", "MinCapacity", "MaxCapacity")
            },
        )
        try:
            out = fn(**kwargs)
        except Exception as e:  # noqa: BLE001
            if missing_ok and "ObjectNotFoundException" in f"{type(e).__name__} {e}":
                self.log("already_gone", action=action)
                return None
            self.log("action_failed", action=action, error=f"{type(e).__name__}: {e}")
            raise
        self.actions.append(action)
        return out

    def check_budget(self, result: Tick) -> None:
        """Raise the alarm while a switch has not converged within the configuration's budget."""
        if result.converged or self.alarmed:
            return
        late_s = self.now - self.rec.since_epoch_s
        if self.rec.since_epoch_s and late_s > self.want.budget_s:
            self.alarm(
                "not_converged",
                f"{late_s:.0f} s after '{self.name}' came in force the endpoint is still "
                f"{result.status} (budget {self.want.budget_s:.0f} s)",
            )

    def alarm(self, reason: str, detail: str) -> None:
        """The metric at every tick that finds the problem; SNS once, until the endpoint converges again."""
        summary = {
            "endpoint": self.desired.endpoint_name,
            "variant": self.desired.variant_name,
            "reason": reason,
            "detail": detail,
            "in_force": self.name,
            "since_epoch_s": self.rec.since_epoch_s,
            "update_attempts": self.rec.update_attempts,
        }
        notify = not self.rec.alarmed
        problems = raise_alarm(
            self.clients.cloudwatch,
            self.clients.sns if notify else None,
            self.desired.alarm_topic_arn,
            self.desired.endpoint_name,
            summary,
        )
        self.rec = self.rec.with_(alarmed=True)
        self.alarmed = True
        self.log("transition_failed", **summary, alarm_problems=problems)
