"""The downsizing reconciler against moto (UpdateEndpoint added by the `aws` fixture), ticking every 5 minutes.

Invariants, over the fault matrix (every AWS call the workflow makes × throttling, a failure, a time-out, the
Lambda killed before or after the call) and the races that broke the edge-triggered workflow (an update already
running, a morning run during the night update, the endpoint deleted, an update longer than its budget):

- the endpoint ends on the configuration in force, with that configuration's limits and policies, within a bounded
  number of ticks;
- it is never InService without a scalable target for longer than one tick;
- a switch that cannot converge raises the alarm metric and notifies the topic.
"""

from __future__ import annotations

import json
from typing import Any

import botocore.exceptions
import pytest
from downsizing_world import (
    DAY_CONFIG,
    DAY_MAX,
    DAY_MIN,
    DAY_POLICIES,
    ENDPOINT,
    IN_FORCE_PARAMETER,
    NIGHT_CONFIG,
    NIGHT_MAX,
    NIGHT_MIN,
    VARIANT,
    World,
)

from llama_infra.targets.sagemaker.downsizing import Clients, Configuration, Desired, tick
from llama_infra.targets.sagemaker.downsizing.desired import read_in_force
from llama_infra.targets.sagemaker.downsizing.handler import lambda_handler
from llama_infra.targets.sagemaker.downsizing.workflow import MAX_UPDATE_ATTEMPTS

TICK_S = 300
QUEUE = [p for p in DAY_POLICIES if p["PolicyName"] == "queue-depth"]  # what the component attaches


@pytest.fixture(autouse=True)
def timed_updates(aws: World) -> None:
    aws.updates.update_s = 2 * TICK_S  # a blue/green update takes two ticks unless a test says otherwise


def desired(aws: World, *, day: str = DAY_CONFIG, budget_s: float = 3600, policies: Any = QUEUE) -> Desired:
    return Desired(
        ENDPOINT,
        VARIANT,
        {
            "day": Configuration(day, DAY_MIN, DAY_MAX, policies, budget_s),
            "overnight": Configuration(NIGHT_CONFIG, NIGHT_MIN, NIGHT_MAX, policies, budget_s),
        },
        IN_FORCE_PARAMETER,
        aws.topic_arn,
    )


class Crash(BaseException):
    """The Lambda runtime killing the invocation: nothing after this point of the tick runs."""


class Faults:
    """Inject one fault into the next call of one client method (the boto3 client itself stays real)."""

    KINDS = ("throttle", "fail", "timeout", "crash_before", "crash_after")

    def __init__(self) -> None:
        self.pending: dict[str, str] = {}
        self.fired: list[tuple[str, str]] = []

    def inject(self, method: str, kind: str) -> None:
        assert kind in self.KINDS
        self.pending[method] = kind

    def wrap(self, client: Any) -> Any:
        return _Faulty(client, self)


class _Faulty:
    def __init__(self, client: Any, faults: Faults):
        self._client, self._faults = client, faults

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(**kwargs: Any) -> Any:
            kind = self._faults.pending.pop(name, None)
            if kind:
                self._faults.fired.append((name, kind))
            if kind == "throttle":
                raise botocore.exceptions.ClientError(
                    {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, name
                )
            if kind == "fail":
                raise botocore.exceptions.ClientError(
                    {"Error": {"Code": "InternalFailure", "Message": "injected"}}, name
                )
            if kind == "timeout":
                raise botocore.exceptions.ReadTimeoutError(endpoint_url=f"https://{name}.invalid")
            if kind == "crash_before":
                raise Crash(name)
            out = attr(**kwargs)
            if kind == "crash_after":
                raise Crash(name)
            return out

        return call


def clients(aws: World, faults: Faults | None = None) -> Clients:
    f = faults or Faults()
    return Clients(f.wrap(aws.sagemaker), f.wrap(aws.autoscaling), aws.cloudwatch, f.wrap(aws.ssm), aws.sns)


class Timeline:
    """Ticks every 5 minutes and checks the target invariant after each one."""

    def __init__(self, aws: World, want: Desired, faults: Faults | None = None):
        self.aws, self.want, self.faults = aws, want, faults or Faults()
        self.results: list[Any] = []
        self.in_service_without_target = 0
        self.longest_without_target = 0

    def tick(self, set_in_force: str | None = None, want: Desired | None = None) -> Any:
        self.want = want or self.want
        try:
            out = tick(self.want, clients(self.aws, self.faults), set_in_force=set_in_force, clock=self.aws.clock)
        except (Crash, Exception):  # killed, or failed before it could record anything: Lambda's retry follows
            out = None
        self.results.append(out)
        status, _, target, _ = self.aws.state()
        self.in_service_without_target = (
            self.in_service_without_target + 1 if (status == "InService" and target is None) else 0
        )
        self.longest_without_target = max(self.longest_without_target, self.in_service_without_target)
        self.aws.clock.now += TICK_S
        return out

    def until_converged(self, limit: int = 12) -> int:
        for n in range(1, limit + 1):
            out = self.tick()
            if out is not None and out.converged:
                return n
        raise AssertionError(f"not converged in {limit} ticks: {[r and r.status for r in self.results]}")


NIGHT_STATE = ("InService", NIGHT_CONFIG, (NIGHT_MIN, NIGHT_MAX), QUEUE)
DAY_STATE = ("InService", DAY_CONFIG, (DAY_MIN, DAY_MAX), QUEUE)


def test_the_night_start_moves_the_endpoint_in_a_few_ticks_and_keeps_it_autoscaled(aws: World):
    t = Timeline(aws, desired(aws))
    first = t.tick(set_in_force="overnight")
    assert first.status == "update_started"
    assert first.actions == ["delete_policy", "delete_policy", "deregister_target", "update_endpoint"]
    assert t.until_converged() <= 4
    assert aws.state() == NIGHT_STATE  # the retired GPU-memory policy is gone, only the component's is back
    assert aws.updates.register_calls == [("InService", NIGHT_CONFIG, NIGHT_MIN, NIGHT_MAX)]
    assert aws.updates.kept_deployment_config == [True]  # canary + alarm rollback retained
    # converged ticks change nothing
    assert t.tick().actions == [] and aws.updates.update_calls == [NIGHT_CONFIG]

    t.tick(set_in_force="day")
    t.until_converged()
    assert aws.state() == DAY_STATE
    assert aws.updates.kept_deployment_config == [True, True]
    assert t.longest_without_target == 0
    assert aws.alarm_datapoints() == 0 and aws.notifications() == []


def test_a_repeated_schedule_firing_does_not_restart_the_switch(aws: World):
    t = Timeline(aws, desired(aws))
    t.tick(set_in_force="overnight")
    since = read_in_force(aws.ssm, IN_FORCE_PARAMETER).since_epoch_s
    assert t.tick(set_in_force="overnight").status == "waiting"  # Scheduler's retry of the same firing
    assert read_in_force(aws.ssm, IN_FORCE_PARAMETER).since_epoch_s == since
    t.until_converged()
    assert aws.updates.update_calls == [NIGHT_CONFIG]


# Every client call a switch makes, in the order it first makes it.
CALLS = [
    "ssm.get_parameter",
    "ssm.put_parameter",
    "sagemaker.describe_endpoint",
    "autoscaling.describe_scalable_targets",
    "autoscaling.describe_scaling_policies",
    "autoscaling.delete_scaling_policy",
    "autoscaling.deregister_scalable_target",
    "sagemaker.update_endpoint",
    "autoscaling.register_scalable_target",
    "autoscaling.put_scaling_policy",
]


LIMITS = {NIGHT_CONFIG: (NIGHT_MIN, NIGHT_MAX), DAY_CONFIG: (DAY_MIN, DAY_MAX)}
STATE = {"overnight": NIGHT_STATE, "day": DAY_STATE}


@pytest.mark.parametrize("kind", Faults.KINDS)
def test_a_fault_at_any_call_still_converges_with_the_limits_of_the_configuration_served(aws: World, kind: str):
    """One switch per call (night, day, night, ...), each with `kind` injected into that call's first use."""
    faults = Faults()
    t = Timeline(aws, desired(aws), faults)
    for n, call in enumerate(CALLS):
        service, method = call.split(".")
        target = "overnight" if n % 2 == 0 else "day"
        if method in ("register_scalable_target", "put_scaling_policy"):
            t.tick(set_in_force=target)  # these first run once the new fleet is InService
            while aws.state()[0] != "InService":
                t.tick()
            faults.inject(method, kind)
            t.tick()
        else:
            faults.inject(method, kind)
            t.tick(set_in_force=target)
            if read_in_force(aws.ssm, IN_FORCE_PARAMETER).configuration != target:
                t.tick(set_in_force=target)  # Lambda's retry of the invocation that failed
        assert faults.fired[-1] == (method, kind), call

        t.until_converged(limit=8)
        assert aws.state() == STATE[target], call
        assert t.longest_without_target <= 1, call
        # each fleet only ever got its own limits (never the previous configuration's min/max restored onto it)
        assert {(cfg, (lo, hi)) for _, cfg, lo, hi in aws.updates.register_calls} <= set(LIMITS.items()), call
    assert all(aws.updates.kept_deployment_config)
    assert aws.alarm_datapoints() == 0  # every fault was transient: converged within the budget, no page


def test_an_update_already_running_is_waited_for_then_the_switch_happens(aws: World):
    """The 06:45 scale-out: the endpoint is Updating when the switch comes in force."""
    aws.sagemaker.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=DAY_CONFIG)  # someone else's update
    t = Timeline(aws, desired(aws))
    assert t.tick(set_in_force="overnight").status == "waiting"
    t.until_converged()
    assert aws.state() == NIGHT_STATE
    assert aws.alarm_datapoints() == 0


def test_a_morning_run_during_the_night_update_wins_once_that_update_is_done(aws: World):
    aws.updates.update_s = 3 * TICK_S
    t = Timeline(aws, desired(aws))
    t.tick(set_in_force="overnight")
    assert t.tick(set_in_force="day").status == "waiting"  # the night update is still running
    t.until_converged()
    assert aws.state() == DAY_STATE
    assert aws.updates.update_calls == [NIGHT_CONFIG, DAY_CONFIG]
    assert t.longest_without_target <= 1


def test_an_update_longer_than_its_budget_alarms_once_to_the_topic_and_still_converges(aws: World):
    aws.updates.update_s = 14 * TICK_S  # 70 minutes of blue/green
    t = Timeline(aws, desired(aws, budget_s=2400))
    t.tick(set_in_force="overnight")
    statuses = [t.tick().status for _ in range(10)]
    assert set(statuses) == {"waiting"}
    assert aws.alarm_datapoints() >= 1
    [note] = aws.notifications()
    message = json.loads(json.loads(note)["Message"])
    assert message["reason"] == "not_converged" and message["in_force"] == "overnight"
    assert "budget 2400 s" in message["detail"]
    t.until_converged()
    assert aws.state() == NIGHT_STATE
    assert aws.notifications() == []  # one page per switch, not one per tick


def test_updates_that_keep_rolling_back_give_up_on_the_serving_fleet_s_own_limits_and_alarm(aws: World):
    aws.updates.mode = "rollback"
    aws.updates.update_s = TICK_S
    t = Timeline(aws, desired(aws))
    t.tick(set_in_force="overnight")
    outs = [t.tick() for _ in range(3 * MAX_UPDATE_ATTEMPTS)]
    assert aws.updates.update_calls == [NIGHT_CONFIG] * MAX_UPDATE_ATTEMPTS
    assert outs[-1].status == "gave_up"
    assert aws.state() == DAY_STATE  # still serving the day fleet, autoscaled with the day limits
    assert t.longest_without_target <= 1
    [note] = aws.notifications()
    assert json.loads(json.loads(note)["Message"])["reason"] == "gave_up"
    # the morning comes in force: the endpoint is already there, the record is cleared
    assert t.tick(set_in_force="day").converged
    aws.updates.mode = "succeed"
    t.tick(set_in_force="overnight")
    t.until_converged()
    assert aws.state() == NIGHT_STATE


def test_a_deleted_endpoint_alarms_to_the_topic_instead_of_crashing(aws: World):
    t = Timeline(aws, desired(aws))
    aws.sagemaker.delete_endpoint(EndpointName=ENDPOINT)
    out = tick(desired(aws), clients(aws), set_in_force="overnight", clock=aws.clock)
    assert out.status == "endpoint_missing" and out.alarmed
    assert tick(desired(aws), clients(aws), clock=aws.clock).status == "endpoint_missing"
    assert aws.alarm_datapoints() == 2
    [note] = aws.notifications()
    assert json.loads(json.loads(note)["Message"])["reason"] == "endpoint_missing"
    del t


def test_a_new_day_configuration_from_pulumi_up_reaches_the_endpoint_at_the_next_tick(aws: World):
    aws.sagemaker.create_endpoint_config(
        EndpointConfigName="llama-70b-prod-day-v2",
        ProductionVariants=[
            {
                "VariantName": VARIANT,
                "ModelName": "llama-70b-fp16",
                "InstanceType": "ml.p5.48xlarge",
                "InitialInstanceCount": DAY_MIN,
            }
        ],
    )
    t = Timeline(aws, desired(aws, day="llama-70b-prod-day-v2"))
    t.until_converged()
    assert aws.state() == ("InService", "llama-70b-prod-day-v2", (DAY_MIN, DAY_MAX), QUEUE)
    assert aws.updates.kept_deployment_config == [True]


def test_without_policies_in_the_stack_the_policies_found_are_kept_across_the_switch(aws: World):
    t = Timeline(aws, desired(aws, policies=None))
    t.tick(set_in_force="overnight")
    t.until_converged()
    assert aws.state() == ("InService", NIGHT_CONFIG, (NIGHT_MIN, NIGHT_MAX), DAY_POLICIES)


def test_lambda_handler_runs_one_tick_from_the_schedule_input(aws: World, monkeypatch: pytest.MonkeyPatch):
    aws.updates.update_s, aws.updates.polls_until_in_service = None, 2  # the handler reads the real clock
    monkeypatch.setenv("ALARM_TOPIC_ARN", aws.topic_arn)
    want = desired(aws)
    event = {
        "endpoint_name": ENDPOINT,
        "variant_name": VARIANT,
        "in_force_parameter": IN_FORCE_PARAMETER,
        "configurations": {
            k: {
                "endpoint_config_name": c.endpoint_config_name,
                "min_capacity": c.min_capacity,
                "max_capacity": c.max_capacity,
                "policies": c.policies,
                "budget_s": c.budget_s,
            }
            for k, c in want.configurations.items()
        },
        "set_in_force": "overnight",
    }
    assert lambda_handler(event, None, clients=clients(aws))["status"] == "update_started"
    for _ in range(5):
        out = lambda_handler({k: v for k, v in event.items() if k != "set_in_force"}, None, clients=clients(aws))
    assert out["status"] == "converged"
    assert aws.state() == NIGHT_STATE


def test_lambda_handler_rejects_a_malformed_event():
    with pytest.raises(ValueError, match="lacks configurations, in_force_parameter"):
        lambda_handler({"endpoint_name": "x", "variant_name": "v"}, None)


# --- the predictive floor ------------------------------------------------------------------------------------


def test_the_floor_raises_the_minimum_of_the_configuration_in_force_within_its_maximum(aws: World):
    t = Timeline(aws, desired(aws))
    t.until_converged()
    assert aws.state()[2] == (DAY_MIN, DAY_MAX)
    out = tick(t.want, clients(aws), set_floor=DAY_MAX - 1, clock=aws.clock)
    assert out.converged and out.actions == ["register_target"]
    assert aws.state()[2] == (DAY_MAX - 1, DAY_MAX)
    assert t.tick().actions == []  # later ticks keep it: the floor is in the record, not fought
    # the window's limits take over at the switch: the floor, still in force, stops at the window's maximum
    t.tick(set_in_force="overnight")
    t.until_converged()
    assert aws.state()[2] == (min(DAY_MAX - 1, NIGHT_MAX), NIGHT_MAX)
    assert read_in_force(aws.ssm, IN_FORCE_PARAMETER).floor_min_capacity == DAY_MAX - 1
    # Saturday 00:00 clears it: the window's own minimum again
    tick(t.want, clients(aws), set_floor=0, clock=aws.clock)
    assert aws.state()[2] == (NIGHT_MIN, NIGHT_MAX)


def test_a_floor_below_the_minimum_changes_nothing_and_a_malformed_one_is_refused(aws: World):
    t = Timeline(aws, desired(aws))
    t.until_converged()
    assert tick(t.want, clients(aws), set_floor=1, clock=aws.clock).actions == []
    assert aws.state()[2] == (DAY_MIN, DAY_MAX)
    with pytest.raises(ValueError, match="set_floor must be a whole number"):
        tick(t.want, clients(aws), set_floor=-2, clock=aws.clock)


def test_the_floor_schedules_event_reaches_the_record_through_the_handler(aws: World):
    t = Timeline(aws, desired(aws))
    t.until_converged()
    event = {
        "endpoint_name": ENDPOINT,
        "variant_name": VARIANT,
        "in_force_parameter": IN_FORCE_PARAMETER,
        "configurations": {
            name: {
                "endpoint_config_name": c.endpoint_config_name,
                "min_capacity": c.min_capacity,
                "max_capacity": c.max_capacity,
                "policies": c.policies,
            }
            for name, c in t.want.configurations.items()
        },
        "set_floor": DAY_MAX,
    }
    assert lambda_handler(event, None, clients=clients(aws))["status"] == "converged"
    assert aws.state()[2] == (DAY_MAX, DAY_MAX)


# --- the predictive floor follows the load ---------------------------------------------------------------------


def _served(aws: World, requests_per_s: float, minutes: int = 40) -> None:
    """CloudWatch `Invocations` of the variant: `requests_per_s` in every minute of the last `minutes`."""
    from datetime import UTC, datetime

    aws.cloudwatch.put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": VARIANT}],
                "Timestamp": datetime.fromtimestamp((int(aws.clock.now) // 60 - k) * 60 - 30, UTC),
                "Value": requests_per_s * 60,
                "Unit": "Count",
            }
            for k in range(1, minutes + 1)
        ],
    )


def test_the_floor_follows_the_load_the_variant_served_against_the_hours_forecast(aws: World):
    from dataclasses import replace

    from llama_infra.targets.sagemaker.downsizing.workflow import FloorFollow

    t = Timeline(aws, replace(desired(aws), floor_follow=FloorFollow()))
    t.until_converged()
    # the hour's schedule: a floor of 6 for a forecast of 4 requests/s; the variant served 2 over the last half hour
    _served(aws, 2.0)
    out = tick(t.want, clients(aws), set_floor=DAY_MAX, set_forecast_rps=4.0, clock=aws.clock)
    assert out.converged
    assert aws.state()[2] == (4, DAY_MAX)  # ceil(6 × 2 × 1.1 / 4) = ceil(3.3)
    record = read_in_force(aws.ssm, IN_FORCE_PARAMETER)
    assert (record.floor_min_capacity, record.floor_forecast_rps) == (DAY_MAX, 4.0)
    assert t.tick().actions == []  # the next tick reads the same load: nothing to change


def test_with_the_hours_capacity_steps_the_floor_is_the_fewest_instances_that_carry_the_followed_load(aws: World):
    from dataclasses import replace

    from llama_infra.targets.sagemaker.downsizing.workflow import FloorFollow

    t = Timeline(aws, replace(desired(aws), floor_follow=FloorFollow()))
    t.until_converged()
    _served(aws, 2.0)  # × 1.1 = 2.2 requests/s against a forecast of 4
    steps = [0.5, 1.5, 2.5, 3.0, 3.5][: DAY_MAX - 1]  # what 1, 2, … instances carry then: 3 carry 2.2
    out = tick(
        t.want, clients(aws), set_floor=DAY_MAX, set_forecast_rps=4.0, set_floor_carries_rps=steps, clock=aws.clock
    )
    assert out.converged
    assert aws.state()[2] == (3, DAY_MAX)  # in proportion it would be ceil(6 × 2.2 / 4) = 4
    record = read_in_force(aws.ssm, IN_FORCE_PARAMETER)
    assert record.floor_carries_rps == steps
    assert t.tick().actions == []  # later ticks read the steps from the record
    for bad in ([3.0, 1.0], "1,2", [-1.0], [True]):
        with pytest.raises(ValueError, match="set_floor_carries_rps must be a list of request rates"):
            tick(
                t.want,
                clients(aws),
                set_floor=DAY_MAX,
                set_forecast_rps=4.0,
                set_floor_carries_rps=bad,
                clock=aws.clock,
            )


def test_a_load_at_the_forecast_keeps_the_scheduled_floor_and_an_unread_load_falls_back_to_it(aws: World):
    from dataclasses import replace

    from llama_infra.targets.sagemaker.downsizing.workflow import FloorFollow

    want = replace(desired(aws), floor_follow=FloorFollow())
    Timeline(aws, want).until_converged()
    _served(aws, 3.7)  # × 1.1 ≥ the forecast: the floor as scheduled, never above it
    tick(want, clients(aws), set_floor=DAY_MAX - 1, set_forecast_rps=4.0, clock=aws.clock)
    assert aws.state()[2] == (DAY_MAX - 1, DAY_MAX)

    class Unreadable:
        def get_metric_statistics(self, **kwargs: Any) -> Any:
            raise botocore.exceptions.ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "Get")

    quiet = Clients(aws.sagemaker, aws.autoscaling, Unreadable(), aws.ssm, aws.sns)
    out = tick(want, quiet, set_floor=DAY_MAX, set_forecast_rps=40.0, clock=aws.clock)
    assert out.converged and aws.state()[2] == (DAY_MAX, DAY_MAX)  # the scheduled floor, not a guess


def test_without_a_forecast_or_the_follow_setting_the_floor_is_the_scheduled_one(aws: World):
    from dataclasses import replace

    from llama_infra.targets.sagemaker.downsizing.workflow import FloorFollow

    _served(aws, 0.0)
    plain = desired(aws)
    Timeline(aws, plain).until_converged()
    tick(plain, clients(aws), set_floor=DAY_MAX, set_forecast_rps=4.0, clock=aws.clock)
    assert aws.state()[2] == (DAY_MAX, DAY_MAX)  # the stack did not ask the floor to follow the load
    follow = replace(plain, floor_follow=FloorFollow())
    tick(follow, clients(aws), set_floor=DAY_MAX - 1, clock=aws.clock)  # an older schedule: no forecast
    assert aws.state()[2] == (DAY_MAX - 1, DAY_MAX)
    with pytest.raises(ValueError, match="set_forecast_rps must be a request rate"):
        tick(follow, clients(aws), set_floor=DAY_MAX, set_forecast_rps=-1.0, clock=aws.clock)
