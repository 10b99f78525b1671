"""Optional extras: a command that needs one says which, instead of an ImportError traceback.

The runtime install (`pip install llama-infra`) carries what `validate`, `plan`, `diff` and `manifests` need and
what a Pulumi program importing the components needs. The simulator, the router and `verify` need more; each is an
extra in pyproject.toml (`sim`, `router`, `verify`).
"""

from __future__ import annotations

import importlib.util

import typer

# extra -> the top-level modules it brings (pyproject.toml's [project.optional-dependencies])
EXTRAS: dict[str, tuple[str, ...]] = {
    "sim": ("numpy", "matplotlib"),
    "router": ("aiohttp", "prometheus_client", "yarl"),
    "verify": ("aiohttp", "kubernetes_asyncio", "numpy", "matplotlib"),
    "scale-to-zero": ("pulumi_aws_native",),  # asked for by the spec: targets/sagemaker/rules.scale_to_zero_installed
}


def missing_modules(extra: str) -> list[str]:
    return [m for m in EXTRAS[extra] if importlib.util.find_spec(m) is None]


def require(extra: str, command: str) -> None:
    """Exit 2 with the install command when the extra a command needs is not installed."""
    missing = missing_modules(extra)
    if missing:
        typer.echo(
            f"llama-infra {command} needs the '{extra}' extra ({', '.join(missing)} not installed): "
            f"pip install 'llama-infra[{extra}]'",
            err=True,
        )
        raise typer.Exit(2)
