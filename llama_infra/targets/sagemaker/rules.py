"""The SageMaker target's own spec rules: what only a spec with `target: sagemaker` must satisfy.

`llama_infra.spec.rules` runs them through the registry (`SageMakerTarget.spec_errors`, `window_errors`,
`spec_warnings`) wherever a spec is validated.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from llama_infra.schedules import Cron, ScheduleError
from llama_infra.spec.errors import SpecIssue

if TYPE_CHECKING:
    from llama_infra.spec.model import DeploymentSpec


# Scale to zero runs the model as an inference component, a resource only pulumi-aws-native has (~240 MB installed):
# an extra (pyproject.toml), imported only by components/scale_to_zero.py.
SCALE_TO_ZERO_EXTRA = "scale-to-zero"
SCALE_TO_ZERO_MODULE = "pulumi_aws_native"


def missing_for_scale_to_zero() -> str:
    return (
        "scale to zero on SageMaker runs the model as an inference component, which needs pulumi-aws-native "
        f"(the '{SCALE_TO_ZERO_EXTRA}' extra), and it is not installed"
    )


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a finder that refuses it, or a module entry without a spec
        return False


def errors(spec: DeploymentSpec) -> list[SpecIssue]:
    alarms = [i for i in alarm_topic(spec) if i.severity == "error"]
    return [*burst_and_baseline(spec), *fallback(spec), *scale_to_zero_installed(spec), *alarms]


def burst_and_baseline(spec: DeploymentSpec) -> list[SpecIssue]:
    """What a production variant cannot do: spot capacity, a second instance type, EC2 purchase options."""
    out = []
    burst, base = spec.capacity.burst, spec.capacity.baseline
    if burst.capacity == "spot":
        out.append(
            SpecIssue(
                ("capacity", "burst", "capacity"),
                "SageMaker real-time endpoints have no spot capacity: burst above the baseline is on-demand",
                "set capacity: on-demand, or use target: eks for spot burst pools",
            )
        )
    if burst.instance_types and burst.instance_types != [base.instance_type]:
        out.append(
            SpecIssue(
                ("capacity", "burst", "instance_types"),
                f"a SageMaker production variant has one instance type ({base.instance_type}); "
                f"burst cannot use {', '.join(t for t in burst.instance_types if t != base.instance_type)}",
                "omit burst.instance_types, or use target: eks for diversified pools",
            )
        )
    if base.purchase == "capacity-block":
        out.append(
            SpecIssue(
                ("capacity", "baseline", "purchase"),
                "capacity-block is an EC2 purchase option; SageMaker endpoints cannot use it",
                "use reserved (priced with SageMaker Savings Plans) or on-demand",
            )
        )
    if base.capacity_reservation_id and base.purchase == "on-demand":
        out.append(
            SpecIssue(
                ("capacity", "baseline", "capacity_reservation_id"),
                "SageMaker endpoints do not target EC2 capacity reservations",
                "remove it (use a SageMaker training plan / Savings Plan for reserved capacity)",
            )
        )
    return out


def fallback(spec: DeploymentSpec) -> list[SpecIssue]:
    if spec.fallback is None:
        return []
    return [
        SpecIssue(
            ("fallback",),
            "overflow to a fallback model is served by llama-infra's router, which runs on EKS",
            "remove fallback, or use target: eks",
        )
    ]


def scale_to_zero_installed(spec: DeploymentSpec) -> list[SpecIssue]:
    """A spec that asks for scale to zero needs the extra that builds it, wherever it is validated or planned."""
    if not spec.scaling.scale_to_zero or _installed(SCALE_TO_ZERO_MODULE):
        return []
    return [
        SpecIssue(
            ("scaling", "scale_to_zero"),
            missing_for_scale_to_zero(),
            f"pip install 'llama-infra[{SCALE_TO_ZERO_EXTRA}]' (in a checkout, make setup installs it); or keep "
            "at least one instance: remove scaling.scale_to_zero and set scaling.min_replicas and "
            "capacity.baseline.count to 1 or more",
        )
    ]


def window_errors(spec: DeploymentSpec, i: int) -> list[SpecIssue]:
    """SageMaker rules on window `i` (its crons parse and it is not empty)."""
    return morning_lead_time(spec, i)


def warnings(spec: DeploymentSpec) -> list[SpecIssue]:
    alarms = [i for i in alarm_topic(spec) if i.severity == "warning"]
    return [*alarms, *hub_tokens(spec), *_gpu_memory_target(spec)]


# What the pinned TGI and LMI images offer for a Hub token (container facts: TGI's SageMaker entrypoint exports
# only HF_MODEL_ID, SM_NUM_GPUS, HF_MODEL_QUANTIZE, HF_MODEL_REVISION, HF_MODEL_TRUST_REMOTE_CODE; LMI reads
# HF_MODEL_ID; huggingface_hub reads HF_TOKEN): no secret reference, and SageMaker has none for an environment.
_HUB_TOKEN_ONLY_FROM = "HF_TOKEN"


def hub_tokens(spec: DeploymentSpec) -> list[SpecIssue]:
    """A Model that downloads gated weights from the Hub carries the token in its environment: warn, per Model."""
    from llama_infra.capacity_plan import day_config, weights_for, window_config

    why = (
        f"SageMaker has no secret reference for a container's environment and the pinned TGI and LMI containers "
        f"read a Hub token only from {_HUB_TOKEN_ONLY_FROM}, so the Model carries it in clear text "
        "(sagemaker:DescribeModel shows it) and the policy pack's mandatory no-literal-model-tokens rule rejects "
        "it"
    )
    out = []
    day = spec.model.weights
    if day.source.startswith("hf://") and day.hf_token_secret:
        out.append(
            SpecIssue(
                ("model", "weights", "source"),
                f"the day model downloads {day.source} with the token "
                f"in Secrets Manager '{day.hf_token_secret}': {why}",
                "copy the checkpoint to an S3 prefix and set model.weights: {source: s3://<bucket>/<prefix>/}",
                "warning",
            )
        )
    for i, s in enumerate(spec.schedules):
        config = window_config(spec, s)
        if (config.model_id, config.precision, config.params_b) == (
            day_config(spec).model_id,
            day_config(spec).precision,
            day_config(spec).params_b,
        ):
            continue  # the day's model and weights
        w = weights_for(spec, config)
        if w.source.startswith("hf://") and w.hf_token_secret:
            out.append(
                SpecIssue(
                    ("schedules", i, "downsize", "model_override", "weights"),
                    f"window '{s.name}' downloads {w.source} with the token in Secrets Manager "
                    f"'{w.hf_token_secret}': {why}",
                    f"copy the checkpoint to an S3 prefix and set schedules[{i}].downsize.model_override"
                    ".weights: {source: s3://<bucket>/<prefix>/}",
                    "warning",
                )
            )
    return out


def _gpu_memory_target(spec: DeploymentSpec) -> list[SpecIssue]:
    # Only an explicit value: the default 0.85 is EKS's KV-cache target and says nothing about SageMaker.
    if spec.scaling.gpu_memory_target is None or "gpu_memory_target" not in spec.scaling.model_fields_set:
        return []
    from llama_infra.targets.sagemaker.cloudwatch_metrics import GPU_MEMORY_NOT_A_SCALING_SIGNAL

    return [
        SpecIssue(
            ("scaling", "gpu_memory_target"),
            f"gpu_memory_target {spec.scaling.gpu_memory_target:g} is not rendered on SageMaker: "
            f"{GPU_MEMORY_NOT_A_SCALING_SIGNAL}",
            "remove it or set gpu_memory_target: null; SageMaker scales on queue depth (scaling.queue_depth_target)",
            "warning",
        )
    ]


def morning_lead_time(spec: DeploymentSpec, i: int) -> list[SpecIssue]:
    """On SageMaker the morning transition starts early by the lead time: the end cron must allow that shift."""
    if spec.scaling.scale_to_zero:
        return []
    s = spec.schedules[i]
    end = Cron(s.end, s.timezone)
    from llama_infra.capacity_timeline import lead_time_minutes

    lead = lead_time_minutes(spec)
    try:
        end.shifted_earlier(lead)
    except ScheduleError as e:
        return [
            SpecIssue(
                ("schedules", i, "end"),
                f"the day configuration must start {lead} min before the window ends (its cold start), but {e.problem}",
                e.fix,
            )
        ]
    return []


def alarm_topic(spec: DeploymentSpec) -> list[SpecIssue]:
    """Alarms notify someone: a prod SageMaker spec names an SNS topic (error), staging should (warning)."""
    if spec.sagemaker_settings.alarm_topic_arn:
        return []
    what = (
        "its latency, 5xx and queue alarms"
        + (" and a downsizing switch that cannot converge" if spec.schedules else "")
        + " would page nobody"
    )
    fix = "set sagemaker.alarm_topic_arn to an SNS topic, e.g. arn:aws:sns:us-east-1:111122223333:llama-alarms"
    if spec.environment == "prod":
        return [SpecIssue(("sagemaker", "alarm_topic_arn"), f"a prod endpoint needs an alarm topic: {what}", fix)]
    if spec.environment == "staging":
        return [SpecIssue(("sagemaker", "alarm_topic_arn"), f"staging has no alarm topic: {what}", fix, "warning")]
    return []
