"""Reading untrusted spec files: bounded size, depth and aliases, UTF-8 only (with a conversion that works), and
window times that a daylight-saving change skips or repeats.

The loader's messages for these are in the bad-spec corpus (`encoding-*`, `alias-bomb`, `nesting-too-deep`,
`window-ends-in-dst-gap`, …); here: the fixes they give work, the limits hold for inputs too big for the corpus,
and Hypothesis feeds the loader raw bytes.
"""

import codecs
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llama_infra.schedules import (
    Cron,
    distinct_local_time_anomalies,
    dst_check_years,
    local_time_anomalies,
    offset_changes,
)
from llama_infra.spec import DeploymentSpec, SpecError, load_spec, parse_spec, warnings
from llama_infra.spec.intake import MAX_SPEC_BYTES

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "bad-specs"
DEV = (ROOT / "stacks" / "specs" / "dev.yaml").read_text()


@pytest.mark.parametrize("case", ["encoding-utf16", "encoding-latin1"])
def test_the_encoding_fix_is_a_command_that_makes_the_spec_valid(case, tmp_path, monkeypatch):
    shutil.copy(CORPUS / f"{case}.yaml", tmp_path / "spec.yaml")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError) as caught:
        load_spec("spec.yaml")
    (issue,) = caught.value.issues
    command = issue.fix.removeprefix("convert it: ")
    assert command != issue.fix and command.startswith("iconv -f ")
    subprocess.run(command, shell=True, check=True)  # exactly what the user is told to run
    spec = load_spec("spec.yaml")
    assert spec.tags["team"] == "recherche-appliquée"


def test_a_multi_megabyte_file_is_refused_after_reading_at_most_the_limit(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text(DEV + "# " + "x" * (5 * 1024 * 1024) + "\n")
    with pytest.raises(SpecError) as caught:
        load_spec(big)
    assert "larger than 256 KiB" in str(caught.value)
    with pytest.raises(SpecError):  # a device that never ends is read only up to the limit
        load_spec("/dev/zero")


def test_parse_spec_bounds_text_it_is_given_directly():
    with pytest.raises(SpecError) as caught:
        parse_spec(DEV + "#" + "é" * MAX_SPEC_BYTES)
    assert "larger than 256 KiB" in str(caught.value)


@pytest.mark.parametrize(
    "nesting", ["[" * 100_000, "[a, " * 50_000, "{a: " * 30_000, "\n" + "".join(" " * i + "- \n" for i in range(600))]
)
def test_nesting_beyond_the_limit_is_refused_at_the_limit(nesting):
    """Flow nesting is refused by the scanner itself (a line of '[' otherwise costs it seconds), block nesting by
    the event walk; either way before anything recursive runs."""
    with pytest.raises(SpecError) as caught:
        parse_spec(DEV + "tags: " + nesting)
    assert "nests more than 32 mappings or lists deep" in str(caught.value)


def _refusal(text: str):
    with pytest.raises(SpecError) as caught:
        parse_spec(text)
    (issue,) = caught.value.issues
    (line,) = caught.value.lines
    return issue, line


def test_a_size_refusal_names_the_line_and_field_where_the_limit_is_crossed():
    head = DEV + "tags:\n  team: llama\n  notes: "
    issue, line = _refusal(head + "x" * MAX_SPEC_BYTES + "\n")
    assert (issue.path, line) == (("tags", "notes"), head.count("\n") + 1)
    assert "larger than 256 KiB, the most llama-infra reads (line" in issue.problem


def test_block_nesting_beyond_the_limit_names_the_field_path_of_the_deepest_list():
    text = DEV + "tags:\n  team:\n" + "".join("  " * (i + 2) + "-\n" for i in range(40))
    issue, line = _refusal(text)
    # tags and team are 2 levels, so the 31st list (index 30 of the nested [0]s) is the 33rd collection
    assert issue.path == ("tags", "team", *[0] * 30) and line == DEV.count("\n") + 2 + 31


def test_an_alias_beyond_the_limit_is_located_at_that_alias():
    text = DEV + "x-anchors: {a: &a 1}\nx-refs:\n" + "".join(f"  r{i}: *a\n" for i in range(101))
    issue, line = _refusal(text)
    assert issue.path == ("x-refs", "r100") and line == DEV.count("\n") + 2 + 101
    assert issue.problem == "alias number 101 (*name): the YAML may have at most 100"


def test_too_many_values_without_aliases_is_not_blamed_on_aliases():
    text = DEV + "x-generated:\n" + "".join(f"  - {i}\n" for i in range(20_001))
    issue, line = _refusal(text)
    # a collection counts itself and its values: the list passes 20,000 at its 20,000th item (index 19,999)
    assert issue.path == ("x-generated", 19_999) and line == DEV.count("\n") + 2 + 19_999
    assert issue.problem == "the YAML has more than 20,000 values (a spec has about 60)"
    assert "alias" not in issue.problem + issue.fix


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(codecs.BOM_UTF8 + DEV.encode())
    assert load_spec(path).name == "llama-8b-dev"


def test_a_few_ordinary_aliases_still_work():
    text = DEV + (
        "schedules:\n"
        "  - {name: weeknight, start: '0 22 * * 1-5', end: '0 6 * * 2-6', downsize: &small {min_replicas: 1}}\n"
        "  - {name: weekend, start: '0 22 * * 6', end: '0 6 * * 1', downsize: *small}\n"
    )
    spec = parse_spec(text.replace("count: 1", "count: 2"))
    assert spec.schedules[1].downsize == spec.schedules[0].downsize


def test_strict_types_accept_whole_numbers_for_number_fields():
    spec = parse_spec(DEV.replace("params_b: 8", "params_b: 8"))  # an int where a float is wanted
    assert spec.model.params_b == 8.0 and isinstance(spec.capacity.baseline.count, int)


# --- daylight saving --------------------------------------------------------------------------------------------


def test_local_time_anomalies_find_the_spring_gap_and_the_autumn_fold():
    (gap,) = local_time_anomalies(Cron("30 2 * * *", "America/New_York"))
    assert (gap.kind, gap.local, gap.span) == (
        "gap",
        datetime(2026, 3, 8, 2, 30),
        (datetime(2026, 3, 8, 2), datetime(2026, 3, 8, 3)),
    )
    (fold,) = local_time_anomalies(Cron("30 1 * * *", "America/New_York"))
    assert (fold.kind, fold.local) == ("fold", datetime(2026, 11, 1, 1, 30))
    assert fold.span[1] - fold.span[0] == timedelta(hours=1)
    assert local_time_anomalies(Cron("30 2 * * *", "UTC")) == []
    assert local_time_anomalies(Cron("0 22 * * *", "America/New_York")) == []
    assert local_time_anomalies(Cron("30 2 * * 1-5", "Europe/Berlin")) == []  # EU changes on Sundays
    (half,) = local_time_anomalies(Cron("15 2 * * *", "Australia/Lord_Howe"))  # a 30-minute change
    assert half.kind == "gap" and half.change == "clocks go forward 30 min"


def test_the_dst_check_scans_the_coming_decade_not_one_year():
    """14 March is the second Sunday of March, New York's spring change, in 2027 (and 2032), not in 2026."""
    cron = Cron("30 2 14 3 *", "America/New_York")
    assert local_time_anomalies(cron, 2026) == []
    years = dst_check_years(2026)
    assert years[0] == 2026 and years[-1] >= datetime.now(UTC).year + 10
    (gap,) = distinct_local_time_anomalies(cron, years)  # 2032's is the same kind: reported once
    assert (gap.kind, gap.local) == ("gap", datetime(2027, 3, 14, 2, 30))
    changes = offset_changes(Cron("0 0 * * *", "America/New_York").tz, 2027)
    assert [c.wall for c in changes] == [datetime(2027, 3, 14, 2), datetime(2027, 11, 7, 2)]


def _with_window(start: str, end: str, timezone: str = "America/New_York") -> str:
    return DEV.replace("count: 1", "count: 2") + (
        f"schedules:\n  - {{name: night, timezone: {timezone}, start: '{start}', end: '{end}', "
        "downsize: {min_replicas: 1}}\n"
    )


def test_a_start_in_the_gap_or_a_time_in_the_fold_is_a_warning_that_says_what_happens():
    spec = parse_spec(_with_window("30 2 * * *", "0 7 * * *"))
    (w,) = [w for w in warnings(spec) if w.path == ("schedules", 0, "start")]
    assert w.severity == "warning" and "does not exist on Sun 8 Mar 2026" in w.problem
    assert "that day the window does not start and the day configuration serves on" in w.problem
    assert w.fix == "start the window at 03:00 or later, or before 02:00 so that it runs that day too"
    spec = parse_spec(_with_window("0 22 * * *", "30 1 * * *"))
    (w,) = [w for w in warnings(spec) if w.path == ("schedules", 0, "end")]
    assert "occurs twice on Sun 1 Nov 2026" in w.problem and "fires it once, at the first 01:30" in w.problem


def test_following_the_dst_fixes_gives_a_spec_without_the_problem():
    fixed = parse_spec(_with_window("0 3 * * *", "0 7 * * *"))  # "start at 03:00 or later"
    assert not [w for w in warnings(fixed) if w.path[:2] == ("schedules", 0)]
    with pytest.raises(SpecError):
        parse_spec(_with_window("0 22 * * *", "30 2 * * *"))
    assert isinstance(parse_spec(_with_window("0 22 * * *", "0 3 * * *")), DeploymentSpec)  # "end at 03:00"


# --- fuzzing raw bytes ------------------------------------------------------------------------------------------

SPEC_BYTES = [p.read_bytes() for p in sorted((ROOT / "stacks" / "specs").glob("*.yaml"))]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252", "shift_jis"]


@st.composite
def damaged_bytes(draw):
    if draw(st.booleans()):
        return draw(st.binary(max_size=4096))
    raw = draw(st.sampled_from(SPEC_BYTES))
    if draw(st.booleans()):  # the same text in another encoding, with a non-ASCII character somewhere
        text = raw.decode()
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["é", "ü", "ß", "日本", "\u00a0", "\ufeff", ""])) + text[at:]
        raw = text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
    for _ in range(draw(st.integers(0, 4))):  # overwrite, insert or delete bytes
        at = draw(st.integers(0, len(raw)))
        junk = draw(st.binary(min_size=1, max_size=8))
        raw = raw[:at] + junk + raw[at + draw(st.integers(0, 8)) :]
    return raw


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 200)),
    deadline=timedelta(seconds=10),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(damaged_bytes())
def test_raw_bytes_give_a_spec_or_a_located_spec_error_never_another_exception(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("raw") / "fuzz.yaml"
    path.write_bytes(raw)
    try:
        spec = load_spec(path)
    except SpecError as e:
        assert e.issues and all(i.problem and i.fix for i in e.issues), str(e)
        assert str(e).startswith(f"{path}: ")
    else:
        assert isinstance(spec, DeploymentSpec)


def test_the_dst_messages_name_what_fires_the_window_on_each_target():
    sagemaker = parse_spec(_with_window("30 2 * * *", "0 7 * * *"))
    (w,) = [w for w in warnings(sagemaker) if w.path == ("schedules", 0, "start")]
    assert "EventBridge Scheduler skips it" in w.problem
    eks_text = (ROOT / "stacks" / "specs" / "dev-eks.yaml").read_text()
    assert 'start: "0 20 * * 1-5"' in eks_text
    eks_text = eks_text.replace('start: "0 20 * * 1-5"', 'start: "30 2 * * *"')  # Berlin skips 02:00–03:00 in March
    eks = parse_spec(eks_text, "dev-eks-window.yaml")
    (w,) = [w for w in warnings(eks) if w.path == ("schedules", 0, "start") and "does not exist" in w.problem]
    assert "EventBridge Scheduler and KEDA's cron skip it" in w.problem
