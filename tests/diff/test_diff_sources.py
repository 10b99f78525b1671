"""BASE and HEAD of `llama-infra diff`: spec files, or `REV:PATH` read from git; bad input is a clear error."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from llama_infra.diff.sources import DiffInputError, read_spec
from llama_infra.spec import SpecError

DEV_SPEC = Path(__file__).resolve().parents[2] / "stacks" / "specs" / "dev.yaml"


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose spec went from 1 to 3 baseline instances in the second commit."""
    repo = tmp_path / "repo"
    (repo / "specs").mkdir(parents=True)
    spec = repo / "specs" / "dev.yaml"
    spec.write_text(DEV_SPEC.read_text())
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "one instance")
    spec.write_text(DEV_SPEC.read_text().replace("count: 1", "count: 3"))
    git(repo, "commit", "-qam", "three instances")
    return repo


def test_file_and_git_revision_forms(repo: Path) -> None:
    now = read_spec("specs/dev.yaml", cwd=repo)
    before = read_spec("HEAD~1:specs/dev.yaml", cwd=repo)
    assert (now.label, now.spec.capacity.baseline.count) == ("specs/dev.yaml", 3)
    assert (before.label, before.spec.capacity.baseline.count) == ("HEAD~1:specs/dev.yaml", 1)
    assert read_spec("main:specs/dev.yaml", cwd=repo).spec == now.spec


def test_unknown_revision(repo: Path) -> None:
    with pytest.raises(DiffInputError) as e:
        read_spec("no-such-branch:specs/dev.yaml", cwd=repo)
    assert str(e.value) == (
        "no-such-branch:specs/dev.yaml: error: unknown git revision 'no-such-branch'\n"
        "    fix: use a branch, tag or commit that exists (`git log --oneline`), e.g. main or "
        "HEAD~1"
    )


def test_path_missing_at_revision(repo: Path) -> None:
    with pytest.raises(
        DiffInputError,
        match=r"specs/prod.yaml does not exist at revision HEAD~1\n    fix: check "
        r"the path with `git ls-tree -r --name-only HEAD~1`",
    ):
        read_spec("HEAD~1:specs/prod.yaml", cwd=repo)


def test_missing_file_and_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(DiffInputError, match=r"^nope.yaml: error: no such spec file\n    fix: give a spec file"):
        read_spec("nope.yaml", cwd=tmp_path)
    with pytest.raises(DiffInputError, match="is not in a git repository"):
        read_spec("main:specs/dev.yaml", cwd=tmp_path)


def test_invalid_spec_at_a_revision_names_the_revision(repo: Path) -> None:
    (repo / "specs" / "dev.yaml").write_text(DEV_SPEC.read_text().replace("count: 1", "count: -1"))
    git(repo, "commit", "-qam", "broken")
    with pytest.raises(SpecError) as e:
        read_spec("HEAD:specs/dev.yaml", cwd=repo)
    assert str(e.value).startswith("HEAD:specs/dev.yaml: 1 problem\nHEAD:specs/dev.yaml:")
    assert "capacity.baseline.count" in str(e.value)
