"""The Automation API entry point: the inline program is the stacks program, and without a Pulumi CLI the user is
told what to install (this machine has no CLI; past that point the Automation API is Pulumi's own)."""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path

import pytest

from llama_infra import automation
from llama_infra.plan.record import run_plan
from llama_infra.spec import SpecError, load_spec

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "stacks" / "specs"


@pytest.mark.parametrize("name", ["dev", "prod-eks"])
@pytest.mark.parametrize("preview", [True, False])
def test_the_inline_program_registers_what_the_stacks_program_does(name, preview):
    spec_file = SPECS / f"{name}.yaml"
    spec = load_spec(spec_file)
    inline = run_plan(
        automation.inline_program(spec, f"specs/{name}.yaml"),
        project="llama-infra",
        stack=name,
        preview=preview,
        region=spec.region,
    )
    stacks = run_plan(
        lambda: runpy.run_path(str(REPO / "stacks" / "__main__.py"), run_name="__main__"),
        project="llama-infra",
        stack=name,
        preview=preview,
        region=spec.region,
        config={"llama-infra:spec": f"specs/{name}.yaml"},
    )
    assert sorted((r.type, r.name) for r in inline.resources) == sorted((r.type, r.name) for r in stacks.resources)
    assert inline.exports.keys() == stacks.exports.keys()


def test_without_a_pulumi_cli_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # whatever is installed, no `pulumi` on this PATH
    assert shutil.which("pulumi") is None
    with pytest.raises(automation.PulumiCliMissing, match="install the Pulumi CLI"):
        automation.preview(SPECS / "dev.yaml", backend_url=f"file://{tmp_path}")
    with pytest.raises(automation.PulumiCliMissing, match=str(tmp_path / "nowhere")):
        automation.up(SPECS / "dev.yaml", pulumi_root=str(tmp_path / "nowhere"))


def test_a_bad_spec_fails_before_any_pulumi_call(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    with pytest.raises(SpecError):
        automation.preview(bad)
