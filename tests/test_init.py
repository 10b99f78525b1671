"""`llama-infra init`: a new directory that validates and plans as it is, or nothing at all."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from llama_infra.cli import app
from llama_infra.plan import plan_stacks
from llama_infra.plan.engine import find_stacks_dir
from llama_infra.spec import load_spec


def init(*argv: str):
    return CliRunner().invoke(app, ["init", *argv], catch_exceptions=False)


@pytest.mark.parametrize("target", ["sagemaker", "eks"])
@pytest.mark.parametrize("model", ["8b", "70b"])
def test_every_scaffold_validates_with_the_chosen_target_model_and_region(tmp_path, target, model):
    project = tmp_path / "svc"
    result = init(str(project), "--target", target, "--model", model, "--region", "eu-west-1")
    assert result.exit_code == 0, result.output
    spec = load_spec(project / "specs" / "dev.yaml")
    assert (spec.target, spec.region, spec.model.params_b) == (target, "eu-west-1", int(model[:-1]))
    assert find_stacks_dir(project) == project  # `llama-infra plan` run inside it plans its stack
    assert f"cd {project}" in result.output and "llama-infra plan" in result.output


@pytest.mark.parametrize("target", ["sagemaker", "eks"])
def test_a_scaffold_plans_like_any_stack(tmp_path, target):
    project = tmp_path / "svc"
    assert init(str(project), "--target", target, "--environment", "staging").exit_code == 0
    [plan] = plan_stacks(stacks_dir=project)
    assert plan.stack == "staging" and plan.target == target and plan.environment == "staging"
    assert len(plan.resources) > 5 and plan.cost["cost_per_month_usd"] > 0


def test_an_existing_directory_is_left_alone(tmp_path):
    (tmp_path / "svc").mkdir()
    result = init(str(tmp_path / "svc"))
    assert result.exit_code == 1 and "already exists" in result.output
    assert list((tmp_path / "svc").iterdir()) == []


def test_options_that_make_an_invalid_spec_write_nothing(tmp_path):
    result = init(str(tmp_path / "svc"), "--region", "mars-1")
    assert result.exit_code == 1
    assert "region" in result.output and "nothing was written" in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_choice_is_refused_before_anything_is_written(tmp_path):
    result = init(str(tmp_path / "svc"), "--model", "13b")
    assert result.exit_code == 2 and "--model: '13b' is not one of 8b, 70b" in result.output
    assert list(tmp_path.iterdir()) == []
