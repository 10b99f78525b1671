"""The llama-infra Pulumi program, one for every environment.

The stack's config `llama-infra:spec` names a spec file relative to this directory (stacks/Pulumi.<stack>.yaml);
`llama_infra.program` loads it and builds the target's component. `llama-infra plan` runs the same program offline.
"""

from pathlib import Path

from llama_infra.program import main

main(Path(__file__).resolve().parent)
