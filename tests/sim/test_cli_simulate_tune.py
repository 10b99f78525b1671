"""`llama-infra simulate` and `llama-infra tune` end to end (CliRunner)."""

import json

from typer.testing import CliRunner

from llama_infra.cli import app

SPEC = "tests/data/sim/eks-8b-spot.yaml"
SLICE = "tests/data/traces/azure_code_first_10min.csv"


def test_simulate_json_and_plots(tmp_path):
    r = CliRunner().invoke(app, ["simulate", SPEC, "--trace", SLICE, "--window", "0:5m", "--json",
                                 "--out", str(tmp_path), "--policies", "spec,oracle"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert [p["policy"] for p in data["policies"]] == ["spec", "oracle"]
    assert data["workload"].endswith("window 0s–5m")
    assert {"ttft_p99_ms", "slo_attainment", "ratio_to_oracle", "replica_hours", "interruptions", "dropped",
            "tokens_per_s_per_user_p5", "cost_per_1k_requests_usd"} <= set(data["policies"][0])
    for png in ("replicas_over_time.png", "ttft_cdf.png", "cost_breakdown.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "results.json").read_text())["spec"] == "sim-eks-8b"


def test_simulate_table_on_synthetic_workload():
    r = CliRunner().invoke(app, ["simulate", SPEC, "--trace", SLICE, "--rate-profile", "shared", "--peak-rps", "1",
                                 "--days", "0.05", "--policies", "static-peak,skyserve-qps"])
    assert r.exit_code == 0, r.output
    assert "synthetic Poisson arrivals" in r.output and "skyserve-qps" in r.output


def test_bad_trace_is_a_clean_error():
    r = CliRunner().invoke(app, ["simulate", SPEC, "--trace", "tests/data/traces/negative-tokens.csv"])
    assert r.exit_code == 1
    assert "negative-tokens.csv, line 3, column GeneratedTokens: negative token count -3" in r.output
    assert "Traceback" not in r.output


def test_unknown_policy_is_a_clean_error():
    r = CliRunner().invoke(app, ["simulate", SPEC, "--trace", SLICE, "--policies", "spec,magic"])
    assert r.exit_code == 2 and "unknown policy magic" in r.output


def test_tune_prints_a_yaml_diff_of_the_spec():
    r = CliRunner().invoke(app, ["tune", SPEC, "--trace", SLICE, "--window", "0:5m", "--passes", "1"])
    assert r.exit_code == 0, r.output
    assert "simulations. As written:" in r.output
    if "No change recommended." not in r.output:
        assert f"--- {SPEC}" in r.output and f"+++ {SPEC} (recommended)" in r.output
        assert any(line.startswith("+") and ":" in line for line in r.output.splitlines()[2:])
