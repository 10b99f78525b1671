"""llama-infra: one typed spec for self-hosted Llama serving on AWS.

Use it from another Pulumi program::

    import pulumi
    from llama_infra import SageMakerLlamaEndpoint, SageMakerLlamaEndpointArgs, build_eks, load_spec

    spec = load_spec("llama.yaml")         # validated: a bad spec raises SpecError (file, line, field, fix)
    chat = SageMakerLlamaEndpoint("chat", SageMakerLlamaEndpointArgs(spec))   # target: sagemaker
    pulumi.export("endpoint_name", chat.endpoint_name)

    # target: eks — GPU capacity, inference service and autoscaler on an existing cluster
    llama = build_eks("llama", load_spec("llama-eks.yaml"))
    pulumi.export("service_name", llama.service_name)

Import-light on purpose: ``import llama_infra`` loads nothing but this file. Each public name is imported from
its module on first use (PEP 562 module ``__getattr__``), so Pulumi, pulumi-aws and pydantic are loaded only by a
program that uses a component or the spec. ``benchmarks/bench_imports.py`` measures the bare import next to each
public name.
"""

from __future__ import annotations

import importlib

# Not `from typing import TYPE_CHECKING`: importing typing alone would triple the cost of `import llama_infra`.
# Type checkers treat a module-level TYPE_CHECKING name as true.
TYPE_CHECKING = False


def _package_version() -> str:
    """The installed distribution's version; pyproject.toml's `version` is its one source. A checkout that was never
    installed reads it from that pyproject.toml (and says `0+unknown` if there is none)."""
    from importlib.metadata import PackageNotFoundError, version
    from pathlib import Path

    try:
        return version("llama-infra")
    except PackageNotFoundError:
        import tomllib

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        try:
            project = tomllib.loads(pyproject.read_text())["project"]
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "0+unknown"
        return project["version"] if project.get("name") == "llama-infra" else "0+unknown"


# Public name -> module that defines it. One line per name; `tests/package/test_public_api.py` checks that every name
# resolves, has a docstring, and that `import llama_infra` imports none of these modules.
_EXPORTS: dict[str, str] = {
    # the spec (pydantic, no Pulumi)
    "DeploymentSpec": "llama_infra.spec",
    "SpecError": "llama_infra.spec",
    "load_spec": "llama_infra.spec",
    "parse_spec": "llama_infra.spec",
    # SageMaker target component (Pulumi)
    "SageMakerLlamaEndpoint": "llama_infra.targets.sagemaker.components",
    "SageMakerLlamaEndpointArgs": "llama_infra.targets.sagemaker.components",
    # EKS target components (Pulumi)
    "EksLlamaDeployment": "llama_infra.targets.eks.components",
    "EksLlamaDeploymentArgs": "llama_infra.targets.eks.components",
    "EksGpuCapacity": "llama_infra.targets.eks.components",
    "EksGpuCapacityArgs": "llama_infra.targets.eks.components",
    "LlamaInferenceService": "llama_infra.targets.eks.components",
    "LlamaInferenceServiceArgs": "llama_infra.targets.eks.components",
    "build_eks": "llama_infra.targets.eks.components",
    # cost
    "CostReport": "llama_infra.cost_model",
    "cost_report": "llama_infra.targets",  # with the spec's target's billing units
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # for type checkers and IDEs; never executed at run time
    from typing import Any

    __version__: str

    from llama_infra.cost_model import CostReport
    from llama_infra.spec import DeploymentSpec, SpecError, load_spec, parse_spec
    from llama_infra.targets import cost_report
    from llama_infra.targets.eks.components import (
        EksGpuCapacity,
        EksGpuCapacityArgs,
        EksLlamaDeployment,
        EksLlamaDeploymentArgs,
        LlamaInferenceService,
        LlamaInferenceServiceArgs,
        build_eks,
    )
    from llama_infra.targets.sagemaker.components import SageMakerLlamaEndpoint, SageMakerLlamaEndpointArgs


def __getattr__(name: str) -> Any:
    if name == "__version__":  # on first use: importlib.metadata is not free, and `import llama_infra` stays light
        globals()[name] = _package_version()
        return globals()[name]
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llama_infra' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cache: the next access does not come back here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | {"__version__"})
