"""SageMaker endpoint configuration and model rules."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import Severity

from . import nvme
from .resource import Resource, as_list, get
from .rule import ADVISORY, MANDATORY, Citation, LlamaRule, aws_config, checkov

ENDPOINT_CONFIGURATION = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
MODEL = "aws:sagemaker/model:Model"

_CREATE_ENDPOINT_CONFIG_KMS = Citation(
    "aws-api",
    "CreateEndpointConfig.KmsKeyId",
    "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html#sagemaker-CreateEndpointConfig-request-KmsKeyId",
)


def _nvme_instance_types(resource: Resource) -> list[str]:
    types = [get(v, "instanceType") for v in as_list(resource.get("productionVariants"))]
    types += [get(v, "instanceType") for v in as_list(resource.get("shadowProductionVariants"))]
    return [t for t in types if isinstance(t, str) and nvme.has_nvme_instance_storage(t)]


def _check_endpoint_kms(resource: Resource) -> Iterator[str]:
    if resource.is_set("kmsKeyArn"):
        return
    nvme_types = _nvme_instance_types(resource)
    if nvme_types:
        return  # built-in exception: these instance types reject a KMS key (see sagemaker-kms-incompatible-with-nvme)
    yield (
        "kmsKeyArn is not set: the ML storage volume of this endpoint is not encrypted with a customer-managed "
        "KMS key. Set kmsKeyArn (not needed for NVMe instance types, which encrypt instance storage in hardware)."
    )


def _check_kms_with_nvme(resource: Resource) -> Iterator[str]:
    if not resource.is_set("kmsKeyArn"):
        return
    nvme_types = _nvme_instance_types(resource)
    if nvme_types:
        yield (
            f"kmsKeyArn is set but variant instance type(s) {', '.join(sorted(set(nvme_types)))} have NVMe "
            f"instance storage: CreateEndpointConfig rejects the request. Remove kmsKeyArn; instance storage is "
            f"encrypted by the instance's hardware module (facts from {nvme.source()})."
        )


def _check_network_isolation(resource: Resource) -> Iterator[str]:
    if resource.get("enableNetworkIsolation") is not True:
        yield (
            "enableNetworkIsolation is not true: the model container can reach the internet. Serve weights from "
            "S3 (ModelDataSource) and set enableNetworkIsolation=True."
        )


ENDPOINT_KMS = LlamaRule(
    "sagemaker-endpoint-config-kms",
    "SageMaker endpoint configurations encrypt the ML storage volume with a KMS key, except on NVMe instance types.",
    resource_types=[ENDPOINT_CONFIGURATION],
    check=_check_endpoint_kms,
    enforcement_level=MANDATORY,
    severity=Severity.HIGH,
    citations=[
        checkov("CKV_AWS_98", "terraform/checks/resource/aws/SagemakerEndpointConfigurationEncryption.py"),
        aws_config("sagemaker-endpoint-configuration-kms-key-configured"),
    ],
    remediation="Pass a KMS key ARN as kmsKeyArn, or use an NVMe instance type (the key is then not allowed).",
)

KMS_NOT_WITH_NVME = LlamaRule(
    "sagemaker-kms-incompatible-with-nvme",
    "An endpoint configuration with an NVMe-instance-storage variant must not set kmsKeyArn (the API rejects it).",
    resource_types=[ENDPOINT_CONFIGURATION],
    check=_check_kms_with_nvme,
    enforcement_level=MANDATORY,
    severity=Severity.HIGH,
    citations=[_CREATE_ENDPOINT_CONFIG_KMS],
    remediation="Drop kmsKeyArn for g4dn/g5/g6/g6e/p4d/p5 and other instance types with NVMe instance storage.",
)

MODEL_NETWORK_ISOLATION = LlamaRule(
    "sagemaker-model-network-isolation",
    "SageMaker models run with network isolation (weights come from S3, not the internet).",
    resource_types=[MODEL],
    check=_check_network_isolation,
    enforcement_level=ADVISORY,
    citations=[checkov("CKV_AWS_370", "terraform/checks/resource/aws/SagemakerModelWithNetworkIsolation.py")],
    remediation="Set enableNetworkIsolation=True and load weights from an uncompressed S3 prefix.",
)

RULES = [ENDPOINT_KMS, KMS_NOT_WITH_NVME, MODEL_NETWORK_ISOLATION]

__all__ = ["RULES", "ENDPOINT_CONFIGURATION", "MODEL"]
