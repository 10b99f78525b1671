"""Container images for the SageMaker target: one pinned table, URIs from sagemaker-core's image config.

The environment variable names in `container_env.py` are checked against these versions' docs: change a version
here only together with that module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

# framework in the spec -> (sagemaker-core image family, pinned version, what it serves)
PINNED_IMAGES: dict[str, tuple[str, str, str]] = {
    "tgi": ("huggingface-llm", "3.3.6", "Hugging Face TGI 3.3.6 (huggingface-pytorch-tgi-inference)"),
    "vllm": ("djl-lmi", "0.32.0", "DJL LMI 14 with vLLM rolling batch (djl-inference)"),
    "lmi": ("djl-lmi", "0.32.0", "DJL LMI 14 (djl-inference)"),
    "tensorrt-llm": ("djl-tensorrtllm", "0.33.0", "DJL LMI with TensorRT-LLM 0.21 (djl-inference)"),
}

_ECR_URI = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repository>[^:@]+)"
    r"(?::(?P<tag>[^@]+))?(?:@(?P<digest>.+))?$"
)


@dataclass(frozen=True)
class EcrImage:
    """An image in Amazon ECR: what the execution role must be allowed to pull."""

    uri: str
    account: str
    region: str
    repository: str

    @classmethod
    def parse(cls, uri: str) -> EcrImage:
        m = _ECR_URI.match(uri)
        if not m:
            raise ValueError(f"'{uri}' is not an Amazon ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/"
                             "<repository>:<tag>)")
        return cls(uri, m["account"], m["region"], m["repository"])

    def repository_arn(self, partition: str = "aws") -> str:
        return f"arn:{partition}:ecr:{self.region}:{self.account}:repository/{self.repository}"


@cache
def image_uri(framework: str, region: str, instance_type: str) -> str:
    """The serving image for a framework in a region, from sagemaker-core's pinned image config."""
    from sagemaker.core import image_uris  # ~2 s to import: only when a SageMaker program really runs

    family, version, _ = PINNED_IMAGES[framework]
    return image_uris.retrieve(family, region=region, version=version, image_scope="inference",
                               instance_type=instance_type)
