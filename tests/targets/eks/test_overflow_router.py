"""Given an EKS spec with `fallback`, the fallback model service and the overflow router are rendered: every object
validates, the router's ConfigMap is a RouterConfig pointing at the primary and fallback Services with the spec's
threshold, priority keys come from the named Secret as a file, and the components apply exactly these objects."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from llama_infra.cli.router import build_router_config
from llama_infra.plan.record import Recording, run_plan
from llama_infra.router.config import load_priority_api_keys
from llama_infra.router.queue_depth import parse_queue_depth, parse_running
from llama_infra.targets.eks import karpenter
from llama_infra.targets.eks.components import build_eks
from llama_infra.targets.eks.manifests import all_objects
from llama_infra.targets.kubernetes import fallback, labels, monitoring, router, workload

from .specs import edited
from .validation import validate

FALLBACK = {
    "model_id": "meta-llama/Llama-3.1-8B-Instruct",
    "params_b": 8,
    "precision": "awq",
    "when_queue_depth_over": 30,
    "instance_type": "g6e.2xlarge",
    "priority_api_keys_secret": "tenant-keys",
}


def run(program, preview: bool) -> Recording:
    """`program` under the library's recorder, as `llama-infra plan` runs it (strict: every registration is held
    against the cloud contracts, and a violation fails the run with all of them)."""
    return run_plan(program, project="llama-infra", stack="test", preview=preview)


def spec_with(**fallback_edits):
    return edited(fallback={**FALLBACK, **fallback_edits})


def by_kind_name(objs):
    return {(o["kind"], o["metadata"]["name"]): o for o in objs}


@pytest.mark.parametrize(
    "edits",
    [{}, {"priority_api_keys_secret": None, "instance_type": None}],
    ids=["keys-and-own-type", "no-keys-baseline-type"],
)
def test_every_object_with_a_fallback_validates(edits):
    spec = spec_with(**edits)
    objs = all_objects(spec)
    for obj in objs:
        validate(obj, spec.eks.kubernetes_version)
    names = set(by_kind_name(objs))
    assert {
        ("Deployment", "llama-70b-eks-fallback"),
        ("Service", "llama-70b-eks-fallback"),
        ("Deployment", "llama-70b-eks-router"),
        ("Service", "llama-70b-eks-router"),
        ("ConfigMap", "llama-70b-eks-router-config"),
        ("PodDisruptionBudget", "llama-70b-eks-router"),
    } <= names


def test_no_fallback_no_router_objects():
    objs = all_objects(edited())
    assert not [o for o in objs if "router" in o["metadata"]["name"] or "fallback" in o["metadata"]["name"]]


def _router_config(spec, tmp_path: Path | None = None):
    """The ConfigMap's file, loaded the way `llama-infra router --config` loads it."""
    (cm,) = [
        o
        for o in all_objects(spec)
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-config") and "router" in o["metadata"]["name"]
    ]
    path = (tmp_path or Path("/nonexistent")) / router.CONFIG_FILE
    if tmp_path is not None:
        path.write_text(cm["data"][router.CONFIG_FILE])
        return build_router_config(path, {})
    return cm


def test_config_map_parses_into_router_config_pointing_at_the_services(tmp_path):
    spec = spec_with()
    config = _router_config(spec, tmp_path)
    objs = by_kind_name(all_objects(spec))
    primary_svc = objs[("Service", spec.name)]
    fallback_svc = objs[("Service", fallback.name_of(spec))]
    assert config.primary.url == f"http://{primary_svc['metadata']['name']}.llama.svc.cluster.local"
    assert config.fallback.url == f"http://{fallback_svc['metadata']['name']}.llama.svc.cluster.local"
    assert config.fallback.when_queue_depth_over == spec.fallback.when_queue_depth_over == 30
    assert config.fallback.model_id == spec.fallback.model_id
    # The fallback Service selects the fallback pods only, the primary Service never selects them.
    fb_pods = objs[("Deployment", fallback.name_of(spec))]["spec"]["template"]["metadata"]["labels"]
    assert all(fb_pods.get(k) == v for k, v in fallback_svc["spec"]["selector"].items())
    assert any(fb_pods.get(k) != v for k, v in primary_svc["spec"]["selector"].items())
    # The Service port the URLs use (80, the default of http://) reaches the server port by name.
    assert fallback_svc["spec"]["ports"][0]["port"] == 80
    # The fallback serves the model id the router rewrites overflowed requests to.
    args = objs[("Deployment", fallback.name_of(spec))]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--served-model-name") + 1] == config.fallback.model_id
    assert (
        config.drain_timeout_seconds
        < objs[("Deployment", router.name_of(spec))]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    )


def test_queue_depth_comes_from_prometheus_federation_of_each_service():
    """The router reads the queue summed over all of a service's pods: a federate answer (with timestamps) of two
    primary pods parses to their sum, and each backend's query selects its own service."""
    spec = spec_with()
    cfg = YAML(typ="safe").load(_router_config(spec)["data"][router.CONFIG_FILE])
    from urllib.parse import parse_qs, urlsplit

    for role, instance in (("primary", spec.name), ("fallback", fallback.name_of(spec))):
        url = urlsplit(cfg[role]["metrics_url"])
        assert f"{url.scheme}://{url.netloc}" == spec.eks.prometheus_url and url.path == "/federate"
        waiting, running = parse_qs(url.query)["match[]"]
        assert f'app_kubernetes_io_instance="{instance}"' in waiting and "vllm:num_requests_waiting" in waiting
        assert f'app_kubernetes_io_instance="{instance}"' in running and "vllm:num_requests_running" in running
    federated = (
        "# TYPE vllm:num_requests_waiting untyped\n"
        'vllm:num_requests_waiting{pod="a",app_kubernetes_io_instance="llama-70b-eks"} 7 1700000000000\n'
        'vllm:num_requests_waiting{pod="b",app_kubernetes_io_instance="llama-70b-eks"} 5 1700000000000\n'
        "# TYPE vllm:num_requests_running untyped\n"
        'vllm:num_requests_running{pod="a",app_kubernetes_io_instance="llama-70b-eks"} 16 1700000000000\n'
        'vllm:num_requests_running{pod="b",app_kubernetes_io_instance="llama-70b-eks"} 16 1700000000000\n'
    )
    assert parse_queue_depth(federated, cfg["primary"]["queue_metric"]) == 12
    assert parse_running(federated, cfg["primary"]["queue_metric"]) == 32  # the slots of the in-flight estimate


def test_priority_keys_secret_is_mounted_as_the_configured_file(tmp_path):
    spec = spec_with()
    config = _router_config(spec, tmp_path)
    pod = router.deployment(spec)["spec"]["template"]["spec"]
    (vol,) = [v for v in pod["volumes"] if "secret" in v and v["name"] == "priority-keys"]
    assert vol["secret"]["secretName"] == "tenant-keys"
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == vol["name"]]
    (item,) = vol["secret"]["items"]
    assert Path(mount["mountPath"]) / item["path"] == config.priority_api_keys_file
    # The mounted file is read the way the router reads it (one key per line).
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    (keys_dir / item["path"]).write_text("alpha\n# comment\nbeta\n")
    moved = config.model_copy(update={"priority_api_keys_file": keys_dir / item["path"]})
    assert load_priority_api_keys(moved) == {"alpha", "beta"}
    assert "priority_api_keys_file" not in YAML(typ="safe").load(
        _router_config(spec_with(priority_api_keys_secret=None))["data"][router.CONFIG_FILE]
    )


def test_router_probes_drain_and_scrape():
    spec = spec_with()
    dep = router.deployment(spec)
    pod = dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert c["readinessProbe"]["httpGet"]["path"] == "/health"
    assert "tcpSocket" in c["livenessProbe"]  # /health is 503 while draining: that must not restart the pod
    assert c["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] >= router.PRE_STOP_SLEEP_SECONDS + router.DRAIN_TIMEOUT_SECONDS
    assert "--config" in " ".join(c["command"])
    monitors = [o for o in monitoring.objects(spec) if o["kind"] == "PodMonitor"]
    selected = {m["spec"]["selector"]["matchLabels"][labels.INSTANCE_LABEL]: m for m in monitors}
    assert set(selected) == {spec.name, fallback.name_of(spec), router.name_of(spec)}
    (endpoint,) = selected[router.name_of(spec)]["spec"]["podMetricsEndpoints"]
    assert endpoint["port"] == c["ports"][0]["name"] and "metricRelabelings" not in endpoint  # all it exports
    assert "annotations" not in dep["spec"]["template"]["metadata"]  # no prometheus.io/*: scraped once
    assert dep["spec"]["template"]["metadata"]["labels"][labels.INSTANCE_LABEL] == router.name_of(spec)


def test_router_image_built_from_the_dockerfile_runs_the_cli_directly_and_nothing_is_installed_at_start():
    spec = edited(fallback=FALLBACK, **{"eks.router_image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/router:1"})
    (c,) = router.deployment(spec)["spec"]["template"]["spec"]["containers"]
    assert c["image"].endswith("/router:1") and c["command"][:2] == ["llama-infra", "router"]
    assert "pip" not in " ".join(c["command"]) and "sh" not in c["command"]
    dockerfile = (Path(__file__).resolve().parents[3] / "docker/router.Dockerfile").read_text()
    assert 'ENTRYPOINT ["llama-infra", "router"]' in dockerfile


def test_a_router_spec_without_router_image_is_a_located_spec_error():
    from llama_infra.spec.errors import SpecRuleErrors

    with pytest.raises(SpecRuleErrors, match=r"eks\.router_image: with a fallback the router is the entry point"):
        edited(fallback=FALLBACK, **{"eks.router_image": None})
    edited(**{"eks.router_image": None})  # no router deployed: no image needed


def test_the_router_requires_client_keys_from_the_secret_and_sends_only_the_backend_key(tmp_path):
    spec = spec_with()
    config = YAML(typ="safe").load(router.config_map(spec)["data"][router.CONFIG_FILE])
    assert config["require_api_key"] is True
    pod = router.deployment(spec)["spec"]["template"]["spec"]
    secrets = {v["name"]: v["secret"] for v in pod["volumes"] if "secret" in v}
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert secrets["client-keys"]["secretName"] == "llama-70b-eks-api-keys"
    assert secrets["backend-key"]["secretName"] == "llama-70b-eks-backend-api-key"
    assert config["api_keys_file"] == f"{mounts['client-keys']}/{router.API_KEYS_KEY}"
    assert config["backend_api_key_file"].startswith(mounts["backend-key"] + "/")
    # The files the Secrets mount there are what the router loads (loaded the way the pod loads them).
    clients, backend = tmp_path / "clients", tmp_path / "backend"
    clients.write_text("tenant-a\n# comment\ntenant-b\n")
    backend.write_text("backend-secret\n")
    moved = build_router_config(
        None,
        {
            **{k: v for k, v in config.items() if k not in ("fallback", "primary")},
            "primary.url": "http://p:8000",
            "api_keys_file": clients,
            "backend_api_key_file": backend,
            "priority_api_keys_file": None,
        },
    )
    from llama_infra.router.config import load_backend_api_key, load_client_api_keys

    assert load_client_api_keys(moved) == {"tenant-a", "tenant-b"}
    assert load_backend_api_key(moved) == "backend-secret"


def test_model_servers_behind_the_router_require_the_backend_key_and_admit_only_the_router():
    spec = spec_with(**{})
    objs = by_kind_name(all_objects(spec))
    for name in ("llama-70b-eks-baseline", "llama-70b-eks-fallback"):
        (c,) = objs[("Deployment", name)]["spec"]["template"]["spec"]["containers"]
        assert c["args"][c["args"].index("--api-key") + 1] == "$(LLAMA_BACKEND_API_KEY)"
        (env,) = [e for e in c["env"] if e["name"] == "LLAMA_BACKEND_API_KEY"]
        assert env["valueFrom"]["secretKeyRef"] == {"name": "llama-70b-eks-backend-api-key", "key": "key"}
    policy = objs[("NetworkPolicy", "llama-70b-eks-servers")]
    validate(policy, spec.eks.kubernetes_version)
    (selector,) = policy["spec"]["podSelector"]["matchExpressions"]
    assert set(selector["values"]) == {"llama-70b-eks", "llama-70b-eks-fallback"}
    router_rule, prometheus_rule = policy["spec"]["ingress"]
    assert router_rule["from"] == [{"podSelector": {"matchLabels": {labels.INSTANCE_LABEL: "llama-70b-eks-router"}}}]
    assert prometheus_rule["from"][0]["podSelector"]["matchLabels"] == router.PROMETHEUS_POD_LABELS
    # The router pods match the router rule; the servers' own pods (and any other pod) do not.
    router_pod = router.deployment(spec)["spec"]["template"]["metadata"]["labels"]
    assert router_pod[labels.INSTANCE_LABEL] == "llama-70b-eks-router"
    # Without a router, clients call the model directly: no key, no policy.
    plain = by_kind_name(all_objects(edited()))
    (c,) = plain[("Deployment", "llama-70b-eks-baseline")]["spec"]["template"]["spec"]["containers"]
    assert "--api-key" not in c["args"] and not [k for k in plain if k[0] == "NetworkPolicy"]


def test_fallback_runs_its_model_on_its_type_and_karpenter_admits_that_type():
    spec = spec_with()
    dep = fallback.deployment(spec)
    pod = dep["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {labels.INSTANCE_TYPE: "g6e.2xlarge"}
    (c,) = pod["containers"]
    gpus = int(c["resources"]["limits"]["nvidia.com/gpu"])
    assert gpus == fallback.tp_degree(spec) == 1  # 8B AWQ fits one L40S
    assert c["image"] == workload.baseline_deployment(spec)["spec"]["template"]["spec"]["containers"][0]["image"]
    for pool in karpenter.node_pools(spec):
        (types,) = [
            r["values"] for r in pool["spec"]["template"]["spec"]["requirements"] if r["key"] == labels.INSTANCE_TYPE
        ]
        assert "g6e.2xlarge" in types
        assert int(pool["spec"]["limits"]["nvidia.com/gpu"]) == karpenter.burst_gpu_limit(edited()) + gpus


@pytest.fixture(scope="module", params=[False, True], ids=["up", "preview"])
def with_fallback(request):
    return run(lambda: build_eks("fb", spec_with()), preview=request.param)


def test_components_apply_the_rendered_fallback_and_router_objects(with_fallback):
    comps = {r.type for r in with_fallback.resources}
    assert "llama-infra:index:OverflowRouter" in comps
    applied = {
        (r.inputs.get("kind") or r.type.rsplit(":", 1)[-1], r.inputs["metadata"]["name"])
        for r in with_fallback.resources
        if r.type.startswith("kubernetes:") and "metadata" in r.inputs
    }
    spec = spec_with()
    wanted = {(o["kind"], o["metadata"]["name"]) for o in [*fallback.objects(spec), *router.objects(spec)]}
    assert wanted <= applied
    (cm,) = [
        r
        for r in with_fallback.resources
        if r.type == "kubernetes:core/v1:ConfigMap" and r.inputs["metadata"]["name"] == "llama-70b-eks-router-config"
    ]
    assert cm.inputs["data"] == router.config_map(spec)["data"]
