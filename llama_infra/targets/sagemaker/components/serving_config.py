"""Model + EndpointConfiguration for one serving configuration (`capacity_plan.Config`): day or a window.

This is the reusable piece: the component builds the day configuration with it, and the overnight downsizing
(`downsizing.py`) builds each window's configuration with the same function, so day and night differ only where
their `Config`s differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from llama_infra import naming
from llama_infra.targets.sagemaker.components.container_env import HF_TOKEN_ENV
from llama_infra.targets.sagemaker.components.variant import VariantPlan, variant_plan

if TYPE_CHECKING:
    import pulumi
    import pulumi_aws as aws

    from llama_infra.capacity_plan import Config
    from llama_infra.spec import DeploymentSpec
    from llama_infra.spec.model import Weights


@dataclass(frozen=True)
class ServingConfig:
    config: Config
    plan: VariantPlan
    model: aws.sagemaker.Model
    endpoint_config: aws.sagemaker.EndpointConfiguration


def role_prefix(config: Config) -> str:
    """Child-name infix: '' for the day configuration, '<window>-' for a downsizing window."""
    return "" if config.window is None else f"{config.window}-"


def hf_token(secret: str, *, parent: pulumi.Resource) -> pulumi.Output[str]:
    """The Hugging Face token, read from Secrets Manager at deploy time and kept a Pulumi secret.

    SageMaker has no secret references in container environments; the value reaches the Model only as a Pulumi
    secret (encrypted in state, masked in previews), never as a literal in a spec, stack file or plan.
    """
    import pulumi
    import pulumi_aws as aws

    version = aws.secretsmanager.get_secret_version_output(
        secret_id=secret, opts=pulumi.InvokeOutputOptions(parent=parent)
    )
    return pulumi.Output.secret(version.secret_string)


def switched_by_workflow(spec: DeploymentSpec) -> bool:
    """Whether the downsizing workflow, not Pulumi, moves the endpoint between configurations (windows on a classic
    variant). Then the endpoint ignores `endpointConfigName`, and Pulumi keeps a replaced Model and
    EndpointConfiguration in AWS (`retain_on_delete`): the live endpoint may still run on them until the workflow's
    next tick moves it, and AWS must not lose a configuration an endpoint uses (its scale-out would fail)."""
    return bool(spec.schedules) and not spec.scaling.scale_to_zero


def serving_model(
    name: str,
    spec: DeploymentSpec,
    config: Config,
    *,
    role: aws.iam.Role,
    parent: pulumi.Resource,
    weights: Weights | None = None,
    depends_on: list[pulumi.Resource] | None = None,
) -> tuple[VariantPlan, aws.sagemaker.Model]:
    """The Model serving `config` (`{name}-model`, or `{name}-{window}-model`), child of `parent`, and its plan.

    Shared by the classic variant (`serving_config`) and the inference component (`scale_to_zero.py`).
    """
    import pulumi
    import pulumi_aws as aws

    plan = variant_plan(spec, config, weights)
    env: dict[str, pulumi.Input[str]] = dict(plan.environment)
    if plan.hf_token_secret and not plan.weights_in_s3:
        env[HF_TOKEN_ENV] = hf_token(plan.hf_token_secret, parent=parent)
    container = aws.sagemaker.ModelPrimaryContainerArgs(
        image=plan.image_uri,
        environment=env,
        model_data_source=aws.sagemaker.ModelPrimaryContainerModelDataSourceArgs(
            s3_data_sources=[
                aws.sagemaker.ModelPrimaryContainerModelDataSourceS3DataSourceArgs(
                    s3_uri=plan.weights_source,
                    s3_data_type="S3Prefix",
                    compression_type="None",
                )
            ],
        )
        if plan.weights_in_s3
        else None,
    )
    model = aws.sagemaker.Model(
        naming.logical(naming.MODEL, f"{name}-{role_prefix(config)}model"),
        execution_role_arn=role.arn,
        primary_container=container,
        region=spec.region,
        tags=spec.tags,
        opts=pulumi.ResourceOptions(
            parent=parent, depends_on=depends_on, retain_on_delete=switched_by_workflow(spec) or None
        ),
    )
    return plan, model


def serving_config(
    name: str,
    spec: DeploymentSpec,
    config: Config,
    *,
    role: aws.iam.Role,
    parent: pulumi.Resource,
    weights: Weights | None = None,
    depends_on: list[pulumi.Resource] | None = None,
) -> ServingConfig:
    """Create the Model and EndpointConfiguration that serve `config`, children of `parent`.

    Children are named `{name}-model` / `{name}-endpoint-config` for the day and
    `{name}-{window}-model` / `{name}-{window}-endpoint-config` for a window. Both are auto-named in AWS: they are
    immutable, and Pulumi replaces them create-before-delete on every change, which a fixed name would block.
    """
    import pulumi
    import pulumi_aws as aws

    plan, model = serving_model(name, spec, config, role=role, parent=parent, weights=weights, depends_on=depends_on)
    endpoint_config = aws.sagemaker.EndpointConfiguration(
        naming.logical(naming.ENDPOINT_CONFIG, f"{name}-{role_prefix(config)}endpoint-config"),
        production_variants=[
            aws.sagemaker.EndpointConfigurationProductionVariantArgs(
                variant_name=spec.sagemaker_settings.variant_name,
                model_name=model.name,
                instance_type=plan.instance_type,
                initial_instance_count=plan.initial_instance_count,
                container_startup_health_check_timeout_in_seconds=plan.startup_health_check_timeout_s,
                model_data_download_timeout_in_seconds=plan.model_data_download_timeout_s,
                volume_size_in_gb=plan.volume_size_gb,
            )
        ],
        kms_key_arn=plan.kms_key_arn,
        region=spec.region,
        tags=spec.tags,
        # An endpoint the workflow switches may still run on this configuration when Pulumi replaces it.
        opts=pulumi.ResourceOptions(parent=parent, retain_on_delete=switched_by_workflow(spec) or None),
    )
    return ServingConfig(config, plan, model, endpoint_config)
