"""The CRDs' CEL validation rules (`x-kubernetes-validations`), evaluated as the API server does on create.

The API server runs each rule with `self` bound to the value at the rule's schema node, once for every value the
object has there (each item of a list whose `items` carry the rule, each value of a map's `additionalProperties`),
and refuses the object with the rule's `message` when a rule is false or cannot be evaluated. A node the object
does not have runs no rule.

Rules are evaluated with cel-python (`celpy`), which implements the CEL standard. Kubernetes adds libraries of its
own; the functions of them the pinned CRDs call are registered here with their Kubernetes semantics (`find` from the
regex library: the first match or ''; `split` from the strings extension). A rule the library cannot evaluate is
not guessed at: `not_evaluated(rule)` says why (a transition rule, which reads `oldSelf`, runs only on update
against the stored object; a function neither cel-python nor this module implements), and `skipped_rules()` lists
every such rule of the registered CRDs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

# CEL macros: the evaluator expands these itself (they are not functions).
_MACROS = frozenset({"has", "all", "exists", "exists_one", "map", "filter"})


def _find(text: Any, pattern: Any) -> Any:
    """Kubernetes regex library: `'abc 123'.find('[0-9]+') == '123'`, `'abc'.find('x') == ''` (RE2 syntax)."""
    import re2
    from celpy import celtypes

    match = re2.search(str(pattern), str(text))
    return celtypes.StringType(match.group(0) if match else "")


def _split(text: Any, separator: Any, limit: Any = None) -> Any:
    """CEL strings extension: `'a@b'.split('@') == ['a', 'b']`; a limit n gives at most n parts (0: none)."""
    from celpy import celtypes

    if limit is not None and int(limit) == 0:
        return celtypes.ListType([])
    parts = (
        str(text).split(str(separator))
        if limit is None or int(limit) < 0
        else str(text).split(str(separator), int(limit) - 1)
    )
    return celtypes.ListType([celtypes.StringType(p) for p in parts])


KUBERNETES_FUNCTIONS = {"find": _find, "split": _split}


@dataclass(frozen=True)
class Rule:
    """One `x-kubernetes-validations` entry and where it sits: schema steps from the object's root, each a property
    name, `[]` (the items of a list) or `{}` (the values of a map)."""

    steps: tuple[str, ...]
    rule: str
    message: str

    @property
    def where(self) -> str:
        out = ""
        for s in self.steps:
            out += "[*]" if s in ("[]", "{}") else (f".{s}" if out else s)
        return out or "(object)"


def rules(schema: dict[str, Any]) -> list[Rule]:
    """Every CEL rule of one CRD version's `openAPIV3Schema`, in schema order."""
    out: list[Rule] = []

    def walk(node: Any, steps: tuple[str, ...]) -> None:
        if not isinstance(node, dict):
            return
        for r in node.get("x-kubernetes-validations") or []:
            out.append(Rule(steps, r["rule"], r.get("message") or f"failed rule: {r['rule']}"))
        for name, sub in (node.get("properties") or {}).items():
            walk(sub, (*steps, name))
        if isinstance(node.get("items"), dict):
            walk(node["items"], (*steps, "[]"))
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], (*steps, "{}"))

    walk(schema, ())
    return out


@cache
def _environment() -> Any:
    import celpy

    return celpy.Environment()


@cache
def _known_functions() -> frozenset[str]:
    from celpy.evaluation import base_functions

    return frozenset(base_functions) | _MACROS | frozenset(KUBERNETES_FUNCTIONS)


def _called(tree: Any) -> Iterator[str]:
    """The names of the functions and methods a compiled rule calls."""
    for node in tree.iter_subtrees():
        if node.data in ("member_dot_arg", "ident_arg"):
            token = node.children[1] if node.data == "member_dot_arg" else node.children[0]
            yield str(getattr(token, "value", token))


@cache
def _compiled(rule: str) -> tuple[Any, str | None]:
    """(program, None), or (None, why the rule is not evaluated)."""
    env = _environment()
    try:
        tree = env.compile(rule)
    except Exception as e:  # noqa: BLE001 - celpy raises its own parse errors; the reason is the message
        return None, f"cel-python cannot parse it: {str(e).splitlines()[0]}"
    if any(n.data == "ident" and str(n.children[0]) == "oldSelf" for n in tree.iter_subtrees()):
        return None, (
            "a transition rule (it reads oldSelf): the API server evaluates it only on update, against the "
            "stored object, which an offline plan does not have"
        )
    missing = sorted(set(_called(tree)) - _known_functions())
    if missing:
        return None, f"calls {', '.join(missing)}, which neither cel-python nor llama-infra implements"
    return env.program(tree, functions=KUBERNETES_FUNCTIONS), None


def not_evaluated(rule: Rule) -> str | None:
    """Why this rule is not evaluated offline, or None when it is."""
    return _compiled(rule.rule)[1]


def _values(value: Any, steps: tuple[str, ...], path: str = "") -> Iterator[tuple[str, Any]]:
    """(field path, value) for every value the object has at the rule's node."""
    if not steps:
        yield path or "(object)", value
        return
    step, rest = steps[0], steps[1:]
    if step == "[]":
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from _values(item, rest, f"{path}[{i}]")
    elif step == "{}":
        if isinstance(value, dict):
            for key, item in value.items():
                yield from _values(item, rest, f"{path}[{key}]")
    elif isinstance(value, dict) and step in value:
        yield from _values(value[step], rest, f"{path}.{step}" if path else step)


def problems(obj: dict[str, Any], crd_rules: list[Rule]) -> list[tuple[str, str]]:
    """(field path, the rule's message) for every evaluated rule the object breaks."""
    import celpy

    out = []
    for rule in crd_rules:
        program, _why = _compiled(rule.rule)
        if program is None:
            continue
        for path, value in _values(obj, rule.steps):
            try:
                result = program.evaluate({"self": celpy.json_to_cel(value)})
            except celpy.CELEvalError as e:
                result = e
            if isinstance(result, celpy.CELEvalError):
                out.append(
                    (
                        path,
                        f"{rule.message} (the rule `{_short(rule.rule)}` cannot be evaluated on this "
                        f"value: {_reason(result)})",
                    )
                )
            elif not bool(result):
                out.append((path, f"{rule.message} (CEL rule `{_short(rule.rule)}`)"))
    return out


def _reason(error: Any) -> str:
    """celpy's CELEvalError(message, exception type, exception args): the underlying exception's words if any."""
    args = error.args
    if len(args) >= 3 and args[2]:
        return str(args[2][0]) if isinstance(args[2], tuple) else str(args[2])
    return str(args[0]) if args else str(error)


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
