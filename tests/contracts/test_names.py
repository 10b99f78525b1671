"""Names that fit and stay unique: a spec name and window names at the spec's maximum (40 characters) give
physical names within every API's limit, shortened deterministically with a digest where needed, and the
downsizing / node-group schedules of one window stay distinct after shortening."""

from __future__ import annotations

import re
import shutil
from io import StringIO
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from llama_infra import naming
from llama_infra.plan import plan_stack, stack_names
from llama_infra.plan.engine import default_stacks_dir
from llama_infra.spec import SpecError, load_spec, parse_spec

STACKS = default_stacks_dir()
SPEC_NAME_MAX = 40  # ResourceName in llama_infra/spec/model.py: 3-40 characters


def test_fit_leaves_a_name_that_fits_alone_and_shortens_one_that_does_not_with_a_digest():
    assert naming.fit("llama-70b-prod-endpoint-config", 55) == "llama-70b-prod-endpoint-config"
    long = "a" * 50 + "-endpoint-config"
    short = naming.fit(long, 55)
    assert len(short) <= 55 and re.fullmatch("a+-[0-9a-f]{7}", short)
    assert naming.fit(long, 55) == short  # deterministic
    assert naming.fit("a" * 50 + "-endpoint-confih", 55) != short  # a difference anywhere stays a difference


def test_fit_keeps_the_end_that_tells_names_apart():
    day = naming.fit("e" * 40 + "-" + "w" * 40 + "-day", 64, keep="-day")
    night = naming.fit("e" * 40 + "-" + "w" * 40 + "-night", 64, keep="-night")
    assert day.endswith("-day") and night.endswith("-night") and len(day) <= 64 and len(night) <= 64
    assert day[: -len("-day")] != night[: -len("-night")]


def test_a_logical_name_is_shortened_only_as_far_as_the_tighter_limit_needs():
    # EndpointConfigName: 63 in the API (pulumi-aws would allow 255); the provider appends "-" + 7 hex
    assert naming.logical(naming.ENDPOINT_CONFIG, "x" * 55) == "x" * 55
    assert len(naming.logical(naming.ENDPOINT_CONFIG, "x" * 56)) == 55
    assert len(naming.logical(naming.ROLE, "r" * 80)) == 64 - 8


def _long_names(tmp: Path) -> Path:
    """A copy of stacks/ whose specs have 40-character names and 40-character window names."""
    (tmp / "specs").mkdir()
    shutil.copy(STACKS / "__main__.py", tmp / "__main__.py")
    for f in STACKS.glob("Pulumi.*.yaml"):
        shutil.copy(f, tmp / f.name)
    yaml = YAML()
    for f in (STACKS / "specs").glob("*.yaml"):
        doc = yaml.load(f.read_text())
        doc["name"] = (doc["name"] + "-" + "x" * SPEC_NAME_MAX)[: SPEC_NAME_MAX - 1] + "z"
        for i, window in enumerate(doc.get("schedules") or []):
            window["name"] = (window["name"] + "-" + "w" * SPEC_NAME_MAX)[: SPEC_NAME_MAX - 1] + str(i)
        with open(tmp / "specs" / f.name, "w") as out:
            yaml.dump(doc, out)
        spec = load_spec(tmp / "specs" / f.name)
        assert len(spec.name) == SPEC_NAME_MAX and all(len(w.name) == SPEC_NAME_MAX for w in spec.schedules)
    return tmp


@pytest.fixture(scope="module")
def long_stacks(tmp_path_factory) -> Path:
    return _long_names(tmp_path_factory.mktemp("long-names"))


@pytest.mark.parametrize("stack", stack_names(STACKS))
def test_every_example_plans_with_40_character_names_and_no_contract_violation(long_stacks: Path, stack: str):
    plan = plan_stack(stack, long_stacks, preview=False)  # PlanError (every violation) if a name does not fit
    schedules = [r.inputs["name"] for r in plan.resources if r.type == "aws:scheduler/schedule:Schedule"]
    assert len(schedules) == len(set(schedules))
    assert all(len(n) <= naming.SCHEDULE_NAME_MAX for n in schedules)


def test_downsizing_schedules_of_one_window_keep_their_direction_after_shortening(long_stacks: Path):
    plan = plan_stack("prod", long_stacks, preview=False)
    names = sorted(r.inputs["name"] for r in plan.resources if r.type == "aws:scheduler/schedule:Schedule")
    floors = [n for n in names if re.search(r"-floor-(\d\d-\d\d|weekend)$", n)]
    assert floors  # the predictive floor's schedules keep their step after shortening, too
    # before: both cut to one 64-char name; the endpoint's reconciler tick has its own
    assert sorted(n.rsplit("-", 1)[1] for n in names if n not in floors) == ["day", "night", "tick"]


@pytest.mark.parametrize("field", ["name", "window"])
def test_the_names_planned_above_are_the_longest_the_spec_allows(field: str):
    """The 40 characters the examples plan with are the spec's maximum: one more is a located spec error."""

    def spec_text(length: int) -> str:
        doc = YAML(typ="safe").load((STACKS / "specs" / "prod.yaml").read_text())
        target = doc if field == "name" else doc["schedules"][0]
        target["name"] = "n" * length
        out = StringIO()
        YAML(typ="safe").dump(doc, out)
        return out.getvalue()

    parse_spec(spec_text(SPEC_NAME_MAX), "long.yaml")
    with pytest.raises(SpecError) as refused:
        parse_spec(spec_text(SPEC_NAME_MAX + 1), "long.yaml")
    where = ("name",) if field == "name" else ("schedules", 0, "name")
    assert [issue.path for issue in refused.value.issues] == [where]
