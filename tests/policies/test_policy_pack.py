"""Start `policies/__main__.py` as the Pulumi CLI does and ask it over gRPC what it enforces."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc

PACK_DIR = Path(__file__).resolve().parents[2] / "policies"
STARTUP_TIMEOUT_SECONDS = 30


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    # Like the CLI's policy plugin: run the pack directory; it prints its port and serves on 127.0.0.1.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    process = subprocess.Popen(
        [sys.executable, "-u", str(PACK_DIR)], cwd=PACK_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        line = b""
        while time.monotonic() < deadline and not line.strip():
            line = process.stdout.readline()
            if process.poll() is not None:
                break
        assert line.strip().isdigit(), f"pack did not start: {line!r} {process.stderr.read().decode()[-2000:]}"
        channel = grpc.insecure_channel(f"127.0.0.1:{int(line)}")
        grpc.channel_ready_future(channel).result(timeout=STARTUP_TIMEOUT_SECONDS)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.kill()
        process.wait(timeout=10)


def test_pack_serves_at_least_twenty_named_cited_rules(analyzer) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "llama-infra"
    names = [p.name for p in info.policies]
    assert len(names) >= 20
    assert len(names) == len(set(names)), "policy names must be unique"
    for policy in info.policies:
        assert policy.enforcementLevel in (proto.MANDATORY, proto.ADVISORY), policy.name
        assert policy.framework.name and policy.framework.reference, f"{policy.name} cites nothing"
        assert policy.url.startswith(("https://", "docs/")), policy.name
        assert policy.framework.reference in policy.description, policy.name
        assert policy.remediation_steps, policy.name
    levels = {p.enforcementLevel for p in info.policies}
    assert levels == {proto.MANDATORY, proto.ADVISORY}


def test_pack_reports_a_mandatory_violation_over_grpc(analyzer) -> None:
    props = struct_pb2.Struct()
    props.update({"metadataOptions": {"httpTokens": "optional"}})
    response = analyzer.Analyze(
        proto.AnalyzeRequest(
            type="aws:ec2/launchTemplate:LaunchTemplate",
            properties=props,
            urn="urn:pulumi:dev::llama-infra::aws:ec2/launchTemplate:LaunchTemplate::gpu",
            name="gpu",
        )
    )
    by_policy = {d.policyName: d for d in response.diagnostics}
    assert by_policy["launch-template-imdsv2"].enforcementLevel == proto.MANDATORY
    assert "IMDSv1" in by_policy["launch-template-imdsv2"].message


def test_docs_rule_table_matches_the_rules() -> None:
    from llama_infra_policies import ALL_RULES, docs

    document = (PACK_DIR.parent / "docs" / "policies.md").read_text()
    assert docs.with_table(document) == document, (
        "regenerate: .venv/bin/python -m llama_infra_policies.docs docs/policies.md"
    )
    for rule in ALL_RULES:
        assert f"`{rule.name}`" in document


def test_pack_project_files_point_at_the_repository_venv_and_this_checkout() -> None:
    import tomllib

    from ruamel.yaml import YAML

    project = YAML(typ="safe").load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert (PACK_DIR / project["runtime"]["options"]["virtualenv"]).resolve() == (PACK_DIR.parent / ".venv").resolve()
    requirements = [
        line for line in (PACK_DIR / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")
    ]
    assert requirements == ["-c ../constraints.txt", "..[policies]"]  # this checkout, at the tested versions
    assert tomllib.loads((PACK_DIR.parent / "pyproject.toml").read_text())["project"]["name"] == "llama-infra"


def _distribution(requirement: str) -> str:
    return re.split(r"[<>=\[ ]", requirement, maxsplit=1)[0].replace("_", "-").lower()


def test_what_the_pack_imports_is_what_its_requirements_install() -> None:
    """Every third-party module the pack's files import comes from llama-infra itself, its runtime dependencies or
    its `policies` extra, the two requirements.txt installs."""
    import ast
    import tomllib
    from importlib.metadata import packages_distributions

    project = tomllib.loads((PACK_DIR.parent / "pyproject.toml").read_text())["project"]
    installed = (
        {"llama-infra"}
        | {_distribution(r) for r in project["dependencies"]}
        | {_distribution(r) for r in project["optional-dependencies"]["policies"]}
    )
    modules = set()
    for source in PACK_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    by_module = packages_distributions()
    for module in sorted(modules - set(sys.stdlib_module_names)):
        dists = {d.replace("_", "-").lower() for d in by_module.get(module, [])}
        assert dists & installed, f"the pack imports {module} (from {dists}), which requirements.txt does not install"


def test_the_rules_are_installed_not_found_beside_the_pack(tmp_path) -> None:
    code = "import llama_infra_policies as p; print(p.__file__); print(len(p.ALL_RULES))"
    run = subprocess.run([sys.executable, "-I", "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    path, count = run.stdout.split()
    assert Path(path).resolve().is_relative_to(PACK_DIR) and int(count) > 30
