"""A SpecDiff as terminal text or as Markdown for a pull-request comment."""

from __future__ import annotations

import json
from typing import Any

from llama_infra.diff import SpecDiff
from llama_infra.diff.compare import MISSING, ResourceChange

SYMBOL = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}
ORDER = {"replace": 0, "delete": 1, "create": 2, "update": 3}  # most disruptive first
MAX_VALUE_CHARS = 80


def value(v: Any, other: Any = MISSING) -> str:
    """A value for display; a long string is cut around its first difference from `other`."""
    if v is MISSING:
        return "(absent)"
    if isinstance(v, float) and v.is_integer():
        v = int(v)  # numbers travel as doubles on the wire
    marker = isinstance(v, str) and v.startswith(("[secret ", "(known after", "[AssetArchive", "[FileA", "[String"))
    text = v if marker else json.dumps(v, default=str)
    if len(text) <= MAX_VALUE_CHARS:
        return text
    start = 0
    if isinstance(other, str) and isinstance(v, str):
        first = next((i for i, (a, b) in enumerate(zip(v, other, strict=False)) if a != b), min(len(v), len(other)))
        start = max(0, first - MAX_VALUE_CHARS // 3)
    cut = text[start : start + MAX_VALUE_CHARS - 2]
    return ("…" if start else "") + cut + ("…" if start + len(cut) < len(text) else "")


def change(f: Any) -> str:
    return f"{value(f.before, f.after)} → {value(f.after, f.before)}"


def _sorted(d: SpecDiff) -> list[ResourceChange]:
    return sorted(d.resources.changes, key=lambda c: ORDER[c.op])


def summary(d: SpecDiff) -> str:
    r = d.resources
    return (
        f"{r.count('create')} to create, {r.count('update')} to update, {r.count('replace')} to replace, "
        f"{r.count('delete')} to delete, {r.unchanged} unchanged"
    )


def cost_line(d: SpecDiff) -> str:
    before, after, delta = d.base_cost.cost_per_month_usd, d.head_cost.cost_per_month_usd, d.cost_delta_per_month_usd
    pct = f", {delta / before:+.1%}" if before else ""
    return f"${before:,.2f} → ${after:,.2f} per month ({'+' if delta >= 0 else '-'}${abs(delta):,.2f}{pct})"


def _estimated(d: SpecDiff) -> list[str]:
    return sorted(set(d.base_cost.estimated_prices) | set(d.head_cost.estimated_prices))


def render_text(d: SpecDiff) -> str:
    lines = [
        f"llama-infra diff {d.base.label} → {d.head.label}",
        f"  {d.head.spec.name} ({d.head.spec.target}, {d.head.spec.region})",
        "",
    ]
    if not d.resources.changes:
        lines.append("  no resource changes")
    for c in _sorted(d):
        lines.append(f"  {SYMBOL[c.op]:<2} {c.op:<7} {c.type}  {c.name}")
        for f in c.fields:
            lines.append(f"        {f.path}: {change(f)}")
        for why in c.replacements:
            lines.append(f"        replaced because {', '.join(why.paths)} changed: {why.why}")
            lines.append(f"        (source: {why.source})")
        if c.delete_before_replace:
            lines.append(
                "        the physical name is fixed, so the old resource is deleted before the new one "
                "exists: expect a gap"
            )
    if d.resources.ignored:
        lines += ["", "  not applied by Pulumi (ignore_changes: an autoscaler or workflow owns these after creation):"]
        for ig in d.resources.ignored:
            for f in ig.fields:
                lines.append(f"        {ig.name}: {f.path}: {change(f)}")
    lines += ["", f"Resources: {summary(d)}", f"Cost: {cost_line(d)}", f"  prices: {d.head_cost.snapshot}"]
    if _estimated(d):
        lines.append(f"  estimated prices: {', '.join(_estimated(d))}")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(d: SpecDiff) -> str:
    """GitHub-flavoured Markdown for a PR comment (the fork-PR workflow posts it)."""
    out = [
        f"#### llama-infra diff: `{d.head.spec.name}`",
        "",
        f"`{d.base.label}` → `{d.head.label}` · target **{d.head.spec.target}** · {d.head.spec.region}",
        "",
        f"**Resources:** {summary(d)}  ",
        f"**Cost:** {cost_line(d)}",
        "",
    ]
    if d.replacements:
        out.append("> [!WARNING]")
        out.append(f"> {len(d.replacements)} resource(s) will be **replaced**:")
        for c in d.replacements:
            reason = "; ".join(w.why for w in c.replacements)
            gap = " The name is fixed: the old one is deleted first." if c.delete_before_replace else ""
            out.append(f"> - `{c.name}` ({c.type.split(':')[-1]}): {_md(reason)}.{gap}")
        out.append("")
    if d.resources.changes:
        out += ["| | operation | type | name | changed fields |", "|---|---|---|---|---|"]
        for c in _sorted(d):
            fields = "<br>".join(
                f"`{_md(f.path)}`: `{_md(value(f.before, f.after))}` → `{_md(value(f.after, f.before))}`"
                for f in c.fields[:12]
            )
            if len(c.fields) > 12:
                fields += f"<br>… and {len(c.fields) - 12} more"
            out.append(f"| `{SYMBOL[c.op]}` | {c.op} | `{c.type}` | `{c.name}` | {fields} |")
    else:
        out.append("No resource changes.")
    if d.resources.ignored:
        out += ["", "Not applied by Pulumi (`ignore_changes`: an autoscaler or workflow owns these after creation):"]
        out += [
            f"- `{ig.name}`: " + ", ".join(f"`{_md(f.path)}` {_md(change(f))}" for f in ig.fields)
            for ig in d.resources.ignored
        ]
    sources = sorted({w.source for c in d.replacements for w in c.replacements})
    out += [
        "",
        "<details><summary>How this was computed</summary>",
        "",
        "Planned offline from the two specs (the stacks program under Pulumi mocks, no cloud credentials). "
        "Replacement facts come from the providers' replace-on-change rules"
        + (": " + "; ".join(f"`{s}`" for s in sources) if sources else "")
        + ".",
        f"Prices: {d.head_cost.snapshot}.",
    ]
    if _estimated(d):
        out.append(f"Estimated prices: {', '.join(_estimated(d))}.")
    out += ["", "</details>", ""]
    return "\n".join(out)


def _plain(v: Any) -> Any:
    """A before/after value as JSON: absent is null (the key `absent` says which side lacks it)."""
    return None if v is MISSING else v


def render_json(d: SpecDiff) -> str:
    """The diff as data: each change with its fields and replacement reasons, the ignored ones, the cost delta."""

    def fields(fs: Any) -> list[dict[str, Any]]:
        return [
            {
                "path": f.path,
                "before": _plain(f.before),
                "after": _plain(f.after),
                "absent": "before" if f.before is MISSING else "after" if f.after is MISSING else None,
            }
            for f in fs
        ]

    doc = {
        "base": d.base.label,
        "head": d.head.label,
        "has_changes": d.has_changes,
        "counts": {op: d.resources.count(op) for op in ("create", "update", "replace", "delete")},
        "unchanged": d.resources.unchanged,
        "changes": [
            {
                "op": c.op,
                "type": c.type,
                "name": c.name,
                "urn": c.urn,
                "fields": fields(c.fields),
                "replacements": [{"paths": list(r.paths), "why": r.why, "source": r.source} for r in c.replacements],
                "delete_before_replace": c.delete_before_replace,
            }
            for c in _sorted(d)
        ],
        "ignored": [
            {"type": i.type, "name": i.name, "urn": i.urn, "fields": fields(i.fields)} for i in d.resources.ignored
        ],
        "cost": {
            "base_per_month_usd": d.base_cost.cost_per_month_usd,
            "head_per_month_usd": d.head_cost.cost_per_month_usd,
            "delta_per_month_usd": d.cost_delta_per_month_usd,
            "snapshot": d.head_cost.snapshot,
            "estimated_prices": _estimated(d),
        },
    }
    return json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n"
