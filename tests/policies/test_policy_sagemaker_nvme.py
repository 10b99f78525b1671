"""The NVMe/KMS exception: KMS is required on an endpoint config unless a variant has NVMe instance storage."""

from __future__ import annotations

import pytest
from policy_cases import EC, KMS, endpoint_config
from policy_helpers import run_rule

from llama_infra_policies import evaluate, nvme


@pytest.mark.parametrize("instance_type", ["ml.g5.12xlarge", "ml.g6e.12xlarge", "ml.p4d.24xlarge", "ml.g4dn.xlarge"])
def test_kms_rule_does_not_fire_for_nvme_instance_types(instance_type: str) -> None:
    assert run_rule("sagemaker-endpoint-config-kms", EC, endpoint_config(instance_type, kms=False)) == []


@pytest.mark.parametrize("instance_type", ["ml.inf2.48xlarge", "ml.p3.8xlarge", "ml.m5.xlarge"])
def test_kms_rule_fires_for_ebs_only_instance_types(instance_type: str) -> None:
    assert run_rule("sagemaker-endpoint-config-kms", EC, endpoint_config(instance_type, kms=False))


def test_one_nvme_variant_forbids_the_key_for_the_whole_config() -> None:
    props = endpoint_config("ml.inf2.48xlarge")
    props["productionVariants"].append(
        {"variantName": "burst", "instanceType": "ml.g5.48xlarge", "initialInstanceCount": 1}
    )
    messages = run_rule("sagemaker-kms-incompatible-with-nvme", EC, props)
    assert len(messages) == 1 and "ml.g5.48xlarge" in messages[0]
    assert run_rule("sagemaker-endpoint-config-kms", EC, {**props, "kmsKeyArn": None}) == []


def test_nvme_facts_come_from_the_catalog() -> None:
    from llama_infra import catalog

    nvme_types = [g.sagemaker_name for g in catalog.gpu_catalog().values() if g.has_nvme]
    ebs_types = [g.sagemaker_name for g in catalog.gpu_catalog().values() if not g.has_nvme]
    assert nvme_types, "the catalog should know GPU types with NVMe instance storage"
    for instance_type in nvme_types:
        assert run_rule("sagemaker-endpoint-config-kms", EC, endpoint_config(instance_type, kms=False)) == []
    for instance_type in ebs_types:
        assert run_rule("sagemaker-endpoint-config-kms", EC, endpoint_config(instance_type, kms=False))
    assert nvme.source() == "llama_infra.catalog"
    assert nvme.instance_family("ml.g6e.12xlarge") == "g6e"


def test_unknown_key_arn_during_preview_counts_as_set() -> None:
    # A key created in the same stack is unknown during preview: the proxy's sentinel for an unknown string.
    unknown_string = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    assert (
        run_rule("sagemaker-endpoint-config-kms", EC, {**endpoint_config(kms=False), "kmsKeyArn": unknown_string}) == []
    )


def test_unknown_instance_type_is_reported_as_cannot_decide_during_preview() -> None:
    unknown_string = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    props = {"kmsKeyArn": KMS, "productionVariants": [{"instanceType": unknown_string, "initialInstanceCount": 2}]}
    violations = [v for v in evaluate([(EC, props, "chat")]) if v.policy == "sagemaker-kms-incompatible-with-nvme"]
    assert [v.enforcement_level for v in violations] == ["advisory"]
    assert "can't be known during preview" in violations[0].message
