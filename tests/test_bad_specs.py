"""The bad-spec corpus: each `tests/data/bad-specs/<case>.yaml` must fail with exactly `<case>.expected`.

The same text must reach a user of `llama-infra validate` (exit code 1, no traceback). See the corpus README for
how to add a case.
"""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from llama_infra.cli import app
from llama_infra.spec import SpecError, load_spec

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
