"""The SageMaker target's own spec rules: what only a spec with `target: sagemaker` must satisfy.

`llama_infra.spec.rules` runs them through the registry (`SageMakerTarget.spec_errors`, `window_errors`,
`spec_warnings`) wherever a spec is validated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_infra.schedules import Cron, ScheduleError
from llama_infra.spec.errors import SpecIssue

if TYPE_CHECKING:
    from llama_infra.spec.model import DeploymentSpec


def errors(spec: DeploymentSpec) -> list[SpecIssue]:
    return []


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
