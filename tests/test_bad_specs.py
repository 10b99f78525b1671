"""The bad-spec corpus: each `tests/data/bad-specs/<case>.yaml` must fail with exactly `<case>.expected`.

The same text must reach a user of `llama-infra validate` (exit code 1, no traceback). See the corpus README for
how to add a case.
"""

import io
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from llama_infra.cli import app
from llama_infra.spec import DeploymentSpec, SpecError, load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "bad-specs"
CASES = sorted(CORPUS.glob("*.yaml"))


def _relative(case: Path) -> Path:
    return case.relative_to(ROOT)


def _expected(case: Path) -> str:
    return case.with_suffix(".expected").read_text(encoding="utf-8")


def test_corpus_is_large_and_every_case_has_its_expected_message():
    assert len(CASES) >= 30
    missing = [c.name for c in CASES if not c.with_suffix(".expected").exists()]
    orphans = [e.name for e in CORPUS.glob("*.expected") if not e.with_suffix(".yaml").exists()]
    assert (missing, orphans) == ([], [])


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_load_spec_reports_exactly_the_expected_message(case, monkeypatch):
    monkeypatch.chdir(ROOT)  # messages name the file as the user typed it: relative to the repository root
    with pytest.raises(SpecError) as caught:
        load_spec(_relative(case))
    assert str(caught.value) + "\n" == _expected(case)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_validate_command_prints_the_message_and_exits_1_without_traceback(case, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["validate", str(_relative(case))])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # typer.Exit(1), not an escaped exception
    assert "Traceback" not in result.output
    assert result.stderr == _expected(case)
    assert result.stdout == ""


def test_validate_reports_good_and_bad_files_in_one_run(monkeypatch):
    monkeypatch.chdir(ROOT)
    bad = _relative(CASES[0])
    result = CliRunner().invoke(app, ["validate", "stacks/specs/dev.yaml", str(bad)])
    assert result.exit_code == 1
    assert result.stdout.startswith("stacks/specs/dev.yaml: ok")
    assert result.stderr == _expected(CASES[0])


def test_prod_warnings_say_when_the_policy_packs_floor_will_reject_the_spec():
    """Spec warnings and the policy pack agree: prod scale to zero and a prod window of 1 replica are flagged."""
    from llama_infra.spec import DeploymentSpec
    from llama_infra.spec.rules import warnings

    base = {
        "name": "llama-8b",
        "environment": "prod",
        "target": "sagemaker",
        "model": {
            "id": "meta-llama/Llama-3.1-8B-Instruct",
            "params_b": 8,
            "weights": {"source": "s3://llama-weights/llama-8b/"},
        },
        "capacity": {"baseline": {"instance_type": "ml.g5.2xlarge", "count": 0}, "burst": {"max": 2}},
        "scaling": {"scale_to_zero": True},
        "sagemaker": {"alarm_topic_arn": "arn:aws:sns:us-east-1:111122223333:llama-alarms"},
    }
    (w,) = [w for w in warnings(DeploymentSpec.model_validate(base)) if w.path == ("scaling", "scale_to_zero")]
    assert "prod-baseline-min-instances" in w.problem and " min for capacity and the model" in w.problem
    window = {
        "name": "night",
        "timezone": "UTC",
        "start": "0 1 * * *",
        "end": "0 5 * * *",
        "downsize": {"min_replicas": 1},
    }
    two = base | {
        "capacity": {"baseline": {"instance_type": "ml.g5.2xlarge", "count": 2}, "burst": {"max": 2}},
        "scaling": {},
        "schedules": [window],
    }
    flagged = [w.path for w in warnings(DeploymentSpec.model_validate(two))]
    assert ("schedules", 0, "downsize", "min_replicas") in flagged and ("scaling", "scale_to_zero") not in flagged


SAGEMAKER_SPEC = """
name: llama-8b
target: sagemaker
model: {id: meta-llama/Llama-3.1-8B-Instruct, params_b: 8, weights: {source: s3://llama-weights/llama-8b/}}
capacity: {baseline: {instance_type: ml.g5.2xlarge, count: 1}, burst: {max: 1}}
"""


@pytest.mark.parametrize(
    ("scaling", "warned"),
    [
        ("", False),  # the default 0.85 is EKS's KV-cache target: nothing to say on SageMaker
        ("scaling: {queue_depth_target: 5}", False),
        ("scaling: {gpu_memory_target: null}", False),
        ("scaling: {gpu_memory_target: 0.85}", True),  # the default, but written: the user expects a policy
        ("scaling: {gpu_memory_target: 0.95}", True),
    ],
)
def test_an_explicit_gpu_memory_target_on_sagemaker_is_a_warning_not_an_error(scaling, warned, tmp_path):
    from llama_infra.spec import parse_spec, warnings

    spec = parse_spec(SAGEMAKER_SPEC + scaling)
    flagged = [w for w in warnings(spec) if w.path == ("scaling", "gpu_memory_target")]
    assert len(flagged) == int(warned)
    if warned:
        (w,) = flagged
        assert w.severity == "warning"
        assert w.problem.startswith(
            f"gpu_memory_target {spec.scaling.gpu_memory_target:g} is not rendered on "
            "SageMaker: its GPU memory metrics count memory allocated"
        )
        assert w.fix == (
            "remove it or set gpu_memory_target: null; SageMaker scales on queue depth (scaling.queue_depth_target)"
        )
        # what a user of `llama-infra validate` sees: the warning, and success
        path = tmp_path / "spec.yaml"
        path.write_text(SAGEMAKER_SPEC + scaling)
        result = CliRunner().invoke(app, ["validate", str(path)])
        assert result.exit_code == 0, result.output
        assert f"{path}: warning: scaling.gpu_memory_target: {w.problem}\n    fix: {w.fix}" in result.output


def test_an_explicit_gpu_memory_target_on_eks_vllm_is_not_flagged():
    """EKS renders it (vLLM's KV-cache usage): only SageMaker, and TGI on EKS, warn."""
    from llama_infra.spec import load_spec as load
    from llama_infra.spec import warnings

    spec = load(ROOT / "stacks/specs/prod-eks.yaml")
    assert "gpu_memory_target" in spec.scaling.model_fields_set and spec.model.framework == "vllm"
    assert not [w for w in warnings(spec) if w.path == ("scaling", "gpu_memory_target")]


FIXES = YAML(typ="safe").load((ROOT / "tests" / "data" / "bad-spec-fixes.yaml").read_text(encoding="utf-8"))


def _apply(text: str, edits: list[dict]) -> str:
    """A case's file with its fix followed: text edits first, then field edits on the round-trip document."""
    for edit in edits:
        if "start_from" in edit:  # "start from an example in stacks/specs/": the whole file becomes that example
            text = (ROOT / edit["start_from"]).read_text(encoding="utf-8")
        elif "replace" in edit:
            old, new = edit["replace"]
            assert old in text
            text = text.replace(old, new)
        elif "delete_lines_with" in edit:
            assert edit["delete_lines_with"] in text
            text = "".join(line for line in text.splitlines(True) if edit["delete_lines_with"] not in line)
    field_edits = [e for e in edits if "set" in e or "delete" in e]
    if not field_edits:
        return text
    yaml = YAML(typ="rt")
    doc = yaml.load(text)
    for edit in field_edits:
        *parents, last = [int(p) if p.isdigit() else p for p in (edit.get("set") or edit["delete"]).split(".")]
        node = doc
        for p in parents:
            node = node.setdefault(p, {}) if isinstance(node, dict) else node[p]
        if "set" in edit:
            node[last] = edit["to"]
        else:
            del node[last]
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


@pytest.mark.parametrize("case", sorted(FIXES), ids=str)
def test_following_the_fix_gives_a_valid_spec(case, tmp_path):
    """Each case's fix, done as its edits say, validates — and the edits are what the fix sentence names."""
    text = (CORPUS / f"{case}.yaml").read_text(encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        parse_spec(text, f"{case}.yaml")
    fixes = " ".join(i.fix for i in caught.value.issues)
    for edit in FIXES[case]:
        key = str((edit.get("set") or "").rsplit(".", 1)[-1])
        named = re.search(rf"\b{re.escape(key)}: ", fixes) if key else None
        if named and not isinstance(edit["to"], (list, dict)):  # "write count: 2": the edit writes that value
            assert str(edit["to"]).lower() in fixes.lower(), (edit, fixes)
    fixed = parse_spec(_apply(text, FIXES[case]), f"{case}.yaml")
    assert isinstance(fixed, DeploymentSpec)


# Cases whose fix is not followed by an edit here, each with the reason. Every other case has its edits.
WITHOUT_EDITS = {
    "encoding-latin1": "the fix is an iconv command; tests/test_spec_intake.py runs it",
    "encoding-utf16": "the fix is an iconv command; tests/test_spec_intake.py runs it",
}


def test_every_case_has_its_fix_followed_or_a_reason():
    assert len(WITHOUT_EDITS) <= 2  # only the iconv cases: a new case comes with the edits that follow its fix
    assert set(FIXES) <= {c.stem for c in CASES}
    assert sorted(c.stem for c in CASES if c.stem not in FIXES) == sorted(WITHOUT_EDITS)
