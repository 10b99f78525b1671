"""The committed SageMaker image table agrees with SageMaker's own image URI configs, as pinned upstream.

`llama_infra/data/sagemaker_images.json` is generated from the installed sagemaker-core (`test_component.py` holds it
against `image_uris.retrieve`). The configs retrieve reads are also pinned in `../shared/data/upstream/`
(`sagemaker-image_uri_config-<family>.json`, sagemaker-python-sdk): for every region both list, the account, the
repository and the tag are the config's. The DNS suffix is the partition's (`amazonaws.com.cn`, the ISO ones) and
comes from botocore's endpoint data, not from these files, so it is not compared.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from llama_infra.targets.sagemaker.components.image import PINNED_IMAGES, committed_images

UPSTREAM = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "upstream"
URI = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.[^/]+/(?P<repository>[^:@]+):(?P<tag>.+)$")


def version_config(family: str, version: str) -> dict:
    config = json.loads((UPSTREAM / f"sagemaker-image_uri_config-{family}.json").read_text())
    scoped = config.get("inference", config)
    return scoped["versions"][scoped.get("version_aliases", {}).get(version, version)]


def expected_tag(config: dict) -> str:
    """retrieve's GPU tag: the prefix, and for the Hugging Face images `-gpu-<py>-<container version>`."""
    if "container_version" not in config:
        return config["tag_prefix"]
    return f"{config['tag_prefix']}-gpu-{config['py_versions'][0]}-{config['container_version']['gpu']}"


@pytest.mark.parametrize("framework", sorted(PINNED_IMAGES))
def test_every_committed_image_has_the_accounts_repository_and_tag_of_the_pinned_config(framework):
    family, version, _ = PINNED_IMAGES[framework]
    config = version_config(family, version)
    committed = committed_images()[framework]
    shared = sorted(set(committed) & set(config["registries"]))
    assert len(shared) >= 30, f"{framework}: only {len(shared)} regions in common with the upstream config"
    found = {r: URI.match(committed[r]).groupdict() for r in shared}
    expected = {
        r: {
            "account": config["registries"][r],
            "region": r,
            "repository": config["repository"],
            "tag": expected_tag(config),
        }
        for r in shared
    }
    assert found == expected
