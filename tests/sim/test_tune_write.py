"""`tune --write`: the recommended change goes into the spec file with its comments and layout, or not at all."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llama_infra.cli import app
from llama_infra.sim.tune import write_changes
from llama_infra.spec import SpecError, load_spec

SPECS = Path(__file__).resolve().parents[2] / "stacks" / "specs"


def copy(tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    shutil.copy(SPECS / name, out)
    return out


def test_written_changes_keep_every_comment_and_untouched_line(tmp_path):
    spec_file = copy(tmp_path, "prod-eks.yaml")
    before = spec_file.read_text()
    changes = {("scaling", "queue_depth_target"): 8.0, ("capacity", "burst", "max"): 5}
    write_changes(spec_file, changes)
    after = spec_file.read_text()
    spec = load_spec(spec_file)
    assert spec.scaling.queue_depth_target == 8 and spec.capacity.burst.max == 5
    comments = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert comments and all(c in after.splitlines() for c in comments)
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=False) if a != b]
    assert len(before.splitlines()) == len(after.splitlines()) and len(changed) == 2


@pytest.mark.parametrize("eol", [False, True], ids=["comment-block", "end-of-line-comment-too"])
def test_a_new_key_goes_after_the_last_one_and_the_next_sections_comments_stay_with_it(tmp_path, eol):
    """A key `tune` adds to a mapping (prod's `scaling` states two) goes right after the mapping's last key: the
    comment block that opens the next section (prod's on the overnight window, above `schedules:`) stays above that
    section, and an end-of-line comment on the last key stays on its line."""
    spec_file = copy(tmp_path, "prod.yaml")
    if eol:
        spec_file.write_text(
            spec_file.read_text().replace(
                "scale_down_stabilization_seconds: 300\n", "scale_down_stabilization_seconds: 300  # five minutes\n"
            )
        )
    before = spec_file.read_text().splitlines()
    write_changes(spec_file, {("scaling", "queue_depth_target"): 10, ("scaling", "floor_lead_minutes"): 0})
    after = spec_file.read_text().splitlines()
    spec = load_spec(spec_file)
    assert spec.scaling.queue_depth_target == 10 and spec.scaling.floor_lead_minutes == 0
    last = next(i for i, line in enumerate(after) if line.startswith("  scale_down_stabilization_seconds: 300"))
    assert after[last + 1 : last + 3] == ["  queue_depth_target: 10", "  floor_lead_minutes: 0"]
    assert after[last].endswith("# five minutes") == eol
    block = before[before.index("schedules:") - 4 : before.index("schedules:")]
    assert block[0].startswith("# Overnight")
    assert after[after.index("schedules:") - 4 : after.index("schedules:")] == block
    assert [line for line in after if line not in ("  queue_depth_target: 10", "  floor_lead_minutes: 0")] == before


def test_a_change_the_spec_rejects_writes_nothing(tmp_path):
    spec_file = copy(tmp_path, "dev.yaml")
    before = spec_file.read_text()
    with pytest.raises(SpecError):
        write_changes(spec_file, {("capacity", "baseline", "count"): -1})
    assert spec_file.read_text() == before and sorted(p.name for p in tmp_path.iterdir()) == ["dev.yaml"]


def test_tune_write_leaves_the_file_equal_to_the_printed_diff(tmp_path):
    spec_file = tmp_path / "eks-8b-spot.yaml"
    shutil.copy("tests/data/sim/eks-8b-spot.yaml", spec_file)
    before = spec_file.read_text()
    r = CliRunner().invoke(
        app,
        [
            "tune",
            str(spec_file),
            "--trace",
            "tests/data/traces/azure_code_first_10min.csv",
            "--window",
            "0:5m",
            "--passes",
            "1",
            "--write",
        ],
    )
    assert r.exit_code == 0, r.output
    if "No change recommended." in r.output:
        assert spec_file.read_text() == before
    else:
        assert f"wrote the recommended change into {spec_file}" in r.output
        assert spec_file.read_text() != before
        load_spec(spec_file)


def test_tune_json_is_the_result_as_data_on_stdout():
    import json

    r = CliRunner().invoke(
        app,
        [
            "tune",
            "tests/data/sim/eks-8b-spot.yaml",
            "--trace",
            "tests/data/traces/azure_code_first_10min.csv",
            "--window",
            "0:5m",
            "--passes",
            "1",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["simulations"] >= 1 and doc["spec"] == load_spec("tests/data/sim/eks-8b-spot.yaml").name
    for side in ("as_written", "recommended"):
        assert {"changes", "cost_usd", "slo_attainment", "meets_slo"} <= set(doc[side])
    assert doc["as_written"]["changes"] == {}
    assert bool(doc["diff"]) == bool(doc["recommended"]["changes"]) and doc["written"] is False
