"""Render the rule table in docs/policies.md from the rules themselves, so the docs cannot drift.

Regenerate: `.venv/bin/python -m llama_infra_policies.docs docs/policies.md`
(a test fails when the committed table differs from the rules).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

START = "<!-- rule-table:start -->"
END = "<!-- rule-table:end -->"


def render_rule_table() -> str:
    from llama_infra_policies import ALL_RULES

    lines = ["| rule | level | resource types | mirrors | what it checks |", "|---|---|---|---|---|"]
    for rule in ALL_RULES:
        types = ", ".join(f"`{t}`" for t in sorted(rule.resource_types)) or "all"
        mirrors = ", ".join(f"[{c.check_id}]({c.url.removeprefix('docs/policies.md')})" for c in rule.citations)
        what = rule.description.rsplit(" [", 1)[0].replace("|", "\\|")
        lines.append(f"| `{rule.name}` | {rule.enforcement_level.value} | {types} | {mirrors} | {what} |")
    return "\n".join(lines)


def with_table(document: str) -> str:
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    return pattern.sub(lambda _: f"{START}\n{render_rule_table()}\n{END}", document)


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.write_text(with_table(target.read_text()))
