"""EKS spec variants the tests render: the shipped prod example and edits of it (one behaviour each)."""

from __future__ import annotations

import copy
from pathlib import Path

from ruamel.yaml import YAML

from llama_infra.spec import DeploymentSpec

ROOT = Path(__file__).resolve().parents[3]
PROD_EKS = ROOT / "stacks/specs/prod-eks.yaml"
# Edits that add a fallback or scale to zero deploy the router, which needs a built image (spec rule).
ROUTER_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/llama-infra-router:0.1.0"


# The rendering tests' worked numbers (GPU limits, replicas from a queue, the fallback count) are for a queue target
# of 5, a burst of 6 and 4 requests/s per replica; the shipped example's own (derived from its SLO) are planned by
# test_plan_prod_eks.py.
# They read the burst's triggers without a wake hold (scale-up stabilization 0: the queue wakes the burst at once), so
# a spec without windows keeps plain triggers; the tests of the hold state it.
RENDER_PINS = {
    "queue_depth_target": 5,
    "burst_max": 6,
    "requests_per_second_per_replica": 4,
    "scale_up_stabilization_seconds": 0,
}


def floor_in_force(spec: DeploymentSpec, at) -> int:
    """The predictive floor (replicas of the whole service) the library schedules at the instant `at`
    (`slo_targets.predictive_floor` read by `floor_at`, as the simulator runs it); 0 at the weekend or without one."""
    from llama_infra.slo_targets import floor_at, predictive_floor

    return floor_at(spec, predictive_floor(spec), at) or 0


def forecast_in_force(spec: DeploymentSpec, at) -> float:
    """The load the predictive floor's hour forecasts at the instant `at` (requests/s; 0 at the weekend or without a
    floor): what the `floor_load` trigger reads on a day that runs as forecast."""
    from llama_infra.slo_targets import floor_hour_at, predictive_floor

    hour = floor_hour_at(spec, predictive_floor(spec), at)
    return hour.forecast_rps if hour else 0.0


def as_forecast(spec: DeploymentSpec, at, values: dict) -> dict:
    """`values` with the floor's load at the forecast where a test does not give one."""
    from llama_infra.targets.kubernetes.floor_triggers import LOAD_TRIGGER

    return {LOAD_TRIGGER: forecast_in_force(spec, at), **values}


def is_gate(trigger: dict) -> bool:
    """A window's cron gate (not one of the predictive floor's cron triggers)."""
    from llama_infra.targets.kubernetes import keda_formula

    return trigger["type"] == "cron" and keda_formula.gate_window(trigger["name"]) is not None


def prod_doc() -> dict:
    doc = YAML(typ="safe").load(PROD_EKS.read_text())
    doc["scaling"]["queue_depth_target"] = RENDER_PINS["queue_depth_target"]
    doc["capacity"]["burst"]["max"] = RENDER_PINS["burst_max"]
    doc["load"]["requests_per_second_per_replica"] = RENDER_PINS["requests_per_second_per_replica"]
    doc["scaling"]["scale_up_stabilization_seconds"] = RENDER_PINS["scale_up_stabilization_seconds"]
    return doc


def edited(**edits) -> DeploymentSpec:
    """The prod example without its overnight window, with dotted-path edits, e.g.
    edited(**{"scaling.autoscaler": "hpa"}): each test adds the one behaviour it checks (windows included); the
    shipped file itself, window and all, is planned by test_plan_prod_eks.py and the policy pack tests."""
    doc = copy.deepcopy(prod_doc())
    doc.pop("schedules", None)
    doc["eks"].setdefault("router_image", ROUTER_IMAGE)
    for path, value in edits.items():
        node = doc
        *parents, leaf = path.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return DeploymentSpec.model_validate(doc)


def variants() -> dict[str, DeploymentSpec]:
    return {
        "prod-keda-karpenter": edited(),
        "hpa-prometheus-adapter": edited(
            **{
                "scaling.autoscaler": "hpa",
                "scaling.min_replicas": 3,
                "eks.addons": {"keda": False, "prometheus_adapter": True},
            }
        ),
        "tgi": edited(**{"model.framework": "tgi", "scaling.gpu_memory_target": None}),
        "managed-node-groups-only": edited(**{"eks.karpenter": False}),
        "hf-weights-no-preload": edited(
            **{"model.weights": {"source": "hf://meta-llama/Llama-3.1-70B-Instruct", "hf_token_secret": "hf-token"}}
        ),
        "capacity-reservation": edited(
            **{
                "capacity.baseline": {
                    "instance_type": "g6e.12xlarge",
                    "count": 2,
                    "purchase": "on-demand",
                    "capacity_reservation_id": "cr-0123456789abcdef0",
                }
            }
        ),
    }
