"""The llama-infra Pulumi program for one spec: the spec's region provider, its target's component, the outputs.

`stacks/__main__.py` (`pulumi up` per environment) runs `main`, which reads the spec a stack's config names;
`llama-infra plan` runs the same code offline for stacks and for spec files alike.
"""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_aws as aws

from llama_infra import targets
from llama_infra.spec import DeploymentSpec, SpecError, load_spec

SPEC_CONFIG_KEY = "spec"  # `llama-infra:spec` in a stack's Pulumi.<stack>.yaml


def deploy(spec: DeploymentSpec, spec_label: str) -> None:
    """Create the spec's resources in the current Pulumi program and export what clients and CI read."""
    # The spec's region, whatever the ambient AWS configuration says (IAM, node groups, invokes use this provider).
    provider = aws.Provider("aws", region=spec.region)
    opts = pulumi.ResourceOptions(providers=[provider])
    target = targets.get(spec.target)
    component = target.build(spec.name, spec, opts)
    for key, value in target.stack_outputs(component).items():
        pulumi.export(key, value)
    pulumi.export("spec", spec_label)
    pulumi.export("target", spec.target)


def main(stacks_dir: Path) -> None:
    """The stacks program: load the spec named by config `llama-infra:spec` (relative to `stacks_dir`) and deploy it."""
    spec_config = pulumi.Config("llama-infra").require(SPEC_CONFIG_KEY)
    spec_file = stacks_dir / spec_config  # an absolute path (a spec file planned directly) stays as it is
    try:
        spec = load_spec(spec_file)
    except SpecError as e:
        raise pulumi.RunError(str(e)) from None  # every problem with file, line and fix; no traceback
    deploy(spec, spec_config)
