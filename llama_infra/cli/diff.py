"""`llama-infra diff BASE HEAD [--format text|markdown]`."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer


class Format(str, Enum):
    text = "text"
    markdown = "markdown"


def register(app: typer.Typer) -> None:
    @app.command()
    def diff(
        base: str = typer.Argument(..., help="Base spec: a file, or REV:PATH (e.g. main:stacks/specs/prod.yaml)."),
        head: str = typer.Argument(..., help="Head spec: a file, or REV:PATH."),
        format: Format = typer.Option(Format.text, "--format", "-f", help="text, or markdown for a PR comment."),
        output: Path | None = typer.Option(None, "--output", "-o", help="Write to a file, not stdout."),
        as_json: bool = typer.Option(False, "--json", help="Print the diff as JSON for machines (overrides --format)."),
        detailed_exitcode: bool = typer.Option(
            False,
            "--detailed-exitcode",
            help="Exit 0 with no changes, 2 with changes, 1 on error (like terraform plan).",
        ),
    ) -> None:
        """Offline resource-level diff of two specs: create/update/replace/delete, why, and the cost delta."""
        from llama_infra.diff import DiffInputError, diff_refs
        from llama_infra.diff.render import render_json, render_markdown, render_text
        from llama_infra.spec import SpecError

        try:
            result = diff_refs(base, head)
        except (DiffInputError, SpecError) as e:
            typer.echo(str(e), err=True)
            raise typer.Exit(1) from None
        if as_json:
            text = render_json(result)
        else:
            text = render_markdown(result) if format is Format.markdown else render_text(result)
        if output:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text)
        else:
            typer.echo(text, nl=False)
        if detailed_exitcode and result.has_changes:
            raise typer.Exit(2)
