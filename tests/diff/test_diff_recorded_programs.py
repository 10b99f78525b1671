"""The diff engine on small Pulumi programs: recorded under mocks (preview on and off), then compared."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pytest

from llama_infra.contracts.replacement import RULES, matches, reasons
from llama_infra.diff.compare import compare, field_changes
from llama_infra.plan.record import record


def endpoint_program(instance_type: str, max_capacity: int, min_capacity: int = 2, tags: dict | None = None):
    def program() -> None:
        model = aws.sagemaker.Model(
            "llama-model",
            execution_role_arn="arn:aws:iam::123456789012:role/sm",
            primary_container={"image": "vllm:0.6", "environment": {"TP": "8"}},
        )
        config = aws.sagemaker.EndpointConfiguration(
            "llama-config",
            tags=tags,
            production_variants=[
                {
                    "variant_name": "AllTraffic",
                    "model_name": model.name,
                    "instance_type": instance_type,
                    "initial_instance_count": 2,
                }
            ],
        )
        aws.sagemaker.Endpoint("llama-endpoint", name="llama-70b", endpoint_config_name=config.name)
        aws.appautoscaling.Target(
            "llama-scaling",
            service_namespace="sagemaker",
            resource_id="endpoint/llama-70b/variant/AllTraffic",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=min_capacity,
            max_capacity=max_capacity,
            opts=pulumi.ResourceOptions(ignore_changes=["minCapacity"]),
        )  # like an autoscaler-owned count

    return program


@pytest.mark.parametrize("preview", [False, True])
def test_recorder_sees_inputs_and_options(preview: bool) -> None:
    resources = record(endpoint_program("ml.p4d.24xlarge", 6), preview=preview)
    by_name = {r.name: r for r in resources}
    assert set(by_name) == {"llama-model", "llama-config", "llama-endpoint", "llama-scaling"}
    config = by_name["llama-config"]
    assert config.type == "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
    assert config.inputs["productionVariants"][0]["instanceType"] == "ml.p4d.24xlarge"
    # the mocks autoname: the config refers to the model by a name derived from the model's inputs
    assert config.inputs["productionVariants"][0]["modelName"].startswith("llama-model-")
    assert by_name["llama-scaling"].ignore_changes == ["minCapacity"]


@pytest.mark.parametrize("preview", [False, True])
def test_new_instance_type_replaces_the_endpoint_config_and_updates_the_endpoint(preview: bool) -> None:
    base = record(endpoint_program("ml.p4d.24xlarge", 6), preview=preview)
    head = record(endpoint_program("ml.p5.48xlarge", 8), preview=preview)
    diff = compare(base, head)
    ops = {c.name: c.op for c in diff.changes}
    assert ops == {"llama-config": "replace", "llama-endpoint": "update", "llama-scaling": "update"}
    config = next(c for c in diff.changes if c.name == "llama-config")
    assert [(f.path, f.before, f.after) for f in config.fields] == [
        ("productionVariants[0].instanceType", "ml.p4d.24xlarge", "ml.p5.48xlarge")
    ]
    assert "new endpoint configuration" in config.replacements[0].why
    assert config.replacements[0].source.endswith("sagemaker/endpoint_configuration.go")
    endpoint = next(c for c in diff.changes if c.name == "llama-endpoint")
    assert [f.path for f in endpoint.fields] == ["endpointConfigName"]  # follows the replaced config
    assert diff.unchanged == 1  # the model


def test_ignored_and_tag_only_changes() -> None:
    base = record(endpoint_program("ml.p4d.24xlarge", 6, min_capacity=2))
    head = record(endpoint_program("ml.p4d.24xlarge", 6, min_capacity=4, tags={"team": "ml"}))
    diff = compare(base, head)
    # a tag on an immutable resource is still an in-place update; minCapacity is in ignore_changes: reported
    # apart, as a change Pulumi will not apply
    assert [(c.name, c.op) for c in diff.changes] == [("llama-config", "update")]
    assert [(i.name, [(f.path, f.before, f.after) for f in i.fields]) for i in diff.ignored] == [
        ("llama-scaling", [("minCapacity", 2, 4)])
    ]


def test_created_and_deleted_resources() -> None:
    def extra() -> None:
        endpoint_program("ml.p4d.24xlarge", 6)()
        aws.cloudwatch.MetricAlarm(
            "llama-5xx",
            comparison_operator="GreaterThanThreshold",
            evaluation_periods=1,
            metric_name="Invocation5XXErrors",
            namespace="AWS/SageMaker",
            period=60,
            statistic="Sum",
            threshold=1,
        )

    base = record(extra)
    head = record(endpoint_program("ml.p4d.24xlarge", 6))
    assert [(c.name, c.op) for c in compare(base, head).changes] == [("llama-5xx", "delete")]
    assert [(c.name, c.op) for c in compare(head, base).changes] == [("llama-5xx", "create")]


def test_fixed_name_replacement_deletes_first() -> None:
    def endpoint(config_name: str):
        return lambda: aws.sagemaker.EndpointConfiguration(
            "cfg", name=config_name, production_variants=[{"model_name": "m", "instance_type": "ml.g5.2xlarge"}]
        )

    same_name = compare(
        record(endpoint("cfg-a")),
        record(
            lambda: aws.sagemaker.EndpointConfiguration(
                "cfg", name="cfg-a", production_variants=[{"model_name": "m", "instance_type": "ml.g6.2xlarge"}]
            )
        ),
    )
    (change,) = same_name.changes
    assert change.op == "replace" and change.delete_before_replace
    renamed = compare(record(endpoint("cfg-a")), record(endpoint("cfg-b")))
    (change,) = renamed.changes
    assert change.op == "replace" and not change.delete_before_replace


def test_program_declared_replace_on_changes_is_honoured() -> None:
    def alarm(threshold: float, replace: bool):
        opts = pulumi.ResourceOptions(replace_on_changes=["threshold"] if replace else None)
        return lambda: aws.cloudwatch.MetricAlarm(
            "a",
            comparison_operator="GreaterThanThreshold",
            evaluation_periods=1,
            metric_name="m",
            namespace="n",
            period=60,
            statistic="Sum",
            threshold=threshold,
            opts=opts,
        )

    assert compare(record(alarm(1, False)), record(alarm(2, False))).changes[0].op == "update"
    change = compare(record(alarm(1, True)), record(alarm(2, True))).changes[0]
    assert change.op == "replace"
    assert change.replacements[0].source == "the program's replace_on_changes option"


def test_secret_inputs_show_a_change_but_not_the_value() -> None:
    def secret(value: str):
        return lambda: aws.secretsmanager.SecretVersion(
            "hf", secret_id="hf-token", secret_string=pulumi.Output.secret(value)
        )

    (change,) = compare(record(secret("hf_old_value")), record(secret("hf_new_value"))).changes
    (field,) = change.fields
    assert field.path == "secretString"
    assert field.before.startswith("[secret ") and field.before != field.after
    assert "hf_" not in f"{field.before}{field.after}"


def test_rule_paths_match_below_and_across_indexes() -> None:
    assert matches("productionVariants", "productionVariants[1].instanceType")
    assert matches("launchTemplate.id", "launchTemplate.id")
    assert not matches("launchTemplate.id", "launchTemplate.version")
    assert not matches("spec.selector", "spec.selectorX")
    eks = reasons("aws:eks/nodeGroup:NodeGroup", ["instanceTypes[0]", "scalingConfig.maxSize"])
    assert eks and eks[0].paths == ("instanceTypes[0]",)
    assert reasons("aws:eks/nodeGroup:NodeGroup", ["scalingConfig.maxSize", "labels.pool"]) == []
    assert reasons("kubernetes:apps/v1:Deployment", ["spec.template.spec.containers[0].image"]) == []
    assert reasons("kubernetes:apps/v1:Deployment", ["spec.selector.matchLabels.app"])
    assert reasons("kubernetes:core/v1:Service", ["metadata.name"])  # identity, any kind


def test_every_rule_cites_a_source_file() -> None:
    for rule in RULES:
        assert rule.source.endswith(".go"), rule
        assert rule.paths and rule.why


def test_a_new_region_replaces_regional_aws_resources() -> None:
    (why,) = reasons("aws:cloudwatch/metricAlarm:MetricAlarm", ["region"])
    assert "region" in why.why and "enhanced-region-support" in why.source
    assert reasons("aws:cloudwatch/metricAlarm:MetricAlarm", ["threshold"]) == []


def test_field_changes_report_added_and_removed_paths() -> None:
    changes = field_changes({"a": {"b": 1, "c": [1, 2]}}, {"a": {"b": 2, "c": [1]}, "d": "x"})
    assert [(c.path, repr(c.before), repr(c.after)) for c in changes] == [
        ("a.b", "1", "2"),
        ("d", "(absent)", "'x'"),
        ("a.c[1]", "2", "(absent)"),
    ]


def test_assets_compare_by_content_and_json_inputs_by_path() -> None:
    import json

    def function(code: str, resource: str):
        return lambda: (
            aws.lambda_.Function(
                "fn",
                role="arn:aws:iam::123456789012:role/fn",
                runtime="python3.12",
                handler="h.main",
                code=pulumi.AssetArchive({"h.py": pulumi.StringAsset(code)}),
            ),
            aws.iam.Policy(
                "p",
                policy=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "sagemaker:UpdateEndpoint", "Resource": resource}],
                    }
                ),
            ),
        )

    same = compare(record(function("def main(): pass", "a")), record(function("def main(): pass", "a")))
    assert same.changes == []  # a new AssetArchive object with the same content is no change
    diff = compare(record(function("def main(): pass", "a")), record(function("def main(): return 1", "b")))
    fields = {c.name: [f.path for f in c.fields] for c in diff.changes}
    assert fields == {"fn": ["code"], "p": ["policy.Statement[0].Resource"]}


def test_replacement_doc_is_generated_from_the_table() -> None:
    from pathlib import Path

    from llama_infra.contracts.replacement import markdown_table

    doc = Path(__file__).resolve().parents[2] / "docs" / "diff-replacements.md"
    assert doc.read_text() == markdown_table(), "docs/diff-replacements.md is stale: regenerate it (see its header)"
    assert all(f"`{rule.type_token}`" in doc.read_text() for rule in RULES)
