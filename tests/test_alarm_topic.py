"""Alarms notify someone: without `sagemaker.alarm_topic_arn` a prod SageMaker spec is an error, staging's a warning
(the policy pack's `prod-alarms-notify` is the mandatory counterpart, in tests/policies/), and following the fix
clears either."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from llama_infra.spec import SpecError, parse_spec, warnings

SPECS = Path(__file__).resolve().parents[1] / "stacks" / "specs"
TOPIC_LINE = re.compile(r"^  alarm_topic_arn: .*\n", re.MULTILINE)
WHERE = ("sagemaker", "alarm_topic_arn")


def without_topic(stack: str) -> str:
    text, removed = TOPIC_LINE.subn("", (SPECS / f"{stack}.yaml").read_text())
    assert removed == 1, f"{stack}.yaml names its alarm topic on one line"
    return text


def topic_issues(spec) -> list:
    return [w for w in warnings(spec) if w.path == WHERE]


def test_prod_without_an_alarm_topic_is_an_error_at_the_field():
    with pytest.raises(SpecError) as refused:
        parse_spec(without_topic("prod"), "prod.yaml")
    (issue,) = [i for i in refused.value.issues if i.path == WHERE]
    assert issue.problem.startswith("a prod endpoint needs an alarm topic")
    assert "downsizing switch that cannot converge" in issue.problem  # prod has windows


def test_staging_without_an_alarm_topic_validates_with_a_warning_that_says_who_is_not_paged():
    spec = parse_spec(without_topic("staging"), "staging.yaml")
    (warning,) = topic_issues(spec)
    assert warning.severity == "warning"
    assert warning.problem.startswith("staging has no alarm topic: its latency, 5xx and queue alarms")
    assert warning.problem.endswith("would page nobody")
    assert warning.fix.startswith("set sagemaker.alarm_topic_arn to an SNS topic")


def test_dev_is_not_asked_for_a_topic_and_the_examples_follow_the_fix():
    assert topic_issues(parse_spec((SPECS / "dev.yaml").read_text())) == []
    for stack in ("prod", "staging"):  # the fix followed: an SNS topic ARN
        assert topic_issues(parse_spec((SPECS / f"{stack}.yaml").read_text())) == []
