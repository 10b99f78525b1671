"""The transition itself: one idempotent pass from whatever the endpoint runs now to the wanted configuration.

Order of steps (SageMaker rejects an instance-type change on an autoscaled variant):
`record` → `delete_policies` → `deregister_target` → `update_endpoint` → `wait_in_service` →
`register_target` → `put_policies`. A failure at any step restores the recorded scalable target and policies,
raises the alarm and raises `TransitionFailed`. The endpoint itself is never left without a serving fleet:
UpdateEndpoint is blue/green, and SageMaker rolls a failed update back to the old configuration.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .alarm import raise_alarm
from .log import JsonLog
from .state import (SERVICE_NAMESPACE, VARIANT_DIMENSION, EndpointState, ScalableTarget, policies_match,
                    policy_request, record, variant_resource_id)

STEPS = ("record", "delete_policies", "deregister_target", "update_endpoint", "wait_in_service",
         "register_target", "put_policies")
_SETTLING = {"Updating", "SystemUpdating", "RollingBack", "Creating"}
_BROKEN = {"Failed", "UpdateRollbackFailed", "OutOfService", "Deleting"}


@dataclass
class Clients:
    sagemaker: Any
    autoscaling: Any
    cloudwatch: Any
    sns: Any | None = None

    @classmethod
    def from_boto3(cls, region_name: str | None = None) -> Clients:
        import boto3

        session = boto3.session.Session(region_name=region_name)
        return cls(session.client("sagemaker"), session.client("application-autoscaling"),
                   session.client("cloudwatch"), session.client("sns"))


@dataclass
class Outcome:
    """`unchanged` (already in the wanted state), `done`, or `continue` (still Updating; resume with `previous`)."""

    status: str
    previous: EndpointState
    final: EndpointState | None = None
    steps: list[str] = field(default_factory=list)


class TransitionFailed(RuntimeError):
    def __init__(self, endpoint_name: str, step: str, cause: BaseException, restore_problems: list[str],
                 alarm_problems: list[str]):
        self.step, self.cause = step, cause
        self.restore_problems, self.alarm_problems = restore_problems, alarm_problems
        restored = ("previous scalable target and policies restored" if not restore_problems
                    else "restore incomplete: " + "; ".join(restore_problems))
        super().__init__(f"{endpoint_name}: transition failed at step {step}: {type(cause).__name__}: {cause}; "
                         f"{restored}")


class _StepFailed(Exception):
    def __init__(self, step: str, cause: BaseException):
        super().__init__(step)
        self.step, self.cause = step, cause


class EndpointNotReady(RuntimeError):
    """The endpoint is not InService on the configuration we asked for."""


def transition(endpoint_name: str, variant_name: str, target_config_name: str, min_capacity: int,
               max_capacity: int, policy_spec: list[dict[str, Any]] | None = None, timeout_s: float = 1800, *,
               clients: Clients | None = None, alarm_topic_arn: str | None = None, poll_interval_s: float = 30,
               resume: EndpointState | None = None, started_at_epoch_s: float | None = None,
               stop_waiting_at_epoch_s: float | None = None, log: JsonLog | None = None,
               clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """Move the endpoint to `target_config_name` with min/max capacity and `policy_spec` (PutScalingPolicy fields;
    None keeps the policies it has). Waits at most `timeout_s` for InService; `stop_waiting_at_epoch_s` ends this
    invocation's wait early with a `continue` outcome (Lambda's 15-minute limit) to be resumed with `resume`."""
    clients = clients or Clients.from_boto3()
    log = log or JsonLog(endpoint=endpoint_name, variant=variant_name)
    run = _Run(endpoint_name, variant_name, clients, log, clock, sleep, poll_interval_s,
               alarm_topic_arn=alarm_topic_arn)
    started = started_at_epoch_s if started_at_epoch_s is not None else clock()
    deadline = started + timeout_s
    stop_waiting = min(deadline, stop_waiting_at_epoch_s) if stop_waiting_at_epoch_s else deadline
    log("transition_started", target_config=target_config_name, min_capacity=min_capacity,
        max_capacity=max_capacity, resumed=resume is not None)

    try:
        previous = resume or run.step("record", run.record)
        if resume is None and previous.status != "InService":
            raise _StepFailed("record", EndpointNotReady(
                f"endpoint is {previous.status}, not InService; nothing was changed"))
    except _StepFailed as failed:
        raise run.fail(failed, None) from failed.cause

    wanted_target = ScalableTarget(min_capacity, max_capacity)
    wanted_policies = [policy_request(p) for p in policy_spec] if policy_spec is not None else previous.policies
    if (resume is None and previous.endpoint_config_name == target_config_name and previous.target == wanted_target
            and policies_match(wanted_policies, previous.policies)):
        log("transition_unchanged", endpoint_config=target_config_name)
        return Outcome("unchanged", previous, previous)

    try:
        if resume is None and previous.endpoint_config_name != target_config_name:
            run.step("delete_policies", run.delete_policies, previous.policies)
            if previous.target:
                run.step("deregister_target", run.deregister)
            run.step("update_endpoint", run.update_endpoint, target_config_name)
        if resume is not None or previous.endpoint_config_name != target_config_name:
            ready = run.step("wait_in_service", run.wait_in_service, target_config_name, deadline, stop_waiting)
            if not ready:
                log("transition_continues", waited_until=stop_waiting, deadline=deadline)
                return Outcome("continue", previous, None, run.done)
        run.step("register_target", run.register, wanted_target)
        run.step("put_policies", run.put_policies, wanted_policies)
    except _StepFailed as failed:
        raise run.fail(failed, previous, stop_waiting) from failed.cause
    final = run.record()
    log("transition_done", endpoint_config=final.endpoint_config_name, min_capacity=min_capacity,
        max_capacity=max_capacity, policies=[p["PolicyName"] for p in final.policies])
    return Outcome("done", previous, final, run.done)


@dataclass
class _Run:
    endpoint_name: str
    variant_name: str
    clients: Clients
    log: JsonLog
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    poll_interval_s: float
    done: list[str] = field(default_factory=list)
    alarm_topic_arn: str | None = None

    @property
    def _target_ids(self) -> dict[str, str]:
        return {"ServiceNamespace": SERVICE_NAMESPACE, "ScalableDimension": VARIANT_DIMENSION,
                "ResourceId": variant_resource_id(self.endpoint_name, self.variant_name)}

    def step(self, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        self.log("step_started", step=name)
        try:
            result = fn(*args)
        except Exception as e:  # noqa: BLE001 - every failure leads to the same restore
            self.log("step_failed", step=name, error=f"{type(e).__name__}: {e}")
            raise _StepFailed(name, e) from e
        self.done.append(name)
        self.log("step_done", step=name)
        return result

    def record(self) -> EndpointState:
        state = record(self.clients.sagemaker, self.clients.autoscaling, self.endpoint_name, self.variant_name)
        self.log("state_recorded", state=state.to_dict())
        return state

    def delete_policies(self, policies: list[dict[str, Any]]) -> None:
        for p in policies:
            self.clients.autoscaling.delete_scaling_policy(PolicyName=p["PolicyName"], **self._target_ids)

    def deregister(self) -> None:
        self.clients.autoscaling.deregister_scalable_target(**self._target_ids)

    def update_endpoint(self, config_name: str) -> None:
        self.clients.sagemaker.update_endpoint(EndpointName=self.endpoint_name, EndpointConfigName=config_name)

    def wait_in_service(self, config_name: str, deadline: float, stop_waiting: float) -> bool:
        """True once InService on `config_name`; False when this invocation must stop waiting (resume later)."""
        while True:
            ep = self.clients.sagemaker.describe_endpoint(EndpointName=self.endpoint_name)
            status = ep["EndpointStatus"]
            self.log("endpoint_status", status=status, endpoint_config=ep["EndpointConfigName"])
            if status == "InService":
                if ep["EndpointConfigName"] != config_name:
                    raise EndpointNotReady(f"update rolled back: InService on {ep['EndpointConfigName']}, not "
                                           f"{config_name} ({ep.get('FailureReason', 'no reason given')})")
                return True
            if status in _BROKEN:
                raise EndpointNotReady(f"endpoint is {status}: {ep.get('FailureReason', 'no reason given')}")
            now = self.clock()
            if now >= deadline:
                raise TimeoutError(f"endpoint still {status} when the transition timeout ran out")
            if now >= stop_waiting:
                return False
            self.sleep(min(self.poll_interval_s, max(0.0, stop_waiting - now)))

    def register(self, target: ScalableTarget) -> None:
        self.clients.autoscaling.register_scalable_target(
            MinCapacity=target.min_capacity, MaxCapacity=target.max_capacity, **self._target_ids)

    def put_policies(self, wanted: list[dict[str, Any]]) -> None:
        current = self.record().policies
        names = {p["PolicyName"] for p in wanted}
        for p in current:
            if p["PolicyName"] not in names:
                self.clients.autoscaling.delete_scaling_policy(PolicyName=p["PolicyName"], **self._target_ids)
        for p in wanted:
            self.clients.autoscaling.put_scaling_policy(**policy_request(p), **self._target_ids)

    # --- failure path -------------------------------------------------------------------------------------------

    def fail(self, failed: _StepFailed, previous: EndpointState | None,
             stop_waiting: float | None = None) -> TransitionFailed:
        restore_problems = self.restore(previous, stop_waiting) if previous else []
        summary = {"endpoint": self.endpoint_name, "variant": self.variant_name, "failed_step": failed.step,
                   "error": f"{type(failed.cause).__name__}: {failed.cause}", "steps_done": self.done,
                   "previous": previous.to_dict() if previous else None, "restore_problems": restore_problems}
        alarm_problems = raise_alarm(self.clients.cloudwatch, self.clients.sns, self.alarm_topic_arn,
                                     self.endpoint_name, summary)
        self.log("transition_failed", **summary, alarm_problems=alarm_problems)
        return TransitionFailed(self.endpoint_name, failed.step, failed.cause, restore_problems, alarm_problems)

    def restore(self, previous: EndpointState, stop_waiting: float | None) -> list[str]:
        """Put back the recorded target and policies; each part is tried even when another fails."""
        problems: list[str] = []
        try:
            self._settle(stop_waiting)
        except Exception as e:  # noqa: BLE001
            problems.append(f"describe_endpoint: {e}")
        if previous.target is not None:
            try:
                self.register(previous.target)
            except Exception as e:  # noqa: BLE001
                problems.append(f"register_scalable_target: {e}")
        try:
            self.put_policies(previous.policies)
        except Exception as e:  # noqa: BLE001
            problems.append(f"put_scaling_policy: {e}")
        try:
            after = self.record()
            self.log("restored", serving_config=after.endpoint_config_name, status=after.status,
                     target=after.target, policies=[p["PolicyName"] for p in after.policies])
            if previous.target is not None and after.target != previous.target:
                problems.append(f"scalable target is {after.target}, expected {previous.target}")
        except Exception as e:  # noqa: BLE001
            problems.append(f"record after restore: {e}")
        return problems

    def _settle(self, stop_waiting: float | None) -> None:
        """Autoscaling is blocked while the endpoint updates: wait (within this invocation) for it to settle."""
        while True:
            status = self.clients.sagemaker.describe_endpoint(EndpointName=self.endpoint_name)["EndpointStatus"]
            now = self.clock()
            if status not in _SETTLING or stop_waiting is None or now >= stop_waiting:
                return
            self.sleep(min(self.poll_interval_s, stop_waiting - now))
