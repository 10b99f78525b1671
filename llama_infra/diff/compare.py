"""Resource-level diff of two recorded plans: create, update, replace or delete, with the fields that changed.

Resources are matched by URN (type chain + logical name), as the Pulumi engine matches them against its state.
Component resources carry no inputs of their own and are left out; their children are compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from llama_infra.contracts.input_paths import flatten
from llama_infra.contracts.replacement import Replacement, matches, reasons
from llama_infra.plan.record import RecordedResource

Op = Literal["create", "update", "replace", "delete"]


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class FieldChange:
    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class ResourceChange:
    op: Op
    type: str
    name: str
    urn: str
    fields: tuple[FieldChange, ...] = ()
    replacements: tuple[Replacement, ...] = ()
    delete_before_replace: bool = False  # the replacement keeps a fixed physical name: old one goes first


@dataclass(frozen=True)
class IgnoredChange:
    """Inputs that changed but sit under the resource's `ignore_changes`: Pulumi will not apply them (an
    autoscaler or a workflow owns those values after creation)."""

    type: str
    name: str
    urn: str
    fields: tuple[FieldChange, ...]


@dataclass
class ResourceDiff:
    changes: list[ResourceChange] = field(default_factory=list)
    unchanged: int = 0
    ignored: list[IgnoredChange] = field(default_factory=list)

    def count(self, op: Op) -> int:
        return sum(1 for c in self.changes if c.op == op)


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[FieldChange]:
    old, new = flatten(before), flatten(after)
    changes = []
    for path in sorted(set(old) | set(new), key=_path_order(old, new)):
        a, b = old.get(path, MISSING), new.get(path, MISSING)
        if a != b:
            changes.append(FieldChange(path, a, b))
    return changes


def _split_ignored(changes: list[FieldChange], ignore: Iterable[str]) -> tuple[list[FieldChange], list[FieldChange]]:
    ignored = list(ignore)
    skip = [c for c in changes if any(matches(p, c.path) for p in ignored)]
    return [c for c in changes if c not in skip], skip


def _path_order(old: dict[str, Any], new: dict[str, Any]):
    order = {p: i for i, p in enumerate(list(new) + [p for p in old if p not in new])}
    return lambda p: order[p]


def _fixed_name(r: RecordedResource) -> bool:
    """The program names the resource itself (no autonaming), so a replacement must delete the old one first."""
    if r.type.startswith("kubernetes:"):
        meta = r.inputs.get("metadata")
        return isinstance(meta, Mapping) and bool(meta.get("name"))
    return bool(r.inputs.get("name"))


def compare(base: Iterable[RecordedResource], head: Iterable[RecordedResource]) -> ResourceDiff:
    old = {r.urn: r for r in base if r.custom}
    new = {r.urn: r for r in head if r.custom}
    diff = ResourceDiff()
    for urn, after in new.items():
        before = old.get(urn)
        if before is None:
            diff.changes.append(ResourceChange("create", after.type, after.name, urn))
            continue
        changed, ignored = _split_ignored(field_changes(before.inputs, after.inputs), after.ignore_changes)
        if ignored:
            diff.ignored.append(IgnoredChange(after.type, after.name, urn, tuple(ignored)))
        if not changed:
            diff.unchanged += 1
            continue
        why = reasons(after.type, [c.path for c in changed], after.replace_on_changes)
        if why:
            dbr = after.delete_before_replace or (
                _fixed_name(after) and not any(c.path in ("name", "metadata.name") for c in changed)
            )
            diff.changes.append(ResourceChange("replace", after.type, after.name, urn, tuple(changed), tuple(why), dbr))
        else:
            diff.changes.append(ResourceChange("update", after.type, after.name, urn, tuple(changed)))
    for urn, before in old.items():
        if urn not in new:
            diff.changes.append(ResourceChange("delete", before.type, before.name, urn))
    # Registration order depends on how Pulumi's event loop schedules children: sort so that the same two specs
    # always give the same diff text (a PR comment must not churn between runs).
    diff.changes.sort(key=lambda c: c.urn)
    diff.ignored.sort(key=lambda c: c.urn)
    return diff
