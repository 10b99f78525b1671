"""`llama-infra verify --target eks` end to end: a subprocess against a fake service and fake Kubernetes API.

The subprocess cannot share the fake cluster's clock, so its deadlines are generous (the run still ends as soon as
the replicas are back at the minimum): these tests check the command's wiring, its exit codes and its evidence; the
timing judgements run on the fake cluster's clock in test_verify_procedure.py.
"""

from __future__ import annotations

import asyncio
import sys

from typer.testing import CliRunner

from llama_infra.cli import app
from llama_infra.router.testing import FakeOpenAIBackend

RUN_CLI = "from llama_infra.cli import main; main()"
SCALED_DOWN = [
    "--concurrency",
    "8",
    "--load-seconds",
    "1.2",
    "--scale-up-within-seconds",
    "30",
    "--scale-down-within-seconds",
    "30",
    "--sample-interval-seconds",
    "0.05",
    "--request-timeout-seconds",
    "5",
]


async def verify_eks(server, hpa, tmp_path) -> tuple[int, str, str]:
    """`llama-infra verify --target eks` against the fake service and HPA, evidence to tmp_path/evidence."""
    hpa.kubeconfig(tmp_path / "kubeconfig")
    return await run_cli(
        "--target",
        "eks",
        "--url",
        server.url,
        "--model",
        "llama-70b",
        "--namespace",
        "serving",
        "--hpa",
        "llama",
        "--kubeconfig",
        str(tmp_path / "kubeconfig"),
        "--out",
        str(tmp_path / "evidence"),
        *SCALED_DOWN,
    )


async def run_cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RUN_CLI,
        "verify",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 80)
    return process.returncode, stdout.decode(), stderr.decode()


async def test_verify_command_passes_and_writes_the_evidence(tmp_path, fake_hpa):
    async with (
        FakeOpenAIBackend(model="llama-70b", latency_seconds=0.05, slots_per_replica=2).serve() as server,
        fake_hpa(server).serve() as hpa,
    ):
        code, stdout, stderr = await verify_eks(server, hpa, tmp_path)
    assert code == 0, stdout + stderr
    assert stdout.count("PASS  ") == 3
    report = (tmp_path / "evidence" / "report.md").read_text()
    assert report.startswith("# Autoscaling verification: PASS")
    assert "New size: 4" in report and "SuccessfulRescale" in report  # the HPA's own events are the evidence
    assert (tmp_path / "evidence" / "evidence.png").stat().st_size > 10_000
    assert server.received[0].body["model"] == "llama-70b"


async def test_verify_command_exits_1_when_the_hpa_is_late(tmp_path, fake_hpa):
    async with (
        FakeOpenAIBackend(model="llama-70b", latency_seconds=0.05, slots_per_replica=2).serve() as server,
        fake_hpa(server, decision_delay_seconds=600).serve() as hpa,  # never decides during the run
    ):
        code, stdout, _ = await verify_eks(server, hpa, tmp_path)
    assert code == 1
    assert "FAIL  replicas increase within 30 s of the load starting: desired replicas stayed at 1" in stdout


def test_verify_bad_input_is_a_message_not_a_traceback(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(app, ["verify", "--target", "eks", "--url", "http://127.0.0.1:9"])
    assert missing.exit_code == 2 and "--target eks needs --url (the service) and --hpa" in missing.output
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncontexts: []\n")
    no_context = runner.invoke(
        app,
        [
            "verify",
            "--target",
            "eks",
            "--url",
            "http://127.0.0.1:9",
            "--model",
            "m",
            "--hpa",
            "x",
            "--kubeconfig",
            str(kubeconfig),
        ],
    )
    assert no_context.exit_code == 2
    assert f"{kubeconfig}: no current-context; pass --context" in no_context.output
    no_model = runner.invoke(app, ["verify", "--target", "eks", "--url", "http://x", "--hpa", "x"])
    assert no_model.exit_code == 2 and "--model is required" in no_model.output
