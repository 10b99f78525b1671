"""`llama-infra plan` carries the 24-hour capacity timeline of each environment (human and --json)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from typer.testing import CliRunner

from llama_infra.cli import app
from llama_infra.spec import load_spec
from llama_infra.targets import cost_report

STACKS = Path(__file__).resolve().parents[4] / "stacks"


def test_json_plan_has_the_timeline_of_each_environment():
    result = CliRunner().invoke(app, ["plan", "dev", "staging", "prod", "--json", "--stacks-dir", str(STACKS)])
    assert result.exit_code == 0, result.output
    plans = {p["stack"]: p for p in json.loads(result.output)["plans"]}
    prod, dev = plans["prod"]["timeline"], plans["dev"]["timeline"]
    assert prod["timezone"] == "America/New_York"
    assert [s["window"] for s in prod["segments"]] == ["overnight", None, "overnight"]
    assert sum(s["hours"] for s in prod["segments"]) in (23, 24, 25)
    assert {s["instance_type"] for s in prod["segments"]} == {"ml.p4d.24xlarge", "ml.g6e.12xlarge"}
    first, second = prod["next_transitions"][:2]
    assert {first["direction"], second["direction"]} == {"night", "day"}
    day = next(t for t in prod["next_transitions"] if t["direction"] == "day")
    assert datetime.fromisoformat(day["at"]).strftime("%H:%M") == "06:45" and day["lead_time_minutes"] == 15
    report = cost_report(load_spec(STACKS / "specs" / "prod.yaml"))
    # prod's reserved baseline is a Savings Plan, billed whatever runs at night; staging's is on-demand
    assert prod["schedule_saving_per_month_usd"] == round(report.schedule_saving_per_month_usd, 2) >= 0
    staging = cost_report(load_spec(STACKS / "specs" / "staging.yaml"))
    assert (
        plans["staging"]["timeline"]["schedule_saving_per_month_usd"]
        == round(staging.schedule_saving_per_month_usd, 2)
        > 0
    )
    assert dev["next_transitions"] == [] and dev["schedule_saving_per_month_usd"] == 0


def test_human_plan_prints_the_timeline():
    result = CliRunner().invoke(app, ["plan", "staging", "--stacks-dir", str(STACKS)])
    assert result.exit_code == 0, result.output
    assert "24 h timeline" in result.output and "next transitions" in result.output
    assert "America/New_York" in result.output
