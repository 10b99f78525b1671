"""`llama-infra validate` and `llama-infra schema` (filled in with the spec layer)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def validate(files: list[str]) -> None:
        """Validate deployment spec files; report every error with file, line, field and fix."""
        raise typer.Exit(0)
