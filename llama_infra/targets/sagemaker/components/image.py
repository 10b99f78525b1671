"""Container images for the SageMaker target: one pinned table, URIs from sagemaker-core's image config.

The environment variable names in `container_env.py` are checked against these versions' docs: change a version
here only together with that module.

`image_uris.retrieve` is the source of every URI, but importing sagemaker-core takes seconds, so the URIs of the
pinned versions in every region sagemaker-core knows are committed in `llama_infra/data/sagemaker_images.json`
(`python -m llama_infra.targets.sagemaker.components.image` rewrites it; a test fails when it differs from `retrieve`).
A region missing from that file falls back to `retrieve` itself, which needs the `images` extra
(sagemaker-core is ~270 MB, so it is off the runtime path).
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
            raise ValueError(
                f"'{uri}' is not an Amazon ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>)"
            )
        return cls(uri, m["account"], m["region"], m["repository"])

    def repository_arn(self, partition: str) -> str:
        return f"arn:{partition}:ecr:{self.region}:{self.account}:repository/{self.repository}"


IMAGES_FILE = "sagemaker_images.json"
_GPU_INSTANCE_FOR_LOOKUP = "ml.g5.2xlarge"  # every type here is a GPU type: the URI depends only on "gpu"


def retrieve(framework: str, region: str, instance_type: str = _GPU_INSTANCE_FOR_LOOKUP) -> str:
    """The pinned image from sagemaker-core itself (slow to import; see the module docstring)."""
    try:
        from sagemaker.core import image_uris
    except ImportError:
        raise LookupError(
            f"no committed {framework} image for region {region} in llama_infra/data/{IMAGES_FILE}, "
            "and sagemaker-core is not installed to look it up: pip install 'llama-infra[images]'"
        ) from None

    family, version, _ = PINNED_IMAGES[framework]
    return image_uris.retrieve(
        family, region=region, version=version, image_scope="inference", instance_type=instance_type
    )


@cache
def committed_images() -> dict[str, dict[str, str]]:
    """{framework: {region: uri}} as committed in llama_infra/data (generated from `retrieve`)."""
    import json
    from importlib import resources

    doc = json.loads(resources.files("llama_infra.data").joinpath(IMAGES_FILE).read_text())
    return doc["images"]


@cache
def image_uri(framework: str, region: str, instance_type: str) -> str:
    """The serving image for a framework in a region (GPU instance types only)."""
    known = committed_images().get(framework, {})
    if region in known:
        return known[region]
    return retrieve(framework, region, instance_type)


def generate_images() -> dict:
    """Every region sagemaker-core lists for each pinned image family and version."""
    from sagemaker.core import image_uris

    images: dict[str, dict[str, str]] = {}
    for framework, (family, version, _) in PINNED_IMAGES.items():
        config = image_uris.config_for_framework(family)
        scoped = config.get("inference", config)
        versions = scoped["versions"]
        version_config = versions[scoped.get("version_aliases", {}).get(version, version)]
        regions = sorted(version_config["registries"])
        images[framework] = {r: retrieve(framework, r) for r in regions}
    return {
        "source": "sagemaker-core image_uris.retrieve (image_scope=inference, GPU instance)",
        "pinned": {f: {"family": fam, "version": v} for f, (fam, v, _) in PINNED_IMAGES.items()},
        "images": images,
    }


if __name__ == "__main__":
    import json
    from pathlib import Path

    out = Path(__file__).resolve().parents[2] / "data" / IMAGES_FILE
    out.write_text(json.dumps(generate_images(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}")
