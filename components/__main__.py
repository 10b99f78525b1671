"""Entry point of the llama-infra component package: Pulumi runs this as the package's provider.

`pulumi package add ./components` (or `packages:` in Pulumi YAML) starts it, asks for the schema (inferred from the
type hints and docstrings in llama_deployment.py) and generates an SDK for the consumer's language.
"""

from llama_deployment import LlamaDeployment
from pulumi.provider.experimental import component_provider_host

from llama_infra import __version__

PACKAGE_NAME = "llama-infra"
COMPONENTS = [LlamaDeployment]

if __name__ == "__main__":
    # No namespace: the generated SDKs are @pulumi/llama-infra (TypeScript) and pulumi_llama_infra (Python).
    component_provider_host(components=COMPONENTS, name=PACKAGE_NAME, version=__version__)
