"""Load a spec from YAML, keeping line numbers, and turn every problem into a located `SpecError`."""

from __future__ import annotations

import difflib
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from llama_infra.spec.errors import Path, SpecError, SpecIssue, SpecRuleErrors, dotted
from llama_infra.spec.model import DeploymentSpec


def load_spec(path: str | FsPath) -> DeploymentSpec:
    """Parse and validate a spec file; raise SpecError listing every problem with its line."""
    path = FsPath(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise SpecError(str(path), [SpecIssue((), f"cannot read the file: {e.strerror}", "check the path")]) from None
    return parse_spec(text, str(path))


def parse_spec(text: str, source: str = "<spec>") -> DeploymentSpec:
    try:
        doc = YAML(typ="rt").load(text)
    except MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else None
        issue = SpecIssue((), f"not valid YAML: {e.problem}", "fix the YAML syntax at that line")
        raise SpecError(source, [issue], [line]) from None
    if not isinstance(doc, dict):
        raise SpecError(source, [SpecIssue((), "the spec must be a YAML mapping (name:, target:, model:, …)",
                                           "see examples in stacks/ or run `llama-infra schema`")])
    try:
        return DeploymentSpec.model_validate(_plain(doc))
    except ValidationError as e:
        issues = [_from_pydantic(err) for err in e.errors()]
    except SpecRuleErrors as e:
        issues = e.issues
    located = sorted(((_line_of(doc, i.path), i) for i in issues), key=lambda li: li[0] or 0)
    raise SpecError(source, [i for _, i in located], [line for line, _ in located]) from None


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _line_of(doc: Any, path: Path) -> int | None:
    """1-based line of the deepest part of `path` that exists in the document."""
    line: int | None = None
    node = doc
    for part in path:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    if line is None and isinstance(doc, CommentedMap):
        line = 1
    return line


def _model_at(path: Path) -> type[BaseModel] | None:
    """The pydantic model class that owns the mapping at `path` (for did-you-mean suggestions)."""
    model: Any = DeploymentSpec
    for part in path:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if field is None:
            return None
        model = _inner_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _from_pydantic(err: dict[str, Any]) -> SpecIssue:
    path: Path = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(path[-1])
        owner = _model_at(path[:-1])
        allowed = sorted(owner.model_fields) if owner else []
        close = difflib.get_close_matches(key, allowed, n=1)
        fix = f"did you mean '{close[0]}'?" if close else f"allowed here: {', '.join(allowed)}"
        return SpecIssue(path, f"unknown field '{key}'", fix)
    if kind == "missing":
        return SpecIssue(path, "required field is missing", f"add `{path[-1]}:` under {dotted(path[:-1])}")
    given = err.get("input")
    shown = f" (got {given!r})" if not isinstance(given, (dict, list)) else ""
    msg = err["msg"].replace("Input should be", "must be").replace("String should", "must")
    fixes = {
        "literal_error": "use one of the values listed",
        "string_pattern_mismatch": "see `llama-infra schema` for the allowed form",
    }
    fix = fixes.get(kind, "correct the value")
    owner = _model_at(path[:-1]) if path and isinstance(path[-1], str) else None
    described = owner.model_fields[path[-1]].description if owner and path[-1] in owner.model_fields else None
    if kind == "string_pattern_mismatch" and described:
        msg, fix = "does not have the required form", described
    if kind.startswith(("greater_than", "less_than")):
        fix = "use a value within the range"
    return SpecIssue(path, f"{msg}{shown}", fix)
