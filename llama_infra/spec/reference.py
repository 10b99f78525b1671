"""The spec reference in Markdown, generated from the JSON Schema so the docs cannot drift from the code.

`llama-infra schema --markdown -o docs/spec-reference.md` writes it; a test fails when the committed file is stale.
"""

from __future__ import annotations

import json
from typing import Any

_REF = "#/$defs/"


def markdown_reference(schema: dict[str, Any]) -> str:
    """One section per mapping (top level first, then each nested one in the order it is first used)."""
    defs = schema.get("$defs", {})
    order = ["DeploymentSpec"]
    _collect(schema, defs, order)
    lines = [
        "# Deployment spec reference",
        "",
        "<!-- Generated from the JSON Schema by `llama-infra schema --markdown -o docs/spec-reference.md`. "
        "Do not edit by hand. -->",
        "",
        schema.get("description", ""),
        "",
        "Editors validate specs with the committed schema: put "
        "`# yaml-language-server: $schema=../../schema/deployment-spec.schema.json` on the first line. "
        "`llama-infra validate FILE...` checks the cross-field rules (fit, replicas, schedules, target) as well.",
        "",
        "Sections: " + ", ".join(f"[{_title(n)}](#{_anchor(n)})" for n in order),
    ]
    for name in order:
        node = schema if name == "DeploymentSpec" else defs[name]
        lines += ["", f"## {_title(name)}", ""]
        if name != "DeploymentSpec" and node.get("description"):
            lines += [node["description"], ""]
        lines += ["| field | type | required / default | description |", "|---|---|---|---|"]
        required = set(node.get("required", []))
        for field, prop in node.get("properties", {}).items():
            default = "**required**" if field in required else _default(prop)
            desc = prop.get("description", "") + _constraints(prop)
            lines.append(f"| `{field}` | {_type(prop)} | {default} | {_cell(desc)} |")
    return "\n".join(lines).rstrip() + "\n"


def _default(prop: dict[str, Any]) -> str:
    if "default" in prop:
        return f"`{json.dumps(prop['default'], ensure_ascii=False)}`"
    if "$ref" in prop:  # a nested mapping built from its own defaults
        return "its defaults"
    return {"array": "`[]`", "object": "`{}`"}.get(prop.get("type", ""), "see description")


def _title(name: str) -> str:
    return "Top level (DeploymentSpec)" if name == "DeploymentSpec" else name


def _anchor(name: str) -> str:
    return "top-level-deploymentspec" if name == "DeploymentSpec" else name.lower()


def _collect(node: Any, defs: dict[str, Any], order: list[str]) -> None:
    """Depth-first order of first use of each `$defs` entry."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith(_REF):
            name = ref[len(_REF) :]
            if name not in order:
                order.append(name)
                _collect(defs[name], defs, order)
        for key, value in node.items():
            if key != "$defs":
                _collect(value, defs, order)
    elif isinstance(node, list):
        for value in node:
            _collect(value, defs, order)


def _type(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        name = prop["$ref"][len(_REF) :]
        return f"[{name}](#{_anchor(name)})"
    if "anyOf" in prop:
        parts = [_type(p) for p in prop["anyOf"]]
        return " or ".join(parts)
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {_type(prop.get('items', {}))}"
    if kind == "object" and isinstance(prop.get("additionalProperties"), dict):
        return f"map of string → {_type(prop['additionalProperties'])}"
    return {
        "integer": "integer",
        "number": "number",
        "string": "string",
        "boolean": "boolean",
        "null": "null",
        "object": "mapping",
    }.get(kind, kind)


def _constraints(prop: dict[str, Any]) -> str:
    found: list[str] = []
    for p in [prop, *prop.get("anyOf", [])]:
        bounds = [
            f"{label} {p[key]}"
            for key, label in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<"))
            if key in p
        ]
        if bounds:
            found.append(" and ".join(bounds))
        if "minItems" in p or "maxItems" in p:
            lo, hi = p.get("minItems"), p.get("maxItems")
            found.append(
                f"exactly {lo} items"
                if lo == hi
                else (
                    f"{lo}–{hi} items"
                    if lo is not None and hi is not None
                    else (f"at least {lo} items" if lo is not None else f"at most {hi} items")
                )
            )
        if "minLength" in p and "maxLength" in p:
            found.append(f"{p['minLength']}–{p['maxLength']} characters")
        elif "minLength" in p or "maxLength" in p:
            found.append(
                f"at least {p['minLength']} characters" if "minLength" in p else f"at most {p['maxLength']} characters"
            )
        if "pattern" in p:
            found.append(f"pattern `{p['pattern']}`")
        items = p.get("items", {})
        item_bounds = [f"{label} {items[key]}" for key, label in (("minimum", "≥"), ("maximum", "≤")) if key in items]
        if item_bounds:
            found.append("each item " + " and ".join(item_bounds))
    return (" (" + "; ".join(found) + ")") if found else ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
