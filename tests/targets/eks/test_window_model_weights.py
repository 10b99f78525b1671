"""On EKS a window's model loads `model_override.weights` when the override names them: the night Deployment syncs
that S3 prefix like the day's, and the pods' weights role may read exactly the day's and the window's prefixes."""

from __future__ import annotations

import json

import pytest

from llama_infra.plan.record import run_plan
from llama_infra.targets.eks.components import build_eks
from llama_infra.targets.kubernetes import scale_in_order
from llama_infra.targets.kubernetes import window_variants as night

from .specs import edited

NIGHT_WEIGHTS = "s3://llama-infra-weights-prod/llama-3.1-8b-instruct/"
OTHER_BUCKET = "s3://llama-infra-weights-shared/llama-3.1-8b-instruct/"
WEIGHTS_POLICY = "aws:iam/rolePolicy:RolePolicy"


def _spec(weights: dict | None):
    model = {
        "id": "meta-llama/Llama-3.1-8B-Instruct",
        "params_b": 8,
        "precision": "bf16",
        **({"weights": weights} if weights else {}),
    }
    window = {
        "name": "night",
        "timezone": "UTC",
        "start": "0 22 * * 1-5",
        "end": "0 6 * * 2-6",
        "downsize": {"instance_type": "g6e.2xlarge", "model_override": model, "min_replicas": 1, "max_replicas": 3},
    }
    return edited(schedules=[window])


def _pod(spec) -> dict:
    return night.deployment(spec, night.variants(spec)[0])["spec"]["template"]["spec"]


def _weights_statements(spec, preview: bool) -> list[dict]:
    recorded = run_plan(lambda: build_eks("n", spec), project="llama-infra", stack="test", preview=preview)
    (policy,) = [r for r in recorded.resources if r.type == WEIGHTS_POLICY and r.name.endswith("weights-read")]
    return json.loads(policy.inputs["policy"])["Statement"]


def test_the_night_deployment_syncs_the_overrides_s3_prefix_and_downloads_nothing_from_the_hub():
    pod = _pod(_spec({"source": NIGHT_WEIGHTS}))
    (sync,) = [c for c in pod["initContainers"] if c["name"] == "sync-weights"]
    assert sync["command"][:4] == ["aws", "s3", "sync", NIGHT_WEIGHTS]
    assert pod["serviceAccountName"] == "llama-70b-eks"  # the account the weights role is bound to
    env = {e["name"] for e in pod["containers"][0].get("env", [])}
    assert "HF_TOKEN" not in env


def test_without_weights_the_night_model_still_comes_from_the_hub():
    pod = _pod(_spec(None))
    assert [c["name"] for c in pod["initContainers"]] == [scale_in_order.CONTAINER_NAME]  # no weights to sync
    assert "meta-llama/Llama-3.1-8B-Instruct" in pod["containers"][0]["args"]


@pytest.mark.parametrize("preview", [True, False])
def test_the_weights_role_reads_exactly_the_day_and_the_night_prefix(preview):
    spec = _spec({"source": NIGHT_WEIGHTS})
    day = spec.model.weights.source.removeprefix("s3://")
    get, list_bucket = _weights_statements(spec, preview)
    assert get["Action"] == ["s3:GetObject"]
    assert get["Resource"] == [f"arn:aws:s3:::{day}*", f"arn:aws:s3:::{NIGHT_WEIGHTS.removeprefix('s3://')}*"]
    assert list_bucket["Resource"] == ["arn:aws:s3:::llama-infra-weights-prod"]
    assert list_bucket["Condition"] == {
        "StringLike": {"s3:prefix": [day.partition("/")[2] + "*", "llama-3.1-8b-instruct/*"]}
    }


def test_a_night_prefix_in_another_bucket_gets_that_bucket_only_for_its_prefix():
    spec = _spec({"source": OTHER_BUCKET})
    get, *lists = _weights_statements(spec, preview=True)
    assert get["Resource"][1] == "arn:aws:s3:::llama-infra-weights-shared/llama-3.1-8b-instruct/*"
    assert [(s["Resource"], s["Condition"]["StringLike"]["s3:prefix"]) for s in lists][1] == (
        ["arn:aws:s3:::llama-infra-weights-shared"],
        ["llama-3.1-8b-instruct/*"],
    )


def test_a_day_only_spec_grants_the_day_prefix_alone():
    spec = _spec(None)
    (get, list_bucket) = _weights_statements(spec, preview=True)
    assert get["Resource"] == [f"arn:aws:s3:::{spec.model.weights.source.removeprefix('s3://')}*"]
    assert len(list_bucket["Condition"]["StringLike"]["s3:prefix"]) == 1
