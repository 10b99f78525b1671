"""`.github/scripts/offline-diff.sh` finds the changed specs and renders `llama-infra diff` output as Markdown.

`llama-infra` on PATH is a stand-in that records its arguments: this tests the script's own decisions (which
specs, which revisions, how failures are shown), not the diff itself.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / ".github" / "scripts" / "offline-diff.sh"

STAND_IN = """#!/usr/bin/env bash
if grep -q broken "$3"; then echo "spec error in $3" >&2; exit 1; fi
echo "DIFF $*"
"""


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def make_repo(tmp_path: Path) -> tuple[Path, str, dict[str, str]]:
    repo = tmp_path / "repo"
    specs = repo / "stacks" / "specs"
    specs.mkdir(parents=True)
    for name in ("dev", "staging", "prod"):
        (specs / f"{name}.yaml").write_text(f"name: {name}\n")
    (repo / "README.md").write_text("x\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    base = git(repo, "rev-parse", "HEAD").strip()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stand_in = bin_dir / "llama-infra"
    stand_in.write_text(STAND_IN)
    stand_in.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    return repo, base, env


def run(repo: Path, base: str, env: dict[str, str]) -> str:
    result = subprocess.run(["bash", str(SCRIPT), base], cwd=repo, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_changed_added_deleted_and_broken_specs(tmp_path: Path) -> None:
    repo, base, env = make_repo(tmp_path)
    (repo / "stacks" / "specs" / "prod.yaml").write_text("name: prod\ncount: 3\n")
    (repo / "stacks" / "specs" / "staging.yaml").write_text("name: staging\nbroken: true\n")
    (repo / "stacks" / "specs" / "dev.yaml").unlink()
    (repo / "stacks" / "specs" / "canary.yaml").write_text("name: canary\n")
    (repo / "README.md").write_text("changed, not a spec\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "change")

    comment = run(repo, base, env)

    assert comment.startswith("## llama-infra offline diff")
    assert f"DIFF diff {base}:stacks/specs/prod.yaml stacks/specs/prod.yaml --format markdown" in comment
    assert "### `stacks/specs/canary.yaml`\n\nNew spec: every resource" in comment
    assert "### `stacks/specs/dev.yaml`\n\nSpec deleted" in comment
    assert "`llama-infra diff` failed:\n\n```\nspec error in stacks/specs/staging.yaml\n```" in comment
    assert "README" not in comment


def test_no_spec_change_says_so(tmp_path: Path) -> None:
    repo, base, env = make_repo(tmp_path)
    (repo / "README.md").write_text("docs only\n")
    git(repo, "commit", "-qam", "docs")
    assert run(repo, base, env).rstrip().endswith("No deployment spec changed in this pull request.")
