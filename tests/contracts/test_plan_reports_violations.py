"""`llama-infra plan` fails a stack whose resources AWS would reject, with a located, readable message (spec file,
stack, resource, field, limit, value, fix) and exit 1 — not a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from llama_infra.cli import app

ROOT = Path(__file__).resolve().parents[2]
# A program that registers what the EKS stacks used to: an EventTarget autonamed past EventBridge's 64 characters.
PROGRAM = """
import pulumi_aws as aws
rule = aws.cloudwatch.EventRule("interruption", event_pattern='{"source": ["aws.ec2"]}')
aws.cloudwatch.EventTarget("llama-8b-dev-eks-capacity-interruption-spot-interruption-target", rule=rule.name,
                           arn="arn:aws:sqs:us-east-1:123456789012:queue")
"""


def test_plan_reports_every_violation_with_file_resource_field_limit_and_value(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    shutil.copy(ROOT / "stacks" / "specs" / "dev.yaml", tmp_path / "specs" / "dev.yaml")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  llama-infra:spec: specs/dev.yaml\n")
    (tmp_path / "__main__.py").write_text(PROGRAM)

    result = CliRunner().invoke(app, ["plan", "dev", "--stacks-dir", str(tmp_path)])

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "specs/dev.yaml: stack dev: 1 contract violation (inputs the cloud APIs would reject at `pulumi up`)"
    )
    assert lines[1].startswith(
        "  aws:cloudwatch/eventTarget:EventTarget "
        "'llama-8b-dev-eks-capacity-interruption-spot-interruption-target': targetId: at most "
        "64 characters (autonamed by the provider); value 'llama-8b-dev-eks-capacity-"
    )
    assert lines[1].endswith("' (71 characters) (botocore events PutTargets: Target.Id)")
    assert lines[2].startswith("    fix: give the resource an explicit name that fits")
