"""What each workflow promises: previews per environment with the policy pack, OIDC only, gated prod deploys."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
GITHUB = ROOT / ".github"


def load(path: Path) -> dict[str, Any]:
    return YAML(typ="safe").load(path.read_text())


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).split("@")[0] == action]


def pinned_pulumi_sdk() -> str:
    pins = (ROOT / "constraints.txt").read_text().splitlines()
    return next(line.split("==")[1] for line in pins if line.startswith("pulumi=="))


def test_preview_runs_pulumi_preview_per_environment_with_the_policy_pack() -> None:
    workflow = load(GITHUB / "workflows" / "preview.yml")
    assert "pull_request" in workflow["on"]
    job = workflow["jobs"]["preview"]
    assert job["strategy"]["matrix"]["environment"] == ["dev", "dev-eks", "staging", "prod", "prod-eks"]
    assert job["permissions"]["id-token"] == "write"
    assert job["permissions"]["pull-requests"] == "write"
    [pulumi] = steps_using(job, "pulumi/actions")
    assert re.fullmatch(r"pulumi/actions@v\d+", pulumi["uses"])
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["diff"] is True and pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["policyPacks"].endswith("/policies")
    assert "matrix.environment" in pulumi["with"]["stack-name"]
    assert pulumi["with"]["pulumi-version"] == pinned_pulumi_sdk()


def test_forks_get_the_offline_diff_instead_of_credentials() -> None:
    workflow = load(GITHUB / "workflows" / "preview.yml")
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    assert workflow["jobs"]["preview"]["if"] == same_repo
    fork = workflow["jobs"]["offline-diff"]
    assert fork["if"] == same_repo.replace("==", "!=")
    assert fork["permissions"] == {"contents": "read"}
    assert not steps_using(fork, "aws-actions/configure-aws-credentials")
    assert any("offline-diff.sh" in str(s.get("run", "")) for s in fork["steps"])
    comment = load(GITHUB / "workflows" / "offline-diff-comment.yml")
    assert comment["on"]["workflow_run"]["workflows"] == [workflow["name"]]
    assert "gh pr comment" in comment["jobs"]["comment"]["steps"][-1]["run"]


def test_deploy_goes_dev_and_dev_eks_then_staging_then_both_prods_behind_an_environment() -> None:
    deploy = load(GITHUB / "workflows" / "deploy.yml")
    assert deploy["on"]["push"]["branches"] == ["main"]
    jobs = deploy["jobs"]
    environments = ["dev", "dev-eks", "staging", "prod", "prod-eks"]
    assert [jobs[j]["with"]["environment"] for j in environments] == environments
    assert "needs" not in jobs["dev"] and "needs" not in jobs["dev-eks"]
    assert jobs["staging"]["needs"] == ["dev", "dev-eks"]
    assert jobs["prod"]["needs"] == "staging" and jobs["prod-eks"]["needs"] == "staging"
    assert all(jobs[j]["permissions"]["id-token"] == "write" for j in jobs)
    up = load(GITHUB / "workflows" / "pulumi-up.yml")["jobs"]["up"]
    assert up["environment"] == "${{ inputs.environment }}"  # `prod` carries the required reviewers
    [pulumi] = steps_using(up, "pulumi/actions")
    assert pulumi["with"]["command"] == "up"
    assert pulumi["with"]["policyPacks"].endswith("/policies")
    assert pulumi["with"]["pulumi-version"] == pinned_pulumi_sdk()


def test_every_stack_is_previewed_and_deployed_and_nothing_else() -> None:
    stacks = {p.name[len("Pulumi.") : -len(".yaml")] for p in (ROOT / "stacks").glob("Pulumi.*.yaml")}
    previewed = load(GITHUB / "workflows" / "preview.yml")["jobs"]["preview"]["strategy"]["matrix"]["environment"]
    deployed = [job["with"]["environment"] for job in load(GITHUB / "workflows" / "deploy.yml")["jobs"].values()]
    assert set(previewed) == stacks and set(deployed) == stacks, stacks


def test_aws_access_is_oidc_role_assumption_only() -> None:
    files = sorted(GITHUB.rglob("*.yml"))
    for path in files:
        text = path.read_text()
        assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text, path
    for name in ("preview.yml", "pulumi-up.yml"):
        jobs = load(GITHUB / "workflows" / name)["jobs"]
        assumed = [s for job in jobs.values() for s in steps_using(job, "aws-actions/configure-aws-credentials")]
        assert assumed, name
        assert all(s["with"]["role-to-assume"].startswith("${{ vars.") for s in assumed), name


def test_ci_runs_the_readme_test_command() -> None:
    ci = load(GITHUB / "workflows" / "ci.yml")
    assert [s["run"] for s in ci["jobs"]["test"]["steps"] if "run" in s] == [".ci/run"]
