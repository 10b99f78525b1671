"""The resources a spec plans to: the program `pulumi up` runs for it, offline under mocks, recorded.

That program is the stacks program (`stacks/__main__.py`, the one `llama-infra plan` runs too): given the spec in
its `llama-infra:spec` config, it builds the target's component with the providers a real stack uses. Outside a
checkout (llama-infra installed as a library, no stacks/), the components are built directly.
"""

from __future__ import annotations

import runpy
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_infra.plan.record import RecordedResource, RecordingMocks, record

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec


def build(spec: DeploymentSpec, name: str | None = None) -> Any:
    """Create the component(s) for `spec` in the current Pulumi program (what a stack does for its spec)."""
    name = name or spec.name
    from llama_infra import targets

    return targets.get(spec.target).build(name, spec)


def stacks_program() -> Path | None:
    from llama_infra.plan.engine import PROGRAM_FILE, find_stacks_dir

    stacks_dir = find_stacks_dir()
    return stacks_dir / PROGRAM_FILE if stacks_dir else None


def resources_for(spec: DeploymentSpec, *, preview: bool = False) -> list[RecordedResource]:
    """Every resource registration `pulumi up` would make for this spec, recorded offline."""
    from llama_infra.plan.engine import PROJECT, SPEC_CONFIG_KEY

    mocks = RecordingMocks(region=spec.region)
    program = stacks_program()
    if program is None:
        return record(lambda: build(spec), project=PROJECT, stack=spec.environment, preview=preview, mocks=mocks)
    from ruamel.yaml import YAML

    with tempfile.TemporaryDirectory(prefix="llama-infra-diff-") as tmp:
        spec_file = Path(tmp) / f"{spec.name}.yaml"  # the validated spec, every default explicit
        with spec_file.open("w") as f:
            YAML(typ="safe").dump(spec.model_dump(mode="json"), f)
        return record(
            lambda: runpy.run_path(str(program), run_name="__main__"),
            project=PROJECT,
            stack=spec.environment,
            preview=preview,
            config={SPEC_CONFIG_KEY: str(spec_file)},
            mocks=mocks,
        )
