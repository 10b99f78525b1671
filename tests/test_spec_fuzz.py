"""No bad spec raises a traceback: random mutations of valid specs give a SpecError, or a spec that costs and plans.

Mutations act on the parsed document (delete a key, replace a value with a value of another type, add an unknown
key, empty a list) and on the raw text (delete or insert characters), so both the YAML layer and the validation
layers are exercised.
"""

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from llama_infra.spec import DeploymentSpec, SpecError, parse_spec
from llama_infra.targets import cost_report

ROOT = Path(__file__).resolve().parents[1]
VALID_SPECS = sorted((ROOT / "stacks" / "specs").glob("*.yaml")) + sorted(
    (ROOT / "tests/data/good-specs").glob("*.yaml")
)
TEXTS = [p.read_text() for p in VALID_SPECS]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "ml.g5.2xlarge",
            "g6e.xlarge",
            "hf://meta-llama/x",
            "0 22 * * *",
            "America/New_York",
            "spot",
            "eks",
            "sagemaker",
            "int4",
            "hf_abc",
            "aws:x",
            "1e309",
            "~",
        ]
    ),
)
values = st.one_of(scalars, st.lists(scalars, max_size=4), st.dictionaries(st.text(max_size=8), scalars, max_size=3))


def _paths(node, prefix=()):
    """Every (path) to a value in the document, containers included."""
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, prefix + (i,))
    return out


def _parent(doc, path):
    node = doc
    for part in path[:-1]:
        node = node[part]
    return node


@st.composite
def mutated_spec_texts(draw):
    text = draw(st.sampled_from(TEXTS))
    doc = YAML(typ="safe").load(text)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        path = draw(st.sampled_from(paths))
        parent = _parent(doc, path)
        op = draw(st.sampled_from(["delete", "replace", "add-key", "empty"]))
        if op == "delete":
            del parent[path[-1]]
        elif op == "replace":
            parent[path[-1]] = draw(values)
        elif op == "add-key" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(values)
        elif op == "empty":
            parent[path[-1]] = type(parent[path[-1]])() if isinstance(parent[path[-1]], (dict, list)) else None
    from io import StringIO

    buf = StringIO()
    YAML(typ="safe").dump(doc, buf)
    out = buf.getvalue()
    if draw(st.booleans()):  # damage the text itself: YAML syntax errors, odd indentation, stray characters
        at = draw(st.integers(0, len(out)))
        cut = draw(st.integers(0, 5))
        out = out[:at] + draw(st.text(alphabet="{}[]:,-'\"#&*!|> \n\tx0", max_size=4)) + out[at + cut :]
    return out


@settings(
    max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", 150)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(mutated_spec_texts())
def test_mutated_specs_give_a_spec_or_a_spec_error_never_another_exception(text):
    try:
        spec = parse_spec(text, "fuzz.yaml")
    except SpecError as e:
        rendered = str(e)
        assert rendered.startswith("fuzz.yaml: ") and e.issues
        assert all(i.problem for i in e.issues)
    else:  # a spec that validates must also cost and plan its week: "valid" means usable downstream
        report = cost_report(spec)
        assert report.cost_per_month_usd >= 0
        assert all(_hour_adds_up(spec, h) for h in report.week)


def _hour_adds_up(spec, hour):
    return 0 <= hour.replicas and hour.baseline_replicas + hour.burst_replicas == hour.replicas


def test_the_mutation_strategy_starts_from_valid_specs():
    for text in TEXTS:
        assert isinstance(parse_spec(text), DeploymentSpec)
