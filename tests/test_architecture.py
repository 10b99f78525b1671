"""The layers hold: the import-linter contracts in pyproject.toml (target facts < core < targets < programs < cli,
the core imports no target, the target facts import nothing, no import circles), and no new branch on the spec's
target outside `llama_infra/targets/`."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_in_pyproject_are_kept():
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


# A branch on the target: `spec.target == "eks"`, `target != "sagemaker"`, `spec.target in (...)`.
TARGET_BRANCH = re.compile(r"""\.target\s*(==|!=|\bin\b|\bnot in\b)|\btarget\s*(==|!=)\s*["'](eks|sagemaker)["']""")

# Branches that remain outside targets/ (and may only go away): none. What differs by target is a fact in
# `llama_infra.target_facts` (below the core, imported by any layer) or a rule in the target's own home. A branch
# that must stay is listed here as "path": count, with a comment saying why.
REMAINING: dict[str, int] = {}


def target_branches() -> Counter[str]:
    found: Counter[str] = Counter()
    for path in sorted((ROOT / "llama_infra").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("llama_infra/targets/"):
            continue
        found[rel] += sum(1 for line in path.read_text().splitlines() if TARGET_BRANCH.search(line))
    return +found


def test_no_new_branch_on_the_target_outside_the_targets_package():
    over = {f: n for f, n in target_branches().items() if n > REMAINING.get(f, 0)}
    assert not over, (
        f"branches on the spec's target outside llama_infra/targets/: {over} (allowed: "
        f"{ {f: REMAINING.get(f, 0) for f in over} }); ask the target instead: add a member to "
        "`llama_infra.targets.Target` and implement it in each targets/<name>/target.py"
    )


def test_the_budget_names_only_branches_that_remain():
    """A branch that leaves lowers the budget in the same commit, so it cannot come back unnoticed."""
    found = target_branches()
    assert {f: n for f, n in REMAINING.items() if found.get(f, 0) < n} == {}


def test_the_branch_pattern_finds_the_branches_it_names():
    lines = [
        'if spec.target == "eks":',
        "x = a if target != 'sagemaker' else b",
        "if spec.target in ('eks',):",
        "target: str",
        "targets.get(spec.target)",
    ]
    assert [bool(TARGET_BRANCH.search(line)) for line in lines] == [True, True, True, False, False]


def test_the_stacks_program_and_the_component_package_name_no_target():
    for rel in (
        "stacks/__main__.py",
        "components/llama_deployment.py",
        "llama_infra/program.py",
        "llama_infra/diff/program.py",
        "llama_infra/plan/engine.py",
    ):
        text = (ROOT / rel).read_text()
        assert not TARGET_BRANCH.search(text), rel
        assert "targets.sagemaker" not in text and "targets.eks" not in text, rel


def test_every_built_in_target_implements_every_member_of_the_seam():
    from llama_infra import targets

    members = {
        name
        for name, value in vars(targets.Target).items()
        if not name.startswith("_") and (callable(value) or name in targets.Target.__annotations__)
    } | set(targets.Target.__annotations__)
    assert {"build", "kubernetes_objects", "scaffold", "name"} <= members
    for name in targets.BUILT_IN:
        target = targets.get(name)
        missing = sorted(m for m in members if not hasattr(target, m))
        assert not missing, f"{name}: {missing}"
        assert target.name == name
