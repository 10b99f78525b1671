"""llama-infra: one typed spec for self-hosted Llama serving on AWS.

Import-light on purpose: Pulumi, pulumi-aws and sagemaker-core are imported only by the modules that need them.
"""

__version__ = "0.1.0"
