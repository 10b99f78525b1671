"""Load a spec from YAML, keeping line numbers, and turn every problem into a located `SpecError`."""

from __future__ import annotations

import difflib
import re
from datetime import date, datetime
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from llama_infra.spec import intake
from llama_infra.spec.errors import Path, SpecError, SpecIssue, SpecRuleErrors, dotted
from llama_infra.spec.model import DeploymentSpec
from llama_infra.spec.secrets import secret_lines

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails  # the shape of pydantic's ValidationError.errors()


def load_spec(path: str | FsPath) -> DeploymentSpec:
    """Parse and validate a spec file; raise SpecError listing every problem with its line."""
    source = str(path)
    return parse_spec(intake.decode(intake.read_bounded(source, source), source), source, spec_dir=FsPath(path).parent)


def parse_spec(text: str, source: str = "<spec>", spec_dir: str | FsPath | None = None) -> DeploymentSpec:
    """Parse and validate spec YAML text; `source` names it in errors, `spec_dir` is the folder relative paths in
    it (load.request_sizes.trace) start from (default: the working directory). Raises SpecError listing every
    problem."""
    intake.check_text(text, source)
    try:
        intake.check_structure(text, source)  # bounded depth and aliases before anything recursive runs
        doc = YAML(typ="rt").load(text)
    except MarkedYAMLError as e:
        raise SpecError(source, [_yaml_issue(e)], [e.problem_mark.line + 1 if e.problem_mark else None]) from None
    except ReaderError as e:  # a control character YAML does not allow in a text
        line = text.count("\n", 0, e.position) + 1 if isinstance(e.position, int) else None
        raise SpecError(
            source,
            [
                SpecIssue(
                    (),
                    f"not valid YAML: character U+{e.character:04X} is not allowed in a YAML file",
                    "delete it (control characters other than tab and newline cannot appear, even inside quotes)",
                )
            ],
            [line],
        ) from None
    except YAMLError as e:
        raise SpecError(source, [SpecIssue((), f"not valid YAML: {e}", "fix the YAML syntax")]) from None
    if not isinstance(doc, dict):
        found = "the file is empty" if doc is None else f"the file holds {_yaml_kind(doc)}, not a mapping"
        raise SpecError(
            source,
            [
                SpecIssue(
                    (),
                    f"a spec is a YAML mapping (name:, target:, model:, capacity:, …); {found}",
                    "start from an example in stacks/specs/, or see `llama-infra schema` (docs/spec-reference.md)",
                )
            ],
        )
    issues: list[SpecIssue] = []
    try:
        spec = DeploymentSpec.model_validate(_plain(doc), context={"spec_dir": spec_dir})
    except ValidationError as e:
        issues = [_from_pydantic(err) for err in e.errors()]
    except SpecRuleErrors as e:
        issues = e.issues
    located = [(_line_of(doc, i.path), i) for i in issues]
    # A credential anywhere else in the file (a comment, a key) is leaked just the same once the spec is pushed.
    flagged = {line for line, _ in located}
    located += [
        (
            n,
            SpecIssue(
                (),
                f"line {n} holds {kind.name} (outside any field, e.g. in a comment); a spec is "
                "committed to git, so it is leaked",
                "revoke it and delete it from the file (and from git history)",
            ),
        )
        for n, kind in secret_lines(text)
        if n not in flagged
    ]
    if not located:
        return spec
    located.sort(key=lambda li: li[0] or 0)
    raise SpecError(source, [i for _, i in located], [line for line, _ in located]) from None


def _yaml_issue(e: MarkedYAMLError) -> SpecIssue:
    if isinstance(e, DuplicateKeyError):
        return SpecIssue((), f"not valid YAML: {e.problem}", "remove one of the two keys (a mapping has each key once)")
    problem = f"not valid YAML: {e.problem}"
    if e.context and e.context_mark and e.problem_mark and e.context_mark.line != e.problem_mark.line:
        problem += f" ({e.context} that starts at line {e.context_mark.line + 1})"
        if "flow" in e.context:
            opener, closer = ("{", "}") if "mapping" in e.context else ("[", "]")
            return SpecIssue(
                (),
                problem,
                f"close the '{opener}' opened at line {e.context_mark.line + 1} with '{closer}' before this line",
            )
    return SpecIssue((), problem, "fix the YAML syntax at that line (an unclosed bracket or quote is the usual cause)")


def _yaml_kind(node: Any) -> str:
    if isinstance(node, list):
        return "a list"
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return f"the number {node}"
    return f"the {type(node).__name__ if not isinstance(node, str) else 'text'} {str(node)[:40]!r}"


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
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


# Fix sentences for type errors: say what to write instead.
_TYPE_FIXES = {
    "float_parsing": "write a number, e.g. 70 or 0.5",
    "float_type": "write a number, e.g. 70 or 0.5",
    "int_parsing": "write a whole number, e.g. 2",
    "int_type": "write a whole number, e.g. 2",
    "int_from_float": "write a whole number, e.g. 2",
    "bool_parsing": "write true or false",
    "bool_type": "write true or false",
    "string_type": 'write text; quote it ("...") so YAML does not read it as a number, date or boolean',
    "list_type": "write a list: `[a, b]` or one `- item` per line",
    "dict_type": "write a mapping: `{key: value}` or indented `key: value` lines",
    "model_type": "write a mapping: `{key: value}` or indented `key: value` lines",
    "model_attributes_type": "write a mapping: `{key: value}` or indented `key: value` lines",
    "literal_error": "use one of the values listed",
    "finite_number": "write a finite number (not .inf or .nan)",
}


def _from_pydantic(err: ErrorDetails) -> SpecIssue:
    path: Path = tuple(err["loc"])
    kind = err["type"]
    owner = _model_at(path[:-1]) if path and isinstance(path[-1], str) else None
    field = owner.model_fields.get(str(path[-1])) if owner else None
    if kind == "extra_forbidden":
        key = str(path[-1])
        allowed = sorted(owner.model_fields) if owner else []
        close = difflib.get_close_matches(key, allowed, n=1)
        fix = f"did you mean '{close[0]}'?" if close else f"allowed here: {', '.join(allowed)}"
        return SpecIssue(path, f"unknown field '{key}'", fix)
    if kind == "missing":
        where = f"under `{dotted(path[:-1])}:`" if path[:-1] else "at the top level"
        what = f" ({field.description.rstrip('.')})" if field and field.description else ""
        annotation = field.annotation if field else None
        choices = [a for a in get_args(annotation) if isinstance(a, str)]
        value = f" {'|'.join(choices)}" if choices and get_origin(annotation) is Literal else ""
        return SpecIssue(path, "required field is missing", f"add `{path[-1]}:{value}` {where}{what}")
    given = err.get("input")
    shown = f" (got {_shown(given)})" if not isinstance(given, (dict, list)) else ""
    msg = err["msg"].replace("Input should be", "must be").replace("String should", "must")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        msg = "must be a mapping"
    fix = _TYPE_FIXES.get(kind, "correct the value")
    if kind in _STRICT_KINDS:
        what = _STRICT_KINDS[kind]
        meant = _unquoted(kind, given) if isinstance(given, str) else None
        if isinstance(given, str):
            msg, shown = f"must be {what}, not the text {given!r}", ""
        else:
            msg = f"must be {what}"
        if meant is not None:
            msg += ": YAML reads a quoted value as text, and llama-infra does not convert it"
            fix = f"write {path[-1]}: {meant} without quotes"
        elif kind == "int_type" and isinstance(given, float) and given.is_integer():
            fix = f"write {path[-1]}: {int(given)}"
    if kind == "string_type" and given is not None and field is not None:
        pattern = next((getattr(m, "pattern", None) for m in field.metadata if getattr(m, "pattern", None)), None)
        if pattern and not re.fullmatch(pattern, str(given)):  # quoting alone would only trade one error for another
            slug = re.sub(r"[^a-z0-9]+", "-", str(given).lower()).strip("-")
            example = next((c for c in (slug, f"llama-{slug}") if re.fullmatch(pattern, c)), None)
            fix = (
                f"write text of the required form ({(field.description or pattern).rstrip('.')}); quoted, "
                f"'{given}' would still not have it" + (f": write e.g. {path[-1]}: {example}" if example else "")
            )
    if kind == "string_pattern_mismatch":
        msg, fix = (
            "does not have the required form",
            (field.description if field and field.description else "see `llama-infra schema` for the allowed form"),
        )
        if path == ("name",) or path[-2:-1] == ("schedules",) or path[-1:] == ("name",):
            slug = re.sub(r"[^a-z0-9]+", "-", str(given).lower()).strip("-")
            if re.fullmatch(r"[a-z][a-z0-9-]{1,38}[a-z0-9]", slug):
                fix = f"write it as '{slug}' ({fix.rstrip('.')})"
    if kind.startswith(("greater_than", "less_than")):
        fix = _range_fix(field, err.get("ctx", {}))
    if kind in ("too_short", "too_long"):
        ctx = err.get("ctx", {})
        lo, hi, n = ctx.get("min_length"), ctx.get("max_length"), ctx.get("actual_length")
        lo = lo if lo is not None else _length_bound(field, "min_length")
        hi = hi if hi is not None else _length_bound(field, "max_length")
        needs = (
            f"exactly {lo}"
            if lo is not None and lo == hi
            else (f"at least {lo}" if kind == "too_short" else f"at most {hi}")
        )
        msg = f"has {n} item{'s' if n != 1 else ''}; it needs {needs}"
        fix = f"give {needs} items" + (f": {field.description}" if field and field.description else "")
    return SpecIssue(path, f"{msg}{shown}", fix)


_STRICT_KINDS = {"int_type": "a whole number", "float_type": "a number", "bool_type": "true or false"}


def _unquoted(kind: str, text: str) -> str | None:
    """What a quoted value says, written without quotes, when it is the type the field wants (else None)."""
    plain = text.strip()
    if kind == "bool_type":
        return plain.lower() if plain.lower() in ("true", "false") else None
    try:
        number = float(plain) if kind == "float_type" else int(plain)
    except ValueError:
        return None
    return plain if number == number and abs(number) != float("inf") else None


def _shown(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return f"the date {value.isoformat()}"
    return repr(value)


def _range_fix(field: Any, ctx: dict[str, Any]) -> str:
    """`use a value from 0 to 100` from the field's own constraints (or the one bound pydantic reports)."""
    bounds: dict[str, Any] = {k: v for k, v in ctx.items() if k in ("gt", "ge", "lt", "le")}
    for c in getattr(field, "metadata", []):
        for name in ("gt", "ge", "lt", "le"):
            if getattr(c, name, None) is not None:
                bounds[name] = getattr(c, name)
    low = f"above {bounds['gt']:g}" if "gt" in bounds else (f"{bounds['ge']:g} or more" if "ge" in bounds else "")
    high = f"below {bounds['lt']:g}" if "lt" in bounds else (f"at most {bounds['le']:g}" if "le" in bounds else "")
    if "ge" in bounds and "le" in bounds:
        return f"use a value from {bounds['ge']:g} to {bounds['le']:g}"
    return (
        "use a value " + " and ".join(b for b in (low, high) if b) if (low or high) else "use a value within the range"
    )


def _length_bound(field: Any, name: str) -> int | None:
    for c in getattr(field, "metadata", []):
        if getattr(c, name, None) is not None:
            return getattr(c, name)
    return None
