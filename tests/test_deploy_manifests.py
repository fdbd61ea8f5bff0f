"""The classroom deployment's files say what the README promises (deploy/).

Kubernetes manifests are validated against the Kubernetes schemas (kubernetes-validate, strict:
an unknown field fails); compose.yaml and haproxy.cfg are parsed for the settings a classroom
depends on: cookie affinity and never the client's address, health checks on Streamlit's
health endpoint, websocket timeouts, one shared volume. Docker and a cluster are not needed;
tests/test_classroom.py runs the HAProxy configuration for real.
"""

from __future__ import annotations

import re
from pathlib import Path

import kubernetes_validate  # in the [test] extras: CI must validate, never skip
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
K8S = DEPLOY / "k8s"
HEALTH = "/_stcore/health"
KUBERNETES_VERSIONS = ["1.30.0", kubernetes_validate.latest_version()]


def documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def manifests() -> dict[str, dict]:
    """Every resource that kustomization.yaml lists, by kind."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    found = {}
    for name in kustomization["resources"]:
        for doc in documents(K8S / name):
            found[doc["kind"]] = doc
    return found


# ----------------------------------------------------------------------------- Kubernetes


def test_kustomization_lists_every_manifest_in_the_folder():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    listed = set(kustomization["resources"])
    on_disk = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk
    assert set(manifests()) == {"Deployment", "Service", "Ingress", "PersistentVolumeClaim"}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", sorted(p.name for p in K8S.glob("*.yaml")
                                        if p.name != "kustomization.yaml"))
def test_each_manifest_is_valid_against_the_kubernetes_schema(name, version):
    for doc in documents(K8S / name):
        kubernetes_validate.validate(doc, version, strict=True)  # raises ValidationError


def test_the_validator_rejects_a_broken_manifest():
    """The check above can fail: a misspelt field and a wrong type are refused."""
    deployment = manifests()["Deployment"]
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)
    wrong_type = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong_type, KUBERNETES_VERSIONS[-1], strict=True)


def the_container(deployment: dict) -> dict:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_the_deployment_probes_the_health_endpoint_and_mounts_the_shared_volume():
    found = manifests()
    deployment = found["Deployment"]
    container = the_container(deployment)
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"http": 8501}
    for probe in ("livenessProbe", "readinessProbe"):
        check = container[probe]["httpGet"]
        assert check["path"] == HEALTH
        assert check["port"] in ("http", 8501)
    assert deployment["spec"]["replicas"] >= 2
    env = {item["name"]: item["value"] for item in container["env"]}
    mount = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    (volume,) = deployment["spec"]["template"]["spec"]["volumes"]
    assert volume["persistentVolumeClaim"]["claimName"] == found["PersistentVolumeClaim"]["metadata"]["name"]
    assert env["COURSE_RUNS_DIR"].startswith(mount[volume["name"]] + "/")
    assert env["COURSE_DATA_DIR"].startswith(mount[volume["name"]] + "/")
    # The CPU limit is the pod's core budget (the app reads the cgroup quota), so the replica
    # setting for a shared host stays unset here.
    assert container["resources"]["limits"]["cpu"] == container["resources"]["requests"]["cpu"]
    assert "COURSE_REPLICAS_PER_HOST" not in env


def test_the_volume_is_read_write_many():
    claim = manifests()["PersistentVolumeClaim"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]


def test_the_service_selects_the_pods_without_client_ip_affinity():
    found = manifests()
    service, deployment = found["Service"], found["Deployment"]
    assert service["spec"].get("sessionAffinity", "None") == "None"
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] in ("http", 8501)


def test_the_ingress_pins_a_browser_with_a_cookie_and_keeps_websockets_open():
    found = manifests()
    ingress = found["Ingress"]
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert notes["nginx.ingress.kubernetes.io/session-cookie-name"]
    assert not any("upstream-hash-by" in key for key in notes), "affinity must not hash the client"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(notes["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600
    assert ingress["spec"]["ingressClassName"] == "nginx"
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert path["backend"]["service"]["name"] == found["Service"]["metadata"]["name"]


# ----------------------------------------------------------------------------- Compose


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def app_services() -> dict[str, dict]:
    return {name: service for name, service in compose()["services"].items()
            if name.startswith("app")}


def test_compose_builds_n_replicas_from_the_dockerfile_on_one_shared_volume():
    apps = app_services()
    assert len(apps) >= 2
    (volume,) = compose()["volumes"]
    for service in apps.values():  # YAML's merge key gives each the shared settings
        build = service["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == \
            (DEPLOY.parent / "Dockerfile").resolve()
        assert service["volumes"] == [f"{volume}:/srv/course"]
        env = service["environment"]
        assert env["COURSE_RUNS_DIR"] == "/srv/course/workspaces"
        assert env["COURSE_DATA_DIR"] == "/srv/course/data"
        # every replica knows how many share the host's cores (the thread budget)
        assert int(env["COURSE_REPLICAS_PER_HOST"]) == len(apps)
        assert HEALTH in " ".join(service["healthcheck"]["test"])


def test_compose_puts_haproxy_in_front_with_this_folders_configuration():
    proxy = compose()["services"]["proxy"]
    assert proxy["image"].startswith("haproxy:")
    assert "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in proxy["volumes"]
    assert set(proxy["depends_on"]) == set(app_services())
    assert all(rule["condition"] == "service_healthy" for rule in proxy["depends_on"].values())
    (published,) = proxy["ports"]
    assert published.split(":")[-1] == listen_port_of(haproxy_config())


# ----------------------------------------------------------------------------- HAProxy


def haproxy_config() -> dict[str, list[str]]:
    """Section header ('backend replicas') → its lines, comments dropped."""
    sections: dict[str, list[str]] = {}
    current = None
    for raw in (DEPLOY / "haproxy.cfg").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not raw[0].isspace():
            current = line
            sections[current] = []
        else:
            sections[current].append(line)
    return sections


def preset(config: dict, name: str) -> str:
    for line in config["global"]:
        words = line.split()
        if words[:2] == ["presetenv", name]:
            return words[2]
    raise AssertionError(f"no presetenv {name} in haproxy.cfg")


def listen_port_of(config: dict) -> str:
    return preset(config, "COURSE_PROXY_BIND").rsplit(":", 1)[-1]


def test_haproxy_pins_learners_with_an_inserted_cookie_never_their_address():
    config = haproxy_config()
    backend = config["backend replicas"]
    cookie = [line for line in backend if line.startswith("cookie ")]
    assert len(cookie) == 1
    assert re.fullmatch(r"cookie \w+ insert indirect nocache( httponly)?", cookie[0]), cookie
    assert "balance roundrobin" in backend
    text = "\n".join(line for lines in config.values() for line in lines)
    assert "balance source" not in text and "src" not in text.split(), "no client-IP affinity"
    servers = [line.split() for line in backend if line.startswith("server ")]
    assert len(servers) == len(app_services())
    for words in servers:  # server NAME ADDRESS cookie VALUE
        assert words[3] == "cookie" and words[4] == words[1]
        assert preset(config, words[2].strip('"${}')).split(":")[0] in app_services()


def test_haproxy_health_checks_the_streamlit_endpoint():
    backend = haproxy_config()["backend replicas"]
    assert "option httpchk" in backend
    assert f"http-check send meth GET uri {HEALTH}" in backend
    assert "http-check expect status 200" in backend
    default_server = next(line.split() for line in backend if line.startswith("default-server"))
    assert "check" in default_server


def seconds(value: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", value).groups()
    return int(number) * {"ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1e-3}[unit]


def test_haproxy_keeps_idle_websockets_open_and_redispatches():
    defaults = haproxy_config()["defaults"]
    timeouts = {line.split()[1]: seconds(line.split()[2]) for line in defaults
                if line.startswith("timeout ")}
    assert timeouts["tunnel"] >= 3600  # an idle learner's websocket
    assert timeouts["client"] >= 30 and timeouts["server"] >= 30
    assert "mode http" in defaults
    assert "option redispatch" in defaults
