"""docs/spec-reference.md is generated from the JSON Schema; this fails when it is stale or drops a field."""

import re
from pathlib import Path

from typer.testing import CliRunner

from llama_infra.cli import app
from llama_infra.spec import json_schema
from llama_infra.spec.reference import markdown_reference

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "spec-reference.md"


def test_committed_spec_reference_is_current():
    assert DOC.read_text(encoding="utf-8") == markdown_reference(json_schema()), (
        "docs/spec-reference.md is stale: run `llama-infra schema --markdown -o docs/spec-reference.md`"
    )


def test_schema_markdown_command_prints_the_reference():
    result = CliRunner().invoke(app, ["schema", "--markdown"])
    assert result.exit_code == 0
    assert result.stdout == markdown_reference(json_schema())


def test_every_field_of_every_mapping_is_documented_in_its_section():
    schema = json_schema()
    text = markdown_reference(schema)
    sections = dict(re.findall(r"^## (.+?)\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M))
    mappings = {"Top level (DeploymentSpec)": schema, **schema["$defs"]}
    assert set(sections) == set(mappings)
    for title, node in mappings.items():
        rows = re.findall(r"^\| `([^`]+)` \|", sections[title], flags=re.M)
        assert rows == list(node["properties"]), title
        for field in node.get("required", []):
            assert re.search(rf"^\| `{field}` \| .* \| \*\*required\*\* \|", sections[title], flags=re.M)


def test_links_point_at_sections_that_exist():
    text = markdown_reference(json_schema())
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in re.findall(r"^## (.+)$", text, re.M)}
    assert set(re.findall(r"\]\(#([^)]+)\)", text)) <= anchors
