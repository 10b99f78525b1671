"""A downsizing window's Model + EndpointConfiguration come from the same `serving_config` as the day's."""

from __future__ import annotations

from llama_infra.capacity_plan import weights_for, window_config
from llama_infra.spec import warnings
from llama_infra.targets.sagemaker.components.variant import variant_plan

from .helpers import make_spec

WINDOW = {"name": "overnight", "timezone": "America/New_York", "start": "0 22 * * *", "end": "0 7 * * *"}


def test_window_on_a_smaller_type_uses_its_gpus_and_count():
    spec = make_spec(
        schedules=[{**WINDOW, "downsize": {"instance_type": "ml.g6e.xlarge", "min_replicas": 1, "max_replicas": 2}}]
    )
    plan = variant_plan(spec, window_config(spec, spec.schedules[0]))
    assert (plan.instance_type, plan.initial_instance_count, plan.tp_degree) == ("ml.g6e.xlarge", 1, 1)
    assert plan.environment["SM_NUM_GPUS"] == "1"
    assert plan.weights_source == "s3://weights-bucket/llama-3.1-8b/"  # same model: same weights


def test_window_with_another_model_downloads_it_with_the_token_secret():
    spec = make_spec(
        model={"weights": {"source": "s3://weights-bucket/llama-3.1-8b/", "hf_token_secret": "hf"}},
        schedules=[
            {
                **WINDOW,
                "downsize": {
                    "model_override": {"id": "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4", "precision": "awq"}
                },
            }
        ],
    )
    config = window_config(spec, spec.schedules[0])
    weights = weights_for(spec, config)
    assert (weights.source, weights.hf_token_secret) == (
        "hf://hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4",
        "hf",
    )
    plan = variant_plan(spec, config)
    assert plan.environment["HF_MODEL_ID"] == "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4"
    assert "QUANTIZE" not in plan.environment  # TGI reads the AWQ checkpoint's quantization_config itself
    # the only word on the window: its Hub download puts the token in the Model's environment
    assert [w.path for w in warnings(spec) if w.path[0] == "schedules"] == [
        ("schedules", 0, "downsize", "model_override", "weights")
    ]


def test_precision_only_override_of_a_gated_model_is_warned_about():
    spec = make_spec(schedules=[{**WINDOW, "downsize": {"model_override": {"precision": "awq"}}}])
    (warning,) = [w for w in warnings(spec) if w.path == ("schedules", 0, "downsize", "model_override")]
    assert "is the day model's checkpoint, not a awq one" in warning.problem
    assert "gated" in warning.problem and "hf_token_secret" in warning.fix
