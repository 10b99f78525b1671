"""The two sides of a diff: a spec file, or a spec at a git revision (`REV:PATH`, read with `git show`)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from llama_infra.spec import DeploymentSpec, parse_spec


class DiffInputError(Exception):
    """BASE or HEAD cannot be read: what was asked, what went wrong, how to fix it."""

    def __init__(self, ref: str, problem: str, fix: str):
        self.ref, self.problem, self.fix = ref, problem, fix
        super().__init__(f"{ref}: error: {problem}\n    fix: {fix}")


@dataclass(frozen=True)
class SpecAt:
    """A validated spec and where it came from (a path, or `REV:PATH`)."""

    label: str
    spec: DeploymentSpec


def read_spec(ref: str, cwd: str | Path | None = None) -> SpecAt:
    """`ref` is a spec file, or `REV:PATH` with a git revision (`main:stacks/specs/prod.yaml`, `HEAD~1:./prod.yaml`).

    A file that exists wins over the revision form. Raises DiffInputError for an unreadable side and
    llama_infra.spec.SpecError for a spec that does not validate.
    """
    base = Path(cwd) if cwd else Path.cwd()
    path = Path(ref) if Path(ref).is_absolute() else base / ref
    if path.is_file():
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as e:
            raise DiffInputError(
                ref, f"cannot read the file: {e}", "check the file's permissions and encoding"
            ) from None
        return SpecAt(ref, parse_spec(text, ref))
    rev, sep, file = ref.partition(":")
    if not sep or not rev or not file or len(rev) == 1 and rev.isalpha():  # `C:\...` is a path, not a revision
        raise DiffInputError(
            ref,
            "no such spec file",
            "give a spec file (stacks/specs/prod.yaml) or a git revision and path (main:stacks/specs/prod.yaml)",
        )
    return SpecAt(ref, parse_spec(_git_show(rev, file, ref, base), ref))


def _git_show(rev: str, file: str, ref: str, cwd: Path) -> str:
    try:
        done = subprocess.run(
            ["git", "show", f"{rev}:{file}"], cwd=cwd, capture_output=True, text=True, timeout=30, check=False
        )
    except FileNotFoundError:
        raise DiffInputError(ref, "git is not installed", "install git, or diff two spec files") from None
    except subprocess.TimeoutExpired:
        raise DiffInputError(ref, "`git show` did not answer within 30 s", "check the repository") from None
    if done.returncode == 0:
        return done.stdout
    message = done.stderr.strip().removeprefix("fatal: ").splitlines()[0] if done.stderr.strip() else "git failed"
    if "not a git repository" in message:
        raise DiffInputError(
            ref,
            f"not a spec file, and {cwd} is not in a git repository",
            "give a spec file, or run inside the repository that holds the spec",
        )
    if "does not exist in" in message or "exists on disk, but not in" in message:
        raise DiffInputError(
            ref,
            f"{file} does not exist at revision {rev}",
            f"check the path with `git ls-tree -r --name-only {rev}` (paths are from the "
            "repository root; use ./ for a path relative to the current directory)",
        )
    if "invalid object name" in message or "unknown revision" in message or "bad revision" in message:
        raise DiffInputError(
            ref,
            f"unknown git revision '{rev}'",
            "use a branch, tag or commit that exists (`git log --oneline`), e.g. main or HEAD~1",
        )
    raise DiffInputError(ref, f"git show failed: {message}", "check the revision and path")
