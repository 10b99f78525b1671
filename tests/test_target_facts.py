"""Each target's facts (`llama_infra.target_facts`) are complete and agree with what they describe: the spec's
literals and the registry, botocore's service models, the spec rules, and what each target's home states."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import botocore.session
import pytest
import yaml

from llama_infra import provisioning, quantization, target_facts, targets
from llama_infra.spec import load_spec
from llama_infra.spec.errors import SpecRuleErrors
from llama_infra.spec.model import DeploymentSpec, Framework, Purchase, TargetName

SPECS = Path(__file__).resolve().parents[1] / "stacks" / "specs"
PROD = {"sagemaker": "prod", "eks": "prod-eks"}  # one example spec per target
FACTS = list(target_facts.TARGETS.values())


def issue_paths(stack: str, path: tuple[str, ...], value: str) -> set[tuple]:
    """The fields the spec rules report when the example `stack` is changed at `path` to `value`."""
    doc = yaml.safe_load((SPECS / f"{stack}.yaml").read_text())
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    try:
        DeploymentSpec.model_validate(doc)
    except SpecRuleErrors as refused:
        return {tuple(i.path) for i in refused.issues}
    return set()


def test_one_entry_per_target_the_spec_names_and_the_registry_builds():
    assert set(target_facts.TARGETS) == set(get_args(TargetName)) == set(targets.BUILT_IN)
    assert all(target_facts.of(name).name == name for name in target_facts.TARGETS)


def test_a_target_without_facts_is_named_with_the_known_ones():
    with pytest.raises(LookupError, match=r"no facts for deployment target 'gke' \(known: sagemaker, eks\)"):
        target_facts.of("gke")


@pytest.mark.parametrize("facts", FACTS, ids=lambda f: f.name)
def test_every_framework_runs_as_a_pinned_server(facts):
    assert set(facts.framework_servers) == set(get_args(Framework))
    assert set(facts.framework_servers.values()) <= set(quantization.SERVERS)


def test_sagemaker_serves_vllm_with_djl_lmi_and_eks_with_vllm_itself():
    assert quantization.server_of("sagemaker", "vllm").server == "DJL LMI (vLLM engine)"
    assert quantization.server_of("eks", "vllm").server == "vLLM"
    assert quantization.server_of("eks", "lmi").server == "DJL LMI (vLLM engine)"


@pytest.mark.parametrize("facts", FACTS, ids=lambda f: f.name)
def test_instance_types_and_regions_come_from_botocore_models_that_exist(facts):
    session = botocore.session.get_session()
    service, shape = facts.instance_type_shape
    enum = session.get_service_model(service).shape_for(shape).enum
    assert enum and all(t.startswith(facts.instance_prefix) for t in enum)
    assert facts.region_service in session.get_available_services()


@pytest.mark.parametrize("facts", FACTS, ids=lambda f: f.name)
def test_the_settings_section_is_a_spec_field(facts):
    assert facts.settings_section in DeploymentSpec.model_fields


@pytest.mark.parametrize("facts", FACTS, ids=lambda f: f.name)
def test_the_baseline_purchases_are_the_ones_the_spec_rules_accept(facts):
    field = ("capacity", "baseline", "purchase")
    accepted = {p for p in get_args(Purchase) if field not in issue_paths(PROD[facts.name], field, p)}
    assert accepted == set(facts.baseline_purchases)


@pytest.mark.parametrize("facts", FACTS, ids=lambda f: f.name)
def test_spot_burst_is_where_the_spec_rules_accept_a_spot_burst(facts):
    field = ("capacity", "burst", "capacity")
    assert (field not in issue_paths(PROD[facts.name], field, "spot")) == facts.spot_burst


@pytest.mark.parametrize("facts", FACTS, ids=lambda f: f.name)
def test_each_target_states_the_facts_it_shares_with_the_core_from_them(facts):
    spec = load_spec(SPECS / f"{PROD[facts.name]}.yaml")
    target = targets.get(facts.name)
    billing = target.billing_units(spec)
    assert billing.spot_burst == facts.spot_burst
    assert billing.reserved_is_savings_plan == facts.reserved_is_savings_plan
    assert target.scales_on_gpu_memory(spec) == facts.scales_on_gpu_memory
    assert target.timeline_facts(spec).shows_lead_time == facts.window_switch_replaces_fleet


@pytest.mark.parametrize("facts", FACTS, ids=lambda f: f.name)
def test_provisioning_is_a_range_the_core_reads_from_the_facts(facts):
    delay = provisioning.for_target(facts.name)
    assert delay is facts.provisioning and 0 < delay.typical_s < delay.high_s
