"""Print plans with rich: resource tree, scaling policy in words and numbers, cost, warnings."""

from __future__ import annotations

import json
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from llama_infra import terminal
from llama_infra.plan.engine import PlannedResource, StackPlan

_MAX_VALUE_CHARS = 110


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(", ", ": "))
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 1] + "…"


def _plain(value: Any) -> str:
    """A number or word as a person reads it: 5 not 5.0, "none" not None."""
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def scaling_numbers(numbers: dict[str, Any]) -> list[str]:
    """The plan's scaling numbers as lines (`--json` keeps them as data): the fields with their values, then one
    line per configuration with its targets and where each comes from (spec, derived, default)."""
    flat = [f"{k} {_plain(v)}" for k, v in numbers.items() if not isinstance(v, (list, dict))]
    lines = [" · ".join(flat)] if flat else []
    for t in numbers.get("targets_by_configuration", []):
        targets = [
            f"{key} {_plain(t[key])} ({t[f'{key}_source']})"
            for key in ("queue_depth_target", "kv_cache_target")
            if t.get(key) is not None
        ]
        lines.append(f"{t['configuration']}: {', '.join(targets) or 'no target'}")
    return lines


def _label(r: PlannedResource) -> Text:
    label = Text.assemble((r.name, "bold"), "  ", (r.type, "cyan"))
    if r.secret_inputs:
        label.append(f"  [secret: {', '.join(r.secret_inputs)}]", style="magenta")
    if r.ignore_changes:
        label.append(f"  [ignore_changes: {', '.join(r.ignore_changes)}]", style="yellow")
    return label


def resource_tree(plan: StackPlan) -> Tree:
    tree = Tree(Text.assemble(("stack ", "dim"), (plan.stack, "bold green"), (f"  ({plan.spec_file})", "dim")))
    known = {r.name for r in plan.resources}
    children: dict[str | None, list[PlannedResource]] = {}
    for r in plan.resources:
        children.setdefault(r.parent if r.parent in known else None, []).append(r)

    def add(node: Tree, parent: str | None) -> None:
        for r in children.get(parent, []):
            child = node.add(_label(r))
            for key, value in r.key_inputs.items():
                child.add(Text.assemble((f"{key}: ", "dim"), _short(value)))
            add(child, r.name)

    add(tree, None)
    return tree


def cost_table(plan: StackPlan) -> Table:
    c = plan.cost
    table = Table(title="cost", show_header=False, box=None, pad_edge=False)
    table.add_column(style="dim")
    table.add_column(justify="right")

    def usd(v: float | None) -> str:
        return "n/a" if v is None else f"${v:,.2f}"

    table.add_row("baseline per hour", usd(c["baseline_usd_per_hour"]))
    table.add_row("per month (with schedules)", usd(c["cost_per_month_usd"]))
    table.add_row("per month (day configuration only)", usd(c["day_only_cost_per_month_usd"]))
    table.add_row("saved by schedules per month", usd(c["schedule_saving_per_month_usd"]))
    table.add_row(
        "  of which baseline / burst", f"{usd(c['baseline_per_month_usd'])} / {usd(c['burst_per_month_usd'])}"
    )
    table.add_row(
        "per 1k requests",
        "n/a (state load.peak_requests_per_second)"
        if c["cost_per_1k_requests_usd"] is None
        else f"${c['cost_per_1k_requests_usd']:.4f}",
    )
    table.add_row("prices", c["snapshot"])
    if c["estimated_prices"]:
        table.add_row("estimated prices", ", ".join(c["estimated_prices"]) + " (not in the SageMaker snapshot)")
    for a in c["assumptions"]:
        table.add_row("assumes", a)
    return table


def summary_table(plans: list[StackPlan]) -> Table:
    """One row per stack, in the order planned: what differs between environments, and what they cost. One space
    between columns (the box's separator), so the five example stacks fit 80 columns with every value whole."""
    table = Table(title="plan", title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 0))
    for column, justify in (
        ("stack", "left"),
        ("target", "left"),
        ("model", "left"),
        ("day", "left"),
        ("window", "left"),
        ("min–max", "right"),
        ("$/month", "right"),
        ("warn", "right"),
    ):
        # on a terminal too narrow even for that, cells fold onto a second line rather than end in "…"; the stack
        # name and the cost are never cut
        whole: dict[str, list[str]] = {
            "stack": [p.stack for p in plans],
            "$/month": [f"${p.cost['cost_per_month_usd']:,.0f}" for p in plans],
        }
        table.add_column(
            column,
            justify=justify,  # type: ignore[arg-type]
            overflow="fold",
            no_wrap=column in whole,
            min_width=max(map(len, [column, *whole[column]])) if column in whole else None,
        )
    for p in plans:
        s = p.summary
        table.add_row(
            p.stack,
            p.target,
            s["model"],
            s["day_instance_type"],
            ", ".join(s["window_instance_types"]) or "—",
            f"{s['min_replicas']}–{s['max_replicas']}",
            f"${p.cost['cost_per_month_usd']:,.0f}",
            str(len(p.warnings)) if p.warnings else "—",
        )
    return table


def render(plans: list[StackPlan], console: Console | None = None, *, details: bool = True) -> None:
    """The summary table, then (with `details`) each stack's resources, scaling, timeline, cost and warnings."""
    console = console or terminal.console()
    console.print(summary_table(plans))
    if not details:
        console.print(Text("details: llama-infra plan --details (or name one stack)", style="dim"))
        return
    for plan in plans:
        scaling = Group(
            *(Text("• " + line) for line in plan.scaling["words"]),
            *(Text(line, style="dim") for line in scaling_numbers(plan.scaling["numbers"])),
        )
        parts: list[Any] = [resource_tree(plan), Panel(scaling, title="scaling", title_align="left")]
        if plan.target_summary:
            parts.append(Panel(Text("\n".join(plan.target_summary)), title=plan.target, title_align="left"))
        if plan.timeline:
            parts.append(Panel(Text("\n".join(plan.timeline["lines"])), title="24 h timeline", title_align="left"))
        if plan.slo:
            parts.append(Panel(Text("\n".join(plan.slo["lines"])), title="capacity at SLO", title_align="left"))
        parts.append(cost_table(plan))
        if plan.warnings:
            parts.append(Panel(Text("\n".join(plan.warnings), style="yellow"), title="warnings", title_align="left"))
        title = f"{plan.stack}: {plan.spec_name} · {plan.target} · {plan.region} · {len(plan.resources)} resources"
        console.print(Panel(Group(*parts), title=title, title_align="left"))
