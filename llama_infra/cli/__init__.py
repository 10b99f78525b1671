"""`llama-infra` command line.

One module per command under `llama_infra/cli/`; each exposes `register(app)`. Heavy imports (Pulumi, sagemaker-core,
matplotlib) happen inside the command functions, never at import time, so `llama-infra --help` stays fast.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="llama-infra",
    help="Typed, cost-aware Llama serving on AWS: validate, plan, diff, simulate, verify.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        import llama_infra

        typer.echo(f"llama-infra {llama_infra.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: bool = typer.Option(
        False, "--version", "-V", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Typed, cost-aware Llama serving on AWS: validate, plan, diff, simulate, verify."""


# Command modules, in the order they appear in --help. Add a module here to add a command.
COMMAND_MODULES = [
    "llama_infra.cli.init",
    "llama_infra.cli.validate",
    "llama_infra.cli.plan",
    "llama_infra.cli.router",
    "llama_infra.cli.diff",
    "llama_infra.cli.verify",
    "llama_infra.cli.manifests",
    "llama_infra.cli.simulate",
    "llama_infra.cli.tune",
]

for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def main() -> None:
    app()
