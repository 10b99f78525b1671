"""Entry point `pulumi preview --policy-pack policies` runs: serve llama-infra's rules to the Pulumi engine.

The rules (`llama_infra_policies`) are installed with the library they read (the `llama-infra` distribution, with
its `policies` extra): `make setup` installs them into the `.venv` PulumiPolicy.yaml names, and requirements.txt
is what a virtualenv of the pack's own installs.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from llama_infra_policies import ALL_RULES

PolicyPack(
    name="llama-infra",
    enforcement_level=EnforcementLevel.ADVISORY,  # every rule sets its own level; this is only the fallback
    policies=list(ALL_RULES),
    description="Guard rails for self-hosted Llama serving on SageMaker and EKS (see docs/policies.md).",
)
