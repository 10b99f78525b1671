"""The downsizing workflow end to end against moto (with UpdateEndpoint added by the `aws` fixture)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from llama_infra.downsizing import TransitionFailed, transition
from llama_infra.downsizing.handler import lambda_handler
from llama_infra.downsizing.state import EndpointState
from llama_infra.downsizing.workflow import STEPS, Clients
from downsizing_world import (DAY_CONFIG, DAY_MAX, DAY_MIN, DAY_POLICIES, ENDPOINT, NIGHT_CONFIG, NIGHT_MAX,
                                       NIGHT_MIN, VARIANT, World)


def clients(aws: World) -> Clients:
    return Clients(aws.sagemaker, aws.autoscaling, aws.cloudwatch, aws.sns)


def run(aws: World, config: str, lo: int, hi: int, **kw: Any):
    return transition(ENDPOINT, VARIANT, config, lo, hi, None, kw.pop("timeout_s", 1800), clients=clients(aws),
                      alarm_topic_arn=aws.topic_arn, clock=aws.clock, sleep=aws.clock.sleep, **kw)


def night(aws: World, **kw: Any):
    return run(aws, NIGHT_CONFIG, NIGHT_MIN, NIGHT_MAX, **kw)


def morning(aws: World, **kw: Any):
    return run(aws, DAY_CONFIG, DAY_MIN, DAY_MAX, **kw)


def test_night_then_morning_switches_config_and_keeps_the_endpoint_autoscaled(aws: World):
    assert aws.state() == ("InService", DAY_CONFIG, (DAY_MIN, DAY_MAX), DAY_POLICIES)

    out = night(aws)
    assert out.status == "done"
    assert out.steps == list(STEPS)
    assert aws.state() == ("InService", NIGHT_CONFIG, (NIGHT_MIN, NIGHT_MAX), DAY_POLICIES)
    # the workflow waited through Updating, and re-registered only once InService on the night configuration
    assert ("Updating", DAY_CONFIG) in aws.updates.observed
    assert aws.updates.register_calls == [("InService", NIGHT_CONFIG, NIGHT_MIN, NIGHT_MAX)]
    assert aws.clock.slept, "the InService wait polled"

    out = morning(aws)
    assert out.status == "done"
    assert aws.state() == ("InService", DAY_CONFIG, (DAY_MIN, DAY_MAX), DAY_POLICIES)
    assert aws.updates.update_calls == [NIGHT_CONFIG, DAY_CONFIG]
    assert aws.alarm_datapoints() == 0


def test_running_twice_changes_nothing_the_second_time(aws: World):
    night(aws)
    before = aws.state()
    again = night(aws)
    assert again.status == "unchanged"
    assert aws.state() == before
    assert aws.updates.update_calls == [NIGHT_CONFIG]
    assert morning(aws).status == "done"
    assert morning(aws).status == "unchanged"
    assert aws.updates.update_calls == [NIGHT_CONFIG, DAY_CONFIG]


def test_explicit_policies_are_attached_and_extra_ones_removed(aws: World):
    only_queue = [p for p in DAY_POLICIES if p["PolicyName"] == "queue-depth"]
    transition(ENDPOINT, VARIANT, NIGHT_CONFIG, 1, 2, only_queue, clients=clients(aws), clock=aws.clock,
               sleep=aws.clock.sleep)
    assert aws.state() == ("InService", NIGHT_CONFIG, (1, 2), only_queue)
    # same config, new min/max: no blue/green update, just the target
    out = transition(ENDPOINT, VARIANT, NIGHT_CONFIG, 1, 3, only_queue, clients=clients(aws), clock=aws.clock,
                     sleep=aws.clock.sleep)
    assert out.status == "done" and "update_endpoint" not in out.steps
    assert aws.state() == ("InService", NIGHT_CONFIG, (1, 3), only_queue)
    assert aws.updates.update_calls == [NIGHT_CONFIG]


# Which AWS call fails for each step; `wait_in_service` fails by SageMaker rolling the update back.
FAILING_CALL = {
    "record": "DescribeEndpoint",
    "delete_policies": "DeleteScalingPolicy",
    "deregister_target": "DeregisterScalableTarget",
    "update_endpoint": "UpdateEndpoint",
    "wait_in_service": None,
    "register_target": "RegisterScalableTarget",
    "put_policies": "PutScalingPolicy",
}
# After a failure at these steps SageMaker already serves the night configuration (the update went through).
SERVES_NEW_CONFIG = {"register_target", "put_policies"}


@pytest.mark.parametrize("step", STEPS)
def test_failure_at_any_step_restores_target_and_policies_and_raises_the_alarm(aws: World, step: str):
    assert set(FAILING_CALL) == set(STEPS)
    if FAILING_CALL[step]:
        aws.updates.fail_once(FAILING_CALL[step])
    else:
        aws.updates.mode = "rollback"

    with pytest.raises(TransitionFailed) as failed:
        night(aws)

    assert failed.value.step == step
    assert failed.value.restore_problems == []
    serving = NIGHT_CONFIG if step in SERVES_NEW_CONFIG else DAY_CONFIG
    assert aws.state() == ("InService", serving, (DAY_MIN, DAY_MAX), DAY_POLICIES)
    assert aws.alarm_datapoints() == 1
    [note] = aws.notifications()
    message = json.loads(json.loads(note)["Message"])
    assert message["failed_step"] == step and message["endpoint"] == ENDPOINT

    # the next run converges to the night state
    aws.updates.mode = "succeed"
    assert night(aws).status == "done"
    assert aws.state() == ("InService", NIGHT_CONFIG, (NIGHT_MIN, NIGHT_MAX), DAY_POLICIES)


def test_an_update_that_never_settles_times_out_and_alarms(aws: World):
    aws.updates.mode = "stuck"
    with pytest.raises(TransitionFailed, match="wait_in_service: TimeoutError") as failed:
        night(aws, timeout_s=600, poll_interval_s=30)
    # autoscaling is blocked while the update runs: the restore cannot register and says so
    assert failed.value.restore_problems and "register_scalable_target" in failed.value.restore_problems[0]
    assert 600 <= aws.clock.now - 1_767_600_000.0 <= 600 + 30 + 600
    assert aws.alarm_datapoints() == 1


def test_endpoint_not_in_service_is_left_alone(aws: World):
    aws.updates.polls_until_in_service = 1000
    aws.sagemaker.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=DAY_CONFIG)  # someone else's update
    with pytest.raises(TransitionFailed, match="record: EndpointNotReady: endpoint is Updating"):
        night(aws)
    assert aws.updates.update_calls == [DAY_CONFIG]
    assert aws.alarm_datapoints() == 1


def test_a_long_update_continues_in_a_new_invocation(aws: World):
    aws.updates.polls_until_in_service = 6
    start = aws.clock.now
    first = night(aws, poll_interval_s=30, stop_waiting_at_epoch_s=start + 60, started_at_epoch_s=start)
    assert first.status == "continue"
    assert aws.state()[0:3] == ("Updating", DAY_CONFIG, None)  # deregistered, waiting for the new fleet
    resumed = night(aws, poll_interval_s=30, resume=EndpointState.from_dict(first.previous.to_dict()),
                    started_at_epoch_s=start)
    assert resumed.status == "done" and resumed.steps == ["wait_in_service", "register_target", "put_policies"]
    assert aws.state() == ("InService", NIGHT_CONFIG, (NIGHT_MIN, NIGHT_MAX), DAY_POLICIES)


class _Invocations:
    """Stands in for the Lambda service's asynchronous Invoke (moto would need Docker to run the function)."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []

    def invoke(self, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803
        assert InvocationType == "Event"
        self.payloads.append(json.loads(Payload))
        return {"StatusCode": 202}


def test_lambda_handler_reinvokes_itself_when_its_time_runs_out(aws: World):
    aws.updates.polls_until_in_service = 10_000  # longer than this invocation may wait (real sleeps are tiny)
    event = {"endpoint_name": ENDPOINT, "variant_name": VARIANT, "target_config_name": NIGHT_CONFIG,
             "min_capacity": NIGHT_MIN, "max_capacity": NIGHT_MAX, "timeout_s": 3600, "direction": "night",
             "window": "overnight", "poll_interval_s": 0.01}
    context = SimpleNamespace(get_remaining_time_in_millis=lambda: 90_050,
                              invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:dz")
    lam = _Invocations()
    result = lambda_handler(event, context, clients=clients(aws), lambda_client=lam)
    assert result["status"] == "continue"
    [payload] = lam.payloads
    assert payload["resume"]["endpoint_config_name"] == DAY_CONFIG
    assert payload["resume"]["target"] == {"min_capacity": DAY_MIN, "max_capacity": DAY_MAX}

    aws.updates._pending[ENDPOINT][1] = 1  # the new fleet comes up
    result = lambda_handler(payload, context, clients=clients(aws), lambda_client=lam)
    assert result == {"status": "done", "steps": ["wait_in_service", "register_target", "put_policies"],
                      "endpoint_config": NIGHT_CONFIG}
    assert aws.state() == ("InService", NIGHT_CONFIG, (NIGHT_MIN, NIGHT_MAX), DAY_POLICIES)


def test_lambda_handler_rejects_a_malformed_event():
    with pytest.raises(ValueError, match="lacks target_config_name, min_capacity"):
        lambda_handler({"endpoint_name": "x", "variant_name": "v", "max_capacity": 1}, None)
