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
    return scale_to_zero_installed(spec)


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
