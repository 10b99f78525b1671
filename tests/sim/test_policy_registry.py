"""The simulator's policies are one registry: every entry is complete and builds its own class, every policy class
is registered, and the CLI offers, explains and accepts exactly the registered names."""

from __future__ import annotations

import inspect
import re

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from llama_infra.cli import app
from llama_infra.cli.simulate import parse_policies
from llama_infra.sim import policies
from llama_infra.sim.policy_registry import (
    FROM_REGISTRY,
    POLICIES,
    POLICY_NAMES,
    ROLES,
    make_policy,
    registered,
    role_of,
)


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_each_entry_has_one_line_of_help_a_role_and_builds_a_policy_of_its_name(name: str) -> None:
    entry = POLICIES[name]
    assert entry.help.strip() and "\n" not in entry.help and len(entry.help) <= 100, entry
    assert entry.role in ROLES
    policy = make_policy(name)
    assert isinstance(policy, policies.Policy) and type(policy).__name__ == entry.class_name
    assert policy.name == name
    assert make_policy(name) is not policy  # fresh state per run


def test_every_policy_class_is_registered_once() -> None:
    classes = {
        c.__name__
        for _, c in inspect.getmembers(policies, inspect.isclass)
        if issubclass(c, policies.Policy) and c is not policies.Policy and c.__module__ == policies.__name__
    }
    assert classes == {e.class_name for e in POLICIES.values()}
    assert len({e.class_name for e in POLICIES.values()}) == len(POLICIES)


def test_a_class_asking_the_registry_for_its_name_must_be_registered() -> None:
    class Unlisted(policies.Policy):
        pass

    with pytest.raises(LookupError, match="Unlisted is not registered: add a RegisteredPolicy"):
        Unlisted(FROM_REGISTRY, "", 1.0)
    assert Unlisted("ad-hoc", "", 1.0).name == "ad-hoc"  # a test's own policy names itself
    assert role_of("ad-hoc") is None


def test_the_report_has_one_spec_and_one_oracle_to_compare_against() -> None:
    roles = [e.role for e in POLICIES.values()]
    assert roles.count("spec") == 1 and roles.count("oracle") == 1 and "peer" in roles


def _simulate_help() -> str:
    result = CliRunner().invoke(app, ["simulate", "--help"], env={"COLUMNS": "240", "TERM": "dumb"})
    assert result.exit_code == 0, result.output
    return result.output


def test_the_cli_offers_and_explains_exactly_the_registered_names() -> None:
    command = get_command(app).commands["simulate"]  # type: ignore[attr-defined]
    option = next(p for p in command.params if p.name == "policies")
    offered = re.search(r"Comma-separated, of (.*) \(each described below\)", option.help).group(1).split(", ")
    assert offered == list(POLICY_NAMES)
    text = " ".join(_simulate_help().split())
    for entry in POLICIES.values():
        assert " ".join(f"{entry.name} ({entry.role}): {entry.help}".split()) in text, entry.name


def test_the_cli_accepts_registered_names_and_all_and_refuses_others() -> None:
    assert parse_policies("all") == POLICY_NAMES
    assert parse_policies(" oracle, spec ") == ("oracle", "spec")
    with pytest.raises(typer.BadParameter, match="unknown policy magic; choose from static-peak, "):
        parse_policies("spec,magic")
    with pytest.raises(ValueError, match="unknown policy 'magic'"):
        registered("magic")
