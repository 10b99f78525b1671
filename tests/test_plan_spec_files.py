"""`llama-infra plan` for a newcomer: spec files as well as stacks, from any directory, the summary table first."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from typer.testing import CliRunner

from llama_infra.cli import app
from llama_infra.plan import plan_stack, plan_stacks
from llama_infra.spec import load_spec
from llama_infra.targets import cost_report

REPO = Path(__file__).resolve().parents[1]
STACKS = REPO / "stacks"


def plan(*args: str, cwd: Path | None = None, monkeypatch=None):
    if cwd is not None:
        monkeypatch.chdir(cwd)
    return CliRunner().invoke(app, ["plan", *args], catch_exceptions=False)


def test_a_spec_file_plans_from_any_directory_like_the_stack_that_names_it(tmp_path, monkeypatch):
    spec_file = tmp_path / "my-spec.yaml"
    shutil.copy(STACKS / "specs" / "dev.yaml", spec_file)
    result = plan("my-spec.yaml", "--json", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    [from_file] = json.loads(result.output)["plans"]
    from_stack = plan_stack("dev", STACKS).to_dict()
    assert from_file["spec_file"] == "my-spec.yaml" and from_file["stack"] == load_spec(spec_file).name
    for key in ("target", "region", "cost", "scaling", "warnings", "summary"):
        assert from_file[key] == from_stack[key], key
    assert [(r["type"], r["name"], r["inputs"]) for r in from_file["resources"]] == [
        (r["type"], r["name"], r["inputs"]) for r in from_stack["resources"]
    ]


def test_outside_a_checkout_planning_stacks_says_what_to_do(tmp_path, monkeypatch):
    result = plan(cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert "no stacks here" in result.output and "llama-infra plan my-spec.yaml" in result.output
    assert "Traceback" not in result.output


def test_a_missing_spec_file_is_a_clear_error(tmp_path, monkeypatch):
    result = plan("nope.yaml", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 1 and "nope.yaml: no such spec file" in result.output


def test_summary_table_comes_first_dev_to_prod_with_each_stacks_monthly_cost(monkeypatch):
    result = plan(cwd=REPO, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    rows = [line for line in lines if re.search(r"\$[\d,]+ ", line)]
    stacks = [row.split()[0] for row in rows]
    environments = [load_spec(STACKS / "specs" / f"{s}.yaml").environment for s in stacks]
    assert sorted(stacks) == sorted(p.name[7:-5] for p in STACKS.glob("Pulumi.*.yaml"))
    order = ["dev", "staging", "prod"]
    assert [order.index(e) for e in environments] == sorted(order.index(e) for e in environments)
    for stack, row in zip(stacks, rows, strict=True):
        monthly = cost_report(load_spec(STACKS / "specs" / f"{stack}.yaml")).cost_per_month_usd
        assert f"${monthly:,.0f}" in row
    assert "resources" not in result.output  # the detail panels follow only with --details
    detailed = plan("--details", cwd=REPO, monkeypatch=monkeypatch).output
    assert detailed.index("$/month") < detailed.index("24 h timeline")


def test_on_80_columns_each_stack_is_one_row_with_every_value_whole(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = plan(cwd=REPO, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(map(len, lines)) <= 80
    for p in plan_stacks(None, STACKS):
        s = p.summary
        whole = [p.stack, p.target, s["model"], s["day_instance_type"], *s["window_instance_types"]]
        whole.append(f"${p.cost['cost_per_month_usd']:,.0f}")
        [row] = [line for line in lines if line.split()[:1] == [p.stack]]
        assert all(f" {value} " in f" {row} " or f" {value}," in row for value in whole), (row, whole)


def test_one_stack_shows_its_details_without_asking(monkeypatch):
    result = plan("dev", cwd=REPO, monkeypatch=monkeypatch)
    assert result.exit_code == 0 and "24 h timeline" in result.output and "$/month" in result.output


# What a Python value looks like when it reaches a person unformatted: a dict or list repr, None/True/False, a
# dataclass repr (`Name(field=...)`), an object's default repr.
PYTHON_REPR = re.compile(r"\{'|\['|\bNone\b|\bTrue\b|\bFalse\b|object at 0x|\b[A-Z]\w+\([a-z_]+=")


def test_the_detailed_text_of_every_stack_carries_no_python_repr(monkeypatch):
    result = plan("--details", cwd=REPO, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    found = [line.strip() for line in result.output.splitlines() if PYTHON_REPR.search(line)]
    assert not found, found[:5]


def test_scaling_numbers_read_as_words_and_one_line_per_configuration():
    from llama_infra.plan.render import scaling_numbers

    numbers = {
        "min_replicas": 1,
        "queue_depth_target": 5.0,
        "gpu_memory_target": None,
        "targets_by_configuration": [
            {
                "configuration": "day",
                "queue_depth_target": 5.0,
                "queue_depth_target_source": "spec",
                "kv_cache_target": 0.85,
                "kv_cache_target_source": "default",
            },
            {
                "configuration": "overnight",
                "queue_depth_target": 6.84,
                "queue_depth_target_source": "derived",
                "kv_cache_target": None,
                "kv_cache_target_source": None,
            },
        ],
    }
    assert scaling_numbers(numbers) == [
        "min_replicas 1 · queue_depth_target 5 · gpu_memory_target none",
        "day: queue_depth_target 5 (spec), kv_cache_target 0.85 (default)",
        "overnight: queue_depth_target 6.84 (derived)",
    ]
    assert not any(PYTHON_REPR.search(line) for line in scaling_numbers(numbers))
