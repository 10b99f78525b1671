"""`llama-infra validate FILE...` and `llama-infra schema [--markdown]`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

SCHEMA_PATH = Path("schema/deployment-spec.schema.json")


def _issue(issue, line: int | None) -> dict:
    from llama_infra.spec.errors import dotted

    return {
        "severity": issue.severity,
        "line": line,
        "field": dotted(issue.path),
        "problem": issue.problem,
        "fix": issue.fix,
    }


def register(app: typer.Typer) -> None:
    @app.command()
    def validate(
        files: list[Path] = typer.Argument(..., help="Spec YAML files."),
        as_json: bool = typer.Option(False, "--json", help="Print every file's problems as JSON for machines."),
        strict: bool = typer.Option(False, "--strict", help="Warnings fail too (exit 1), e.g. in CI."),
    ) -> None:
        """Validate spec files: every problem with file, line, field path and a fix; warnings too; and whether each
        serving configuration can meet the SLO (an error when it cannot at any scale)."""
        from llama_infra import terminal
        from llama_infra.spec import SpecError, load_spec, warnings
        from llama_infra.spec.slo import slo_issues

        # emoji=False: rich would turn the ":secret:" of a Secrets Manager ARN into an emoji
        out, err = terminal.console(soft_wrap=True), terminal.console(stderr=True, soft_wrap=True)
        failed = 0
        report = []
        for f in files:
            try:
                spec = load_spec(f)
            except SpecError as e:
                failed += 1
                report.append(
                    {
                        "file": str(f),
                        "ok": False,
                        "problems": [_issue(i, line) for i, line in zip(e.issues, e.lines, strict=True)],
                    }
                )
                if not as_json:
                    err.print(str(e), markup=False, highlight=False)
                continue
            # Then whether the SLO is reachable on this hardware and the load fits (llama_infra/spec/slo.py): an
            # error there fails validate, but the spec itself loads (the replica model is an estimate).
            found = warnings(spec) + slo_issues(spec)
            slo_failed = any(i.severity == "error" for i in found)
            failed += bool((strict and found) or slo_failed)
            report.append(
                {
                    "file": str(f),
                    "ok": not ((strict and found) or slo_failed),
                    "target": spec.target,
                    "model": spec.model.id,
                    "instance_type": spec.capacity.baseline.instance_type,
                    "problems": [_issue(w, None) for w in found],
                }
            )
            if as_json:
                continue
            out.print(
                f"{f}: ok ({spec.target}, {spec.model.id}, {spec.capacity.baseline.instance_type})",
                markup=False,
                highlight=False,
            )
            for w in found:
                (err if w.severity == "error" else out).print(w.render(str(f)), markup=False, highlight=False)
        if as_json:
            typer.echo(json.dumps({"files": report, "strict": strict}, indent=2, sort_keys=True))
        if failed:
            raise typer.Exit(1)

    @app.command()
    def schema(
        output: Path | None = typer.Option(None, "--output", "-o", help="Write to a file, not stdout."),
        markdown: bool = typer.Option(
            False, "--markdown", help="The spec reference in Markdown (docs/spec-reference.md) instead of JSON Schema."
        ),
    ) -> None:
        """Print the spec's JSON Schema (for editors: `# yaml-language-server: $schema=...`) or its Markdown
        reference."""
        from llama_infra.spec import json_schema

        if markdown:
            from llama_infra.spec.reference import markdown_reference

            text = markdown_reference(json_schema())
        else:
            text = json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
        if output:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text)
        else:
            typer.echo(text, nl=False)
