"""Entry point `pulumi preview --policy-pack policies` runs: serve llama-infra's rules to the Pulumi engine."""

import os
import sys

# The pack directory holds the rules package; the repository root holds llama_infra (the single source of instance
# facts such as NVMe instance storage). Both must be importable however the engine starts this program.
_PACK_DIR = os.path.dirname(os.path.abspath(__file__))
for _path in (_PACK_DIR, os.path.dirname(_PACK_DIR)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from llama_infra_policies import ALL_RULES  # noqa: E402

PolicyPack(
    name="llama-infra",
    enforcement_level=EnforcementLevel.ADVISORY,  # every rule sets its own level; this is only the fallback
    policies=list(ALL_RULES),
    description="Guard rails for self-hosted Llama serving on SageMaker and EKS (see docs/policies.md).",
)
