"""`target: eks` behind the `Target` seam: build, outputs and plan facts of an EKS deployment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llama_infra.capacity_timeline import TimelineFacts
from llama_infra.pricing import BillingUnits
from llama_infra.target_facts import EKS as FACTS
from llama_infra.targets import Entry, register

if TYPE_CHECKING:
    import pulumi

    from llama_infra.spec import DeploymentSpec
    from llama_infra.spec.errors import SpecIssue

# cluster-autoscaler removes a node unneeded this long (its --scale-down-unneeded-time default; FAQ, "How does
# scale-down work?"): the managed-node-group-only mode's burst nodes, which the cluster's own autoscaler scales
CLUSTER_AUTOSCALER_UNNEEDED_S = 600.0


class EksTarget:
    name = "eks"

    def spec_errors(self, spec: DeploymentSpec) -> list[SpecIssue]:
        from llama_infra.targets.eks import rules

        return rules.errors(spec)

    def window_errors(self, spec: DeploymentSpec, i: int) -> list[SpecIssue]:
        from llama_infra.targets.eks import rules

        return rules.window_errors(spec, i)

    def spec_warnings(self, spec: DeploymentSpec) -> list[SpecIssue]:
        from llama_infra.targets.eks import rules

        return rules.warnings(spec)

    def build(
        self,
        name: str,
        spec: DeploymentSpec,
        opts: pulumi.ResourceOptions | None = None,
        *,
        endpoint_name: str | None = None,
    ) -> Any:
        from llama_infra.targets.eks.components import EksLlamaDeployment, EksLlamaDeploymentArgs

        return EksLlamaDeployment(name, EksLlamaDeploymentArgs(spec=spec), opts)  # clients call its Service

    def stack_outputs(self, component: Any) -> dict[str, Any]:
        return {
            "cluster_name": component.cluster_name,
            "service_name": component.service_name,
            "entry_service_name": component.entry_service_name,  # what clients call (the router)
            "node_pool_names": component.node_pool_names,
            # Karpenter's settings.interruptionQueue, and the role its controller must be allowed to pass.
            "interruption_queue_name": component.interruption_queue_name,
            "karpenter_node_role_name": component.karpenter_node_role_name,
        }

    def entry(self, component: Any) -> Entry:
        return Entry(component.entry_service_name)  # the router's Service with a fallback or scale to zero

    def plan_lines(self, spec: DeploymentSpec) -> list[str]:
        from llama_infra.targets.eks.plan_summary import plan_lines

        return plan_lines(spec)

    def scaling_notes(self, spec: DeploymentSpec) -> list[str]:
        return []

    def scales_on_gpu_memory(self, spec: DeploymentSpec) -> bool:
        return FACTS.scales_on_gpu_memory  # the KV-cache share is the second trigger (vLLM)

    def renders_floor(self, spec: DeploymentSpec) -> bool:
        from llama_infra.targets.kubernetes.floor_triggers import renders_floor

        return renders_floor(spec)

    def floor_follow_period_s(self, spec: DeploymentSpec) -> float | None:
        from llama_infra.targets.kubernetes.floor_triggers import follow_period_s

        return follow_period_s(spec)

    def floor_follows_capacity_steps(self, spec: DeploymentSpec) -> bool:
        return False  # KEDA's formula scales the scheduled floor by the ratio: it has no table of steps to read

    def retires_on_demand_first(self, spec: DeploymentSpec) -> bool:
        from llama_infra.targets.kubernetes import scale_in_order

        return scale_in_order.applies(spec)  # the burst pods' pod-deletion-cost

    def empty_node_s(self, spec: DeploymentSpec, capacity: str) -> float:
        assert spec.eks is not None
        if spec.eks.karpenter:
            from llama_infra.targets.eks.karpenter import consolidate_after_s

            return float(consolidate_after_s(spec, capacity))  # the NodePool's consolidateAfter
        return CLUSTER_AUTOSCALER_UNNEEDED_S  # ASSUMPTION: the cluster's autoscaler runs with its default

    def billing_units(self, spec: DeploymentSpec) -> BillingUnits:
        # EC2 prices; the baseline node group bills every node it runs, serving or idle, by day and per window
        # (an on-demand group follows its schedule); burst pools may be spot.
        from llama_infra.targets.eks.baseline_node_schedule import plan
        from llama_infra.targets.eks.node_groups import baseline_nodes

        day = baseline_nodes(spec) if spec.capacity.baseline.count else 0
        nodes: dict[str | None, int] = {None: day, **{w.schedule.name: w.billed_nodes for w in plan(spec)}}
        return BillingUnits(
            price_list="eks",
            baseline_nodes=nodes,
            reserved_is_savings_plan=FACTS.reserved_is_savings_plan,
            spot_burst=FACTS.spot_burst,
        )

    def timeline_facts(self, spec: DeploymentSpec) -> TimelineFacts:
        return TimelineFacts(
            shows_lead_time=FACTS.window_switch_replaces_fleet,
            wake_capacity="GPU node",
            while_waking="the router answers 503 + Retry-After",
            floor_follow_period_s=self.floor_follow_period_s(spec),
        )

    def window_schedulers(self, spec: DeploymentSpec) -> list[str]:
        return ["EventBridge Scheduler", "KEDA's cron"]  # the baseline node group's schedules, the KEDA gates

    def kubernetes_objects(self, spec: DeploymentSpec, node_role_name: str) -> list[dict] | None:
        from llama_infra.targets.eks.manifests import all_objects

        return all_objects(spec, node_role_name)

    def scaffold(self, doc: dict[str, Any], *, environment: str, region: str, cluster_name: str) -> dict[str, Any]:
        instance = doc["capacity"]["baseline"]["instance_type"]
        capacity = {**doc["capacity"], "burst": {"instance_types": [instance], "capacity": "on-demand", "max": 1}}
        return {
            **doc,
            "capacity": capacity,
            "scaling": {**doc["scaling"], "autoscaler": "keda"},
            "eks": {"cluster_name": cluster_name, "namespace": "llama", "karpenter": True},
        }


TARGET = register(EksTarget())
