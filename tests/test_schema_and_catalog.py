import json
from pathlib import Path

import botocore.session
import pytest

from llama_infra import catalog
from llama_infra.spec import json_schema, load_spec

ROOT = Path(__file__).resolve().parents[1]


def test_committed_json_schema_is_current():
    committed = json.loads((ROOT / "schema/deployment-spec.schema.json").read_text())
    assert committed == json_schema(), "schema is stale: run `llama-infra schema -o schema/deployment-spec.schema.json`"


@pytest.mark.parametrize("spec_file", sorted((ROOT / "stacks/specs").glob("*.yaml")), ids=lambda p: p.stem)
def test_example_specs_validate_and_point_editors_at_the_schema(spec_file):
    load_spec(spec_file)
    first = spec_file.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../schema/deployment-spec.schema.json"


def test_every_catalog_entry_is_an_ec2_instance_type_botocore_knows():
    ec2 = set(botocore.session.get_session().get_service_model("ec2").shape_for("InstanceType").enum)
    unknown = [t for t in catalog.gpu_catalog() if t not in ec2]
    assert unknown == []


def test_catalog_covers_the_gpu_families_llama_serving_uses():
    families = {g.family for g in catalog.gpu_catalog().values()}
    assert {"g4dn", "g5", "g6", "g6e", "p4d", "p4de", "p5", "p5en"} <= families
    assert "inf2" not in families  # Neuron, not CUDA


def test_sagemaker_names_come_from_botocore_not_from_us():
    assert catalog.offered_by("ml.g6e.12xlarge", "sagemaker")
    assert not catalog.offered_by("ml.g4dn.metal", "sagemaker")  # EC2 has it, SageMaker hosting does not
    assert catalog.offered_by("g4dn.metal", "eks")
    assert [g.instance_type for g in catalog.gpu_types_for("sagemaker")].count("g4dn.metal") == 0


def test_catalog_reads_gpu_facts_from_the_snapshot():
    g = catalog.lookup("ml.g5.12xlarge")
    assert (g.gpu_model, g.gpu_count, g.gpu_memory_gb, g.has_nvme) == ("A10G", 4, 24.0, True)
    assert g.describe_gpus() == "4×24 GB A10G = 96 GB"
