"""A window's model comes from S3 like the day model when `model_override.weights` names it: no Hugging Face token in
any SageMaker Model's environment. Where the Hub is used, the spec warns that the token sits in the Model's
environment (the pinned TGI and LMI containers read it only from HF_TOKEN)."""

from __future__ import annotations

import re

from llama_infra.capacity_plan import weights_for, window_config, window_weights
from llama_infra.spec import load_spec, warnings
from llama_infra.targets.sagemaker.components.variant import variant_plan

from .helpers import make_spec, run_component

MODEL = "aws:sagemaker/model:Model"
WINDOW = {"name": "overnight", "timezone": "America/New_York", "start": "0 22 * * *", "end": "0 7 * * *"}
AWQ = "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4"
CREDENTIAL_NAME = re.compile(r"(^|[_.-])(TOKEN|SECRET|PASSWORD|PASSWD|KEY|APIKEY)([_.-]|$)", re.IGNORECASE)


def _night(weights: dict | None = None, day_token: str | None = "hf") -> dict:
    override = {"id": AWQ, "precision": "awq", **({"weights": weights} if weights else {})}
    day = {"source": "s3://weights-bucket/llama-3.1-8b/", **({"hf_token_secret": day_token} if day_token else {})}
    return {
        "model": {"weights": day},
        "schedules": [{**WINDOW, "downsize": {"instance_type": "ml.g6e.xlarge", "model_override": override}}],
    }


def test_a_window_model_with_s3_weights_is_served_from_that_prefix_without_a_token(preview):
    spec = make_spec(**_night({"source": "s3://weights-bucket/llama-3.1-8b-awq/"}, day_token=None))
    config = window_config(spec, spec.schedules[0])
    assert weights_for(spec, config).source == "s3://weights-bucket/llama-3.1-8b-awq/"
    plan = variant_plan(spec, config)
    assert plan.weights_in_s3 and not [k for k in plan.environment if CREDENTIAL_NAME.search(k)]
    models = run_component(spec, preview).of_type(MODEL)
    assert len(models) == 2  # the day's and the window's
    for model in models:
        container = model.inputs["primaryContainer"]
        assert [k for k in container["environment"] if CREDENTIAL_NAME.search(k)] == []
        (source,) = container["modelDataSource"]["s3DataSources"]
        assert source["s3DataType"] == "S3Prefix" and source["compressionType"] == "None"
    assert {m.inputs["primaryContainer"]["modelDataSource"]["s3DataSources"][0]["s3Uri"] for m in models} == {
        "s3://weights-bucket/llama-3.1-8b/",
        "s3://weights-bucket/llama-3.1-8b-awq/",
    }
    assert not [w for w in warnings(spec) if "HF_TOKEN" in w.problem]


def test_a_hub_window_model_keeps_the_days_token_and_is_warned_about():
    spec = make_spec(**_night())
    config = window_config(spec, spec.schedules[0])
    weights = weights_for(spec, config)
    assert (weights.source, weights.hf_token_secret) == (f"hf://{AWQ}", "hf")
    (w,) = [w for w in warnings(spec) if w.path == ("schedules", 0, "downsize", "model_override", "weights")]
    assert w.severity == "warning"
    assert w.problem.startswith(
        f"window 'overnight' downloads hf://{AWQ} with the token in Secrets Manager 'hf': "
        "SageMaker has no secret reference for a container's environment"
    )
    assert "HF_TOKEN" in w.problem and "no-literal-model-tokens" in w.problem
    assert w.fix == (
        "copy the checkpoint to an S3 prefix and set schedules[0].downsize.model_override.weights: "
        "{source: s3://<bucket>/<prefix>/}"
    )


def test_an_override_with_hub_weights_of_its_own_inherits_the_days_token_secret():
    spec = make_spec(**_night({"source": f"hf://{AWQ}"}))
    assert window_weights(spec, "overnight").hf_token_secret == "hf"
    assert window_weights(spec, "another-window") is None


def test_a_day_model_from_the_hub_with_a_token_is_warned_about_too():
    spec = make_spec(
        model={"weights": {"source": "hf://meta-llama/Llama-3.1-8B-Instruct", "hf_token_secret": "llama/hf-token"}}
    )
    (w,) = [w for w in warnings(spec) if w.path == ("model", "weights", "source")]
    assert "downloads hf://meta-llama/Llama-3.1-8B-Instruct with the token" in w.problem
    assert w.fix == "copy the checkpoint to an S3 prefix and set model.weights: {source: s3://<bucket>/<prefix>/}"


def test_the_sagemaker_examples_serve_every_model_from_s3():
    for name in ("dev", "staging", "prod"):
        spec = load_spec(f"stacks/specs/{name}.yaml")
        assert spec.model.weights.source.startswith("s3://") and not spec.model.weights.hf_token_secret
        for s in spec.schedules:
            o = s.downsize.model_override
            if o is not None and (o.id or o.precision):
                assert o.weights is not None and o.weights.source.startswith("s3://"), (name, s.name)
        assert not [w for w in warnings(spec) if "HF_TOKEN" in w.problem], name
