"""The command-line conventions people expect: --json where a machine reads the answer, diff's detailed exit code,
validate --strict, manifests -o json|yaml, shell completion."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML
from typer.testing import CliRunner

from llama_infra.cli import app
from llama_infra.diff import diff_refs
from llama_infra.spec import load_spec, warnings
from llama_infra.spec.slo import slo_issues
from llama_infra.targets.eks.manifests import all_objects

SPECS = Path(__file__).resolve().parents[1] / "stacks" / "specs"


def run(*argv: str):
    return CliRunner().invoke(app, list(argv), catch_exceptions=False)


def edited(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = (SPECS / name).read_text()
    assert old in text, old
    out = tmp_path / name
    out.write_text(text.replace(old, new))
    return out


def test_diff_detailed_exitcode_is_0_without_changes_2_with_changes_1_on_error(tmp_path):
    same = run("diff", str(SPECS / "dev.yaml"), str(SPECS / "dev.yaml"), "--detailed-exitcode")
    assert same.exit_code == 0, same.output
    head = edited(tmp_path, "dev.yaml", "instance_type: ml.g5.2xlarge", "instance_type: ml.g6e.2xlarge")
    assert run("diff", str(SPECS / "dev.yaml"), str(head), "--detailed-exitcode").exit_code == 2
    assert run("diff", str(SPECS / "dev.yaml"), str(head)).exit_code == 0  # without the flag, as before
    assert run("diff", str(SPECS / "dev.yaml"), str(tmp_path / "nope.yaml"), "--detailed-exitcode").exit_code == 1


def test_diff_json_is_the_diff_as_data(tmp_path):
    head = edited(tmp_path, "dev.yaml", "instance_type: ml.g5.2xlarge", "instance_type: ml.g6e.2xlarge")
    result = run("diff", str(SPECS / "dev.yaml"), str(head), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    expected = diff_refs(str(SPECS / "dev.yaml"), str(head))
    assert doc["has_changes"] is True
    assert doc["counts"] == {op: expected.resources.count(op) for op in ("create", "update", "replace", "delete")}
    assert doc["cost"]["delta_per_month_usd"] == expected.cost_delta_per_month_usd
    [replaced] = [c for c in doc["changes"] if c["op"] == "replace"]
    [field] = [f for f in replaced["fields"] if f["path"].endswith("instanceType")]
    assert (field["before"], field["after"]) == ("ml.g5.2xlarge", "ml.g6e.2xlarge")
    assert replaced["replacements"] and all(r["why"] for r in replaced["replacements"])


def test_validate_json_reports_problems_with_line_field_and_fix(tmp_path):
    bad = edited(tmp_path, "dev.yaml", "instance_type: ml.g5.2xlarge", "instance_type: ml.nope.2xlarge")
    result = run("validate", str(SPECS / "dev.yaml"), str(bad), "--json")
    assert result.exit_code == 1
    good, broken = json.loads(result.output)["files"]
    assert good["ok"] is True and good["file"].endswith("dev.yaml")
    assert broken["ok"] is False
    [problem] = [p for p in broken["problems"] if p["field"] == "capacity.baseline.instance_type"]
    assert problem["severity"] == "error" and isinstance(problem["line"], int) and problem["fix"]


def test_validate_strict_fails_on_warnings_only_when_asked(tmp_path):
    risky = edited(tmp_path, "prod.yaml", "count: 2, purchase: reserved", "count: 1, purchase: reserved")
    spec = load_spec(risky)
    found = warnings(spec) + slo_issues(spec)  # validate reports the SLO checks after the spec's own
    assert found, "the edited spec should warn (a prod baseline of one instance)"
    assert run("validate", str(risky)).exit_code == 0
    strict = run("validate", str(risky), "--strict", "--json")
    assert strict.exit_code == 1
    [report] = json.loads(strict.output)["files"]
    assert report["ok"] is False and len(report["problems"]) == len(found)
    assert {p["severity"] for p in report["problems"]} == {"warning"}


def test_manifests_json_and_yaml_carry_the_same_objects():
    spec_file = SPECS / "dev-eks.yaml"
    as_json = run("manifests", str(spec_file), "-o", "json")
    assert as_json.exit_code == 0, as_json.output
    doc = json.loads(as_json.output)
    assert doc["kind"] == "List"
    as_yaml = run("manifests", str(spec_file))
    assert list(YAML(typ="safe").load_all(as_yaml.output)) == doc["items"]
    assert len(doc["items"]) == len(list(all_objects(load_spec(spec_file), "KARPENTER_NODE_ROLE")))
    assert run("manifests", str(spec_file), "-o", "toml").exit_code == 2


def test_manifests_of_a_target_that_runs_nothing_on_kubernetes_is_a_usage_error():
    result = CliRunner().invoke(app, ["manifests", str(SPECS / "dev.yaml")])
    assert result.exit_code == 2
    assert "target is sagemaker; manifests are rendered for target: eks" in result.output


def complete(words: str, cwd: Path) -> list[str]:
    """What the installed command's bash completion offers for the last of `words` (click's completion protocol,
    as the script `llama-infra --show-completion bash` prints runs it)."""
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)  # the index of the word being completed
    env = {**os.environ, "_LLAMA_INFRA_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    command = Path(sys.executable).parent / "llama-infra"
    out = subprocess.run([command], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.split()


def test_shell_completion_offers_commands_stacks_and_spec_files(tmp_path):
    repo = SPECS.parents[1]
    assert complete("llama-infra pl", repo) == ["plan"]
    assert complete("llama-infra plan prod", repo) == ["prod", "prod-eks"]
    assert complete("llama-infra plan stacks/specs/st", repo) == ["stacks/specs/staging.yaml"]
    shutil.copy(SPECS / "dev.yaml", tmp_path / "my-spec.yaml")
    (tmp_path / "notes.txt").write_text("not a spec")
    (tmp_path / "specs").mkdir()
    assert complete("llama-infra plan ", tmp_path) == ["my-spec.yaml", "specs/"]  # no stacks here
