"""Preview, deploy and destroy a spec from Python with Pulumi's Automation API (`pulumi.automation`).

    from llama_infra import automation
    automation.preview("specs/prod.yaml", stack_name="prod", backend_url="s3://my-state-bucket/llama")
    automation.up("specs/prod.yaml", stack_name="prod", backend_url="s3://my-state-bucket/llama")

The program is the one `pulumi up` of a stack runs (`llama_infra.program.deploy`), inline, so no project directory
is needed. State goes to `backend_url` (`file://~/.pulumi-state`, `s3://bucket/prefix`, ...) or, without one, to the
backend the Pulumi CLI is logged in to. The Automation API drives the Pulumi CLI, which must be installed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from llama_infra.spec import DeploymentSpec, load_spec

PROJECT = "llama-infra"


class PulumiCliMissing(RuntimeError):
    """The Automation API needs the Pulumi CLI, and there is none where it looked."""


def inline_program(spec: DeploymentSpec, spec_label: str) -> Callable[[], None]:
    """The Pulumi program for `spec`, as the Automation API runs it in this process."""
    from llama_infra import program

    return lambda: program.deploy(spec, spec_label)


def _pulumi_command(pulumi_root: str | None) -> Any:
    from pulumi import automation as auto

    try:
        return auto.PulumiCommand(root=pulumi_root)
    except FileNotFoundError:
        where = f"{pulumi_root}/bin/pulumi" if pulumi_root else "`pulumi` on PATH"
        raise PulumiCliMissing(
            f"the Automation API runs the Pulumi CLI, and there is no {where}: install the "
            "Pulumi CLI, or pass pulumi_root= the directory it is installed in (its bin/pulumi)"
        ) from None


def stack(
    spec_file: str | Path,
    stack_name: str | None = None,
    *,
    backend_url: str | None = None,
    pulumi_root: str | None = None,
    secrets_provider: str | None = None,
) -> Any:
    """Create or select the stack for `spec_file` (default name: the spec's environment), with its region set.
    Raises SpecError for a bad spec before any Pulumi call, and PulumiCliMissing without a CLI."""
    from pulumi import automation as auto

    spec = load_spec(spec_file)
    command = _pulumi_command(pulumi_root)
    settings = auto.ProjectSettings(
        name=PROJECT, runtime="python", backend=auto.ProjectBackend(url=backend_url) if backend_url else None
    )
    options = auto.LocalWorkspaceOptions(
        project_settings=settings,
        pulumi_command=command,
        secrets_provider=secrets_provider,
        env_vars={"PULUMI_BACKEND_URL": backend_url} if backend_url else None,
    )
    selected = auto.create_or_select_stack(
        stack_name or spec.environment, project_name=PROJECT, program=inline_program(spec, str(spec_file)), opts=options
    )
    selected.set_config("aws:region", auto.ConfigValue(spec.region))
    return selected


def preview(spec_file: str | Path, stack_name: str | None = None, **options: Any) -> Any:
    """`pulumi preview` of the spec: returns the Automation API's PreviewResult (change summary, stdout)."""
    return stack(spec_file, stack_name, **options).preview(on_output=print)


def up(spec_file: str | Path, stack_name: str | None = None, **options: Any) -> Any:
    """`pulumi up` of the spec: returns the UpResult (outputs such as endpoint_name, summary)."""
    return stack(spec_file, stack_name, **options).up(on_output=print)


def destroy(spec_file: str | Path, stack_name: str | None = None, **options: Any) -> Any:
    """`pulumi destroy` of the spec's stack."""
    return stack(spec_file, stack_name, **options).destroy(on_output=print)
