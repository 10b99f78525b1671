"""`llama-infra diff` on the example specs: what `pulumi up` would do between two specs, and the cost delta."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llama_infra.cli import app
from llama_infra.diff import diff_refs
from llama_infra.spec import load_spec
from llama_infra.targets import cost_report

SPECS = Path(__file__).resolve().parents[2] / "stacks" / "specs"


def edited(tmp_path: Path, name: str, *replacements: tuple[str, str]) -> Path:
    text = (SPECS / name).read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    out = tmp_path / name
    out.write_text(text)
    return out


def ops(result) -> dict[str, str]:
    return {c.name: c.op for c in result.resources.changes}


def test_new_instance_type_means_a_new_endpoint_configuration(tmp_path: Path) -> None:
    head = edited(tmp_path, "dev.yaml", ("instance_type: ml.g5.2xlarge", "instance_type: ml.g6e.2xlarge"))
    result = diff_refs(str(SPECS / "dev.yaml"), str(head))
    assert ops(result) == {"llama-8b-dev-endpoint-config": "replace", "llama-8b-dev-endpoint": "update"}
    (config,) = result.replacements
    assert [f.path for f in config.fields] == ["productionVariants[0].instanceType"]
    assert "new endpoint configuration" in config.replacements[0].why
    endpoint = next(c for c in result.resources.changes if c.name == "llama-8b-dev-endpoint")
    assert [f.path for f in endpoint.fields] == ["endpointConfigName"]  # moves to the new configuration
    expected = (
        cost_report(load_spec(head)).cost_per_month_usd - cost_report(load_spec(SPECS / "dev.yaml")).cost_per_month_usd
    )
    assert result.cost_delta_per_month_usd == pytest.approx(expected, abs=0.01)
    assert result.cost_delta_per_month_usd > 0  # L40S costs more than A10G


def test_with_a_night_window_the_workflow_moves_the_endpoint(tmp_path: Path) -> None:
    """prod downsizes overnight: the endpoint's configuration belongs to the downsizing workflow (ignore_changes),
    so Pulumi creates the new day configuration (keeping the old one, which the live endpoint may still run) and
    publishes its name to the workflow, whose next tick switches to it while the day is in force."""
    head = edited(
        tmp_path, "prod.yaml", ("instance_type: ml.p4d.24xlarge, count: 2", "instance_type: ml.p5.48xlarge, count: 2")
    )
    result = diff_refs(str(SPECS / "prod.yaml"), str(head))
    assert ops(result)["llama-70b-prod-endpoint-config"] == "replace"
    assert "llama-70b-prod-endpoint" not in ops(result)
    ignored = {i.name: [f.path for f in i.fields] for i in result.resources.ignored}
    assert ignored["llama-70b-prod-endpoint"] == ["endpointConfigName"]
    for suffix in ("-day-schedule", "-night-schedule", "-tick-schedule"):
        schedule = next(c for c in result.resources.changes if c.name.endswith(suffix))
        assert "target.input.configurations.day.endpoint_config_name" in [f.path for f in schedule.fields]


def test_new_precision_replaces_the_model_and_its_configuration(tmp_path: Path) -> None:
    # a pre-quantized precision is a checkpoint: GPTQ weights from their own prefix (no flag names the format)
    head = edited(
        tmp_path,
        "staging.yaml",
        ("precision: awq", "precision: gptq"),
        ("llama-3.1-70b-instruct-awq/", "llama-3.1-70b-instruct-gptq/"),
    )
    result = diff_refs(str(SPECS / "staging.yaml"), str(head))
    changes = {c.name: c for c in result.resources.changes}
    model = next(c for c in changes.values() if c.type == "aws:sagemaker/model:Model")
    assert model.op == "replace" and "model is immutable" in model.replacements[0].why
    assert any("primaryContainer" in f.path or "containers" in f.path for f in model.fields)
    config = next(c for c in changes.values() if c.type.endswith("EndpointConfiguration"))
    assert config.op == "replace"  # it names the new model
    assert result.cost_delta_per_month_usd == 0  # same instances, same price


def test_renamed_deployment_deletes_and_creates_everything(tmp_path: Path) -> None:
    head = edited(tmp_path, "dev.yaml", ("name: llama-8b-dev", "name: llama-8b-dev2"))
    result = diff_refs(str(SPECS / "dev.yaml"), str(head))
    creates = {c.type for c in result.resources.changes if c.op == "create"}
    deletes = {c.type for c in result.resources.changes if c.op == "delete"}
    assert creates == deletes and "aws:sagemaker/endpoint:Endpoint" in creates
    assert result.resources.count("create") == result.resources.count("delete") > 5
    assert result.resources.count("update") == result.resources.count("replace") == 0
    assert result.resources.unchanged == 1  # the stack's AWS provider, shared by both names


def test_same_spec_has_no_changes() -> None:
    result = diff_refs(str(SPECS / "dev.yaml"), str(SPECS / "dev.yaml"))
    assert result.resources.changes == [] and result.resources.unchanged > 5
    assert result.cost_delta_per_month_usd == 0


def test_cli_text_and_markdown(tmp_path: Path) -> None:
    head = edited(tmp_path, "dev.yaml", ("instance_type: ml.g5.2xlarge", "instance_type: ml.g6e.2xlarge"))
    runner = CliRunner()
    text = runner.invoke(app, ["diff", str(SPECS / "dev.yaml"), str(head)])
    assert text.exit_code == 0, text.output
    assert (
        "+- replace aws:sagemaker/endpointConfiguration:EndpointConfiguration  llama-8b-dev-endpoint-config"
        in text.output
    )
    assert 'productionVariants[0].instanceType: "ml.g5.2xlarge" → "ml.g6e.2xlarge"' in text.output
    assert "Resources: 0 to create, 1 to update, 1 to replace, 0 to delete" in text.output
    md = runner.invoke(app, ["diff", str(SPECS / "dev.yaml"), str(head), "--format", "markdown"])
    assert md.exit_code == 0, md.output
    assert "> [!WARNING]\n> 1 resource(s) will be **replaced**:" in md.output
    assert "| `+-` | replace | `aws:sagemaker/endpointConfiguration:EndpointConfiguration` |" in md.output
    assert "**Cost:** $" in md.output and "per month (+$" in md.output


def git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def test_cli_git_revision_form(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    (repo / "stacks" / "specs").mkdir(parents=True)
    spec = repo / "stacks" / "specs" / "dev.yaml"
    spec.write_text((SPECS / "dev.yaml").read_text())
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    spec.write_text((SPECS / "dev.yaml").read_text().replace("ml.g5.2xlarge", "ml.g6.2xlarge"))
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(
        app, ["diff", "main:stacks/specs/dev.yaml", "stacks/specs/dev.yaml", "--format", "markdown"]
    )
    assert result.exit_code == 0, result.output
    assert "`main:stacks/specs/dev.yaml` → `stacks/specs/dev.yaml`" in result.output
    assert '`"ml.g5.2xlarge"` → `"ml.g6.2xlarge"`' in result.output


@pytest.mark.parametrize(
    ("base", "head", "message"),
    [
        ("missing.yaml", "stacks/specs/dev.yaml", "missing.yaml: error: no such spec file"),
        ("no-such-rev:stacks/specs/dev.yaml", "stacks/specs/dev.yaml", "unknown git revision 'no-such-rev'"),
        ("stacks/specs/dev.yaml", "broken.yaml", "broken.yaml: 1 problem\nbroken.yaml:"),
    ],
)
def test_cli_bad_input_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base: str, head: str, message: str
) -> None:
    (tmp_path / "stacks" / "specs").mkdir(parents=True)
    (tmp_path / "stacks" / "specs" / "dev.yaml").write_text((SPECS / "dev.yaml").read_text())
    (tmp_path / "broken.yaml").write_text((SPECS / "dev.yaml").read_text().replace("count: 1", "count: many"))
    git(tmp_path, "init", "-q", "-b", "main")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["diff", base, head])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)


def test_eks_baseline_instance_type_replaces_the_node_group(tmp_path: Path) -> None:
    good = Path(__file__).resolve().parents[1] / "data" / "good-specs" / "eks-70b-spot.yaml"
    head = tmp_path / "eks.yaml"
    head.write_text(
        good.read_text().replace("baseline: {instance_type: g6e.12xlarge", "baseline: {instance_type: g6.12xlarge")
    )
    result = diff_refs(str(good), str(head))
    node_group = next(c for c in result.resources.changes if c.type == "aws:eks/nodeGroup:NodeGroup")
    assert node_group.op == "replace"
    assert node_group.replacements[0].paths == ("instanceTypes[0]",)
    assert "new node group" in node_group.replacements[0].why
    assert result.cost_delta_per_month_usd < 0  # L4 nodes cost less than L40S nodes


def test_named_list_items_are_matched_by_name_so_an_insert_is_one_added_item():
    from llama_infra.contracts.replacement import matches
    from llama_infra.diff.compare import field_changes

    queue = {"name": "queue_depth", "type": "prometheus", "metadata": {"threshold": "5"}}
    gate = {"name": "window_overnight", "type": "cron", "metadata": {"start": "0 23 * * *"}}
    changes = {c.path for c in field_changes({"triggers": [queue]}, {"triggers": [gate, queue]})}
    assert changes == {
        "triggers[name=window_overnight].name",
        "triggers[name=window_overnight].type",
        "triggers[name=window_overnight].metadata.start",
    }
    # Positional for unnamed or duplicated names; replacement rules written with [*] match both forms.
    assert {c.path for c in field_changes({"a": [1]}, {"a": [2]})} == {"a[0]"}
    dup = [{"name": "x", "v": 1}, {"name": "x", "v": 2}]
    assert {c.path for c in field_changes({"a": dup}, {"a": dup[::-1]})} == {"a[0].v", "a[1].v"}
    assert matches("spec.containers[*].image", "spec.containers[name=vllm].image")
