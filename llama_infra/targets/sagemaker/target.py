"""`target: sagemaker` behind the `Target` seam: build, outputs and plan facts of a SageMaker endpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llama_infra.capacity_timeline import TimelineFacts
from llama_infra.pricing import BillingUnits
from llama_infra.target_facts import SAGEMAKER as FACTS
from llama_infra.targets import Entry, register

if TYPE_CHECKING:
    import pulumi

    from llama_infra.spec import DeploymentSpec
    from llama_infra.spec.errors import SpecIssue


class SageMakerTarget:
    name = "sagemaker"

    def spec_errors(self, spec: DeploymentSpec) -> list[SpecIssue]:
        from llama_infra.targets.sagemaker import rules

        return rules.errors(spec)

    def window_errors(self, spec: DeploymentSpec, i: int) -> list[SpecIssue]:
        from llama_infra.targets.sagemaker import rules

        return rules.window_errors(spec, i)

    def spec_warnings(self, spec: DeploymentSpec) -> list[SpecIssue]:
        from llama_infra.targets.sagemaker import rules

        return rules.warnings(spec)

    def build(
        self,
        name: str,
        spec: DeploymentSpec,
        opts: pulumi.ResourceOptions | None = None,
        *,
        endpoint_name: str | None = None,
    ) -> Any:
        from llama_infra.targets.sagemaker.components import SageMakerLlamaEndpoint, SageMakerLlamaEndpointArgs

        return SageMakerLlamaEndpoint(name, SageMakerLlamaEndpointArgs(spec, endpoint_name), opts=opts)

    def stack_outputs(self, component: Any) -> dict[str, Any]:
        return {
            "endpoint_name": component.endpoint_name,
            "endpoint_arn": component.endpoint_arn,
            "scaling_target_id": component.scaling_target_id,
            "dashboard_url": component.dashboard_url,
        }

    def entry(self, component: Any) -> Entry:
        return Entry(component.endpoint_name, component.endpoint_arn, component.dashboard_url)

    def plan_lines(self, spec: DeploymentSpec) -> list[str]:
        return []

    def scaling_notes(self, spec: DeploymentSpec) -> list[str]:
        from llama_infra.targets.sagemaker.cloudwatch_metrics import GPU_MEMORY_NOT_A_SCALING_SIGNAL

        return [f"GPU memory is not a scaling signal on SageMaker: {GPU_MEMORY_NOT_A_SCALING_SIGNAL}."]

    def scales_on_gpu_memory(self, spec: DeploymentSpec) -> bool:
        return FACTS.scales_on_gpu_memory  # no GPU-memory policy, whatever the spec says (scaling_notes says why)

    def renders_floor(self, spec: DeploymentSpec) -> bool:
        from llama_infra.targets.sagemaker.components.autoscaling import renders_floor

        return renders_floor(spec)

    def floor_follow_period_s(self, spec: DeploymentSpec) -> float | None:
        from llama_infra.targets.sagemaker.components.downsizing import floor_follow_period_s

        return floor_follow_period_s(spec)

    def floor_follows_capacity_steps(self, spec: DeploymentSpec) -> bool:
        return True  # each hour's schedule hands the reconciler its capacity steps (`set_floor_carries_rps`)

    def retires_on_demand_first(self, spec: DeploymentSpec) -> bool:
        return False  # no spot: every burst instance is on demand

    def empty_node_s(self, spec: DeploymentSpec, capacity: str) -> float:
        return 0.0  # scale-in removes the instance itself

    def billing_units(self, spec: DeploymentSpec) -> BillingUnits:
        # ML hosting prices per instance; a reserved baseline is a SageMaker Savings Plan; no spot capacity.
        return BillingUnits(
            price_list="sagemaker", reserved_is_savings_plan=FACTS.reserved_is_savings_plan, spot_burst=FACTS.spot_burst
        )

    def timeline_facts(self, spec: DeploymentSpec) -> TimelineFacts:
        # The morning switch brings up a new fleet (UpdateEndpoint), so it starts early by the day's lead time.
        return TimelineFacts(
            shows_lead_time=FACTS.window_switch_replaces_fleet,
            wake_capacity="instance",
            while_waking="requests fail with NoCapacityInvocationFailures",
            floor_follow_period_s=self.floor_follow_period_s(spec),
            floor_follows_capacity_steps=self.floor_follows_capacity_steps(spec),
        )

    def window_schedulers(self, spec: DeploymentSpec) -> list[str]:
        return ["EventBridge Scheduler"]  # the window-switch workflow's schedules

    def kubernetes_objects(self, spec: DeploymentSpec, node_role_name: str) -> list[dict] | None:
        return None  # endpoints, not a cluster

    def scaffold(self, doc: dict[str, Any], *, environment: str, region: str, cluster_name: str) -> dict[str, Any]:
        if environment in ("staging", "prod"):
            # Alarms must page someone (a spec error in prod, a warning in staging): a placeholder to replace.
            from llama_infra.iam import partition

            topic = f"arn:{partition(region)}:sns:{region}:111122223333:{doc['name']}-alarms"
            return {**doc, "sagemaker": {"alarm_topic_arn": topic}}
        return doc


TARGET = register(SageMakerTarget())
