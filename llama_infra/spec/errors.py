"""Spec problems as data: where (field path, file, line), what is wrong, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass, field

Path = tuple[str | int, ...]


def dotted(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


@dataclass(frozen=True)
class SpecIssue:
    path: Path
    problem: str
    fix: str = ""
    severity: str = "error"  # or "warning": a likely mistake that does not stop a plan

    def render(self, file: str | None = None, line: int | None = None) -> str:
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        text = f"{where}{self.severity}: {dotted(self.path)}: {self.problem}"
        if self.fix:
            text += f"\n    fix: {self.fix}"
        return text


class SpecRuleErrors(Exception):
    """Raised by the spec's cross-field rules with every problem found (deliberately not a ValueError)."""

    def __init__(self, issues: list[SpecIssue]):
        self.issues = issues
        super().__init__("\n".join(i.render() for i in issues))


@dataclass
class SpecError(Exception):
    """A spec file that cannot be used: every problem, each located in the file."""

    file: str
    issues: list[SpecIssue]
    lines: list[int | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.lines:
            self.lines = [None] * len(self.issues)
        super().__init__(str(self))

    def __str__(self) -> str:
        head = f"{self.file}: {len(self.issues)} problem{'s' if len(self.issues) != 1 else ''}"
        body = "\n".join(i.render(self.file, line) for i, line in zip(self.issues, self.lines, strict=True))
        return f"{head}\n{body}"
