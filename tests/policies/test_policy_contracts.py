"""The policy pack's `cloud-api-contracts` rule runs the recorder's contract checks on the inputs a real preview
hands the analyzer (Struct round trip, unknown-checking proxy), so they also hold at `pulumi preview`/`up`."""

from __future__ import annotations

from llama_infra_policies import evaluate
from llama_infra_policies.contracts import CLOUD_CONTRACTS

TARGET = "aws:cloudwatch/eventTarget:EventTarget"


def test_an_event_target_id_over_64_characters_is_reported_at_preview():
    props = {"rule": "karpenter-spot", "arn": "arn:aws:sqs:us-east-1:123456789012:q", "targetId": "t" * 65}
    (v,) = evaluate([(TARGET, props, "t")], policies=[CLOUD_CONTRACTS])
    assert v.policy == "cloud-api-contracts" and v.enforcement_level == "advisory"
    assert v.message.startswith("targetId: at most 64 characters; value '") and "Target.Id" in v.message


def test_inputs_that_fit_pass():
    props = {"rule": "karpenter-spot", "arn": "arn:aws:sqs:us-east-1:123456789012:q", "targetId": "karpenter-spot"}
    assert evaluate([(TARGET, props, "t")], policies=[CLOUD_CONTRACTS]) == []
