"""The one offline recorder (`llama_infra.plan.record`) leaves the caller's process as it found it: its event loop
current, its Pulumi context untouched, so later Pulumi tests in the same (xdist) worker still run; and a run
repeats exactly, in both of its modes (plan: names as written; diff: autonamed, inputs masked)."""

from __future__ import annotations

import asyncio
import json

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime import settings

from llama_infra.plan.record import record, run_plan, run_program

_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]}
)


def _program() -> None:
    role = aws.iam.Role("role", assume_role_policy=_TRUST)
    aws.iam.RolePolicy("policy", role=role.name, policy=_POLICY)
    pulumi.export("role_arn", role.arn)


RUNS = {
    "plan": lambda preview: run_plan(_program, preview=preview),
    "diff": lambda preview: run_program(_program, preview=preview),
}


@pytest.fixture
def caller_loop():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


@pytest.mark.parametrize("preview", [True, False])
@pytest.mark.parametrize("mode", sorted(RUNS))
def test_the_callers_event_loop_is_current_again_after_a_run(caller_loop, mode: str, preview: bool) -> None:
    RUNS[mode](preview)
    assert asyncio.get_event_loop_policy().get_event_loop() is caller_loop
    assert not caller_loop.is_closed()


@pytest.mark.parametrize("preview", [True, False])
@pytest.mark.parametrize("mode", sorted(RUNS))
def test_a_run_does_not_touch_the_callers_pulumi_context(mode: str, preview: bool) -> None:
    marker = object()
    token = settings.ROOT.set(marker)
    try:
        RUNS[mode](preview)
        assert settings.ROOT.get() is marker
    finally:
        settings.ROOT.reset(token)


class _EchoMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        return {}


@pytest.mark.parametrize("preview", [True, False])
@pytest.mark.parametrize("mode", sorted(RUNS))
def test_a_plain_pulumi_test_runs_after_a_recording_in_the_same_thread(mode: str, preview: bool) -> None:
    RUNS[mode](preview)
    pulumi.runtime.set_mocks(_EchoMocks(), preview=preview)
    seen: list[str] = []

    @pulumi.runtime.test
    def later_test():
        return aws.iam.Role("later", assume_role_policy="{}").id.apply(seen.append)

    later_test()
    assert seen == ["later-id"]  # the mocks answer ids in preview too


@pytest.mark.parametrize("preview", [True, False])
@pytest.mark.parametrize("mode", sorted(RUNS))
def test_runs_repeat_exactly(mode: str, preview: bool) -> None:
    first, second = RUNS[mode](preview), RUNS[mode](preview)
    assert [(r.urn, r.inputs, r.depends_on) for r in first.resources] == [
        (r.urn, r.inputs, r.depends_on) for r in second.resources
    ]
    assert first.exports == second.exports and "role_arn" in first.exports


def test_plan_names_resources_as_written_and_diff_autonames_by_replacement_inputs() -> None:
    plan = {r.name: r for r in run_plan(_program).resources}
    diff = {r.name: r for r in record(_program)}
    assert plan["policy"].inputs["role"] == "role"
    assert diff["policy"].inputs["role"].startswith("role-") and diff["policy"].inputs["role"] != "role"
