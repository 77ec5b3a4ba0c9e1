"""docker-compose.yml and the Dockerfile agree with the settings and with each other.

There is no Docker engine where the tests run, so the compose file is read as YAML (with compose's
`${VAR:-default}` substitution) and the app's own settings are loaded, in a fresh process, from
the environment compose gives the web and worker containers.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.urls import resolve

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "web", "worker")
_SUBSTITUTION = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def resolved(value):
    """Compose's interpolation with nothing set in the environment: every ${VAR:-default} is its default."""
    if isinstance(value, str):
        return _SUBSTITUTION.sub(lambda match: match.group(2) or "", value).replace("$$", "$")
    if isinstance(value, list):
        return [resolved(item) for item in value]
    if isinstance(value, dict):
        return {key: resolved(item) for key, item in value.items()}
    return value


@pytest.fixture(scope="module")
def services() -> dict:
    return resolved(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))["services"]


@pytest.fixture(scope="module")
def app_settings(services, tmp_path_factory) -> dict:
    """The settings a web container computes from its compose environment (production settings module)."""
    scratch = tmp_path_factory.mktemp("compose-app")
    env = {
        "PATH": os.environ.get("PATH", ""), "HOME": str(scratch),
        **{key: str(value) for key, value in services["web"]["environment"].items()},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # Paths inside the container; this process must not create them on the test machine.
        "VAR_DIR": str(scratch / "var"), "PROMETHEUS_MULTIPROC_DIR": str(scratch / "metrics"),
    }
    script = """
import json, django
django.setup()
from django.conf import settings
from django.core.files.storage import default_storage
db = settings.DATABASES["default"]
print(json.dumps({
    "db": [db["HOST"], db["PORT"], db["NAME"], db["USER"], db["PASSWORD"]],
    "cache": settings.CACHES["default"]["LOCATION"], "broker": settings.Q_CLUSTER.get("redis"),
    "storage": default_storage.__class__.__name__,
    "bucket": default_storage.bucket_name, "endpoint": default_storage.endpoint_url,
    "access_key": default_storage.access_key, "secret_key": default_storage.secret_key,
    "public_endpoint": settings.AWS_S3_PUBLIC_ENDPOINT_URL, "scratch": str(settings.SCRATCH_DIR),
}))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def dockerfile_cmd() -> list[str]:
    line = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    return json.loads(line.removeprefix("CMD "))


def test_compose_runs_the_stores_a_one_off_migrate_the_web_and_the_worker(services):
    assert {"postgres", "redis", "s3", "s3-init", "migrate", "web", "worker"} <= set(services)
    assert services["web"]["command"] == dockerfile_cmd()
    assert services["web"]["command"][:4] == ["gunicorn", "config.asgi:application", "--worker-class",
                                              "uvicorn_worker.UvicornWorker"]
    assert services["worker"]["command"] == ["python", "manage.py", "qcluster"]
    migrate = " ".join(services["migrate"]["command"])
    assert "manage.py migrate --noinput" in migrate and "manage.py reset_metrics" in migrate
    assert services["migrate"]["restart"] == services["s3-init"]["restart"] == "no"


def test_web_and_workers_start_after_migrate_and_the_bucket_exist(services):
    for name in ("web", "worker"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"},
            "s3-init": {"condition": "service_completed_successfully"},
        }
    assert services["migrate"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"}, "redis": {"condition": "service_healthy"}}
    assert services["s3-init"]["depends_on"] == {"s3": {"condition": "service_healthy"}}


def test_the_stores_and_the_web_have_healthchecks(services):
    for name in ("postgres", "redis", "s3", "web"):
        assert services[name]["healthcheck"]["test"], name
    probe = " ".join(services["web"]["healthcheck"]["test"])
    path = urlsplit(re.search(r"http://[^'\"]+", probe).group(0)).path
    assert resolve(path).url_name == "readyz"


def test_every_app_container_gets_the_same_environment(services):
    environments = [services[name]["environment"] for name in APP_SERVICES]
    assert environments[0] == environments[1] == environments[2]
    assert "VIDEO_STORAGE_PATH" not in environments[0]  # media live in the bucket only


def test_the_compose_environment_points_the_app_at_postgres_redis_and_the_bucket(services, app_settings):
    postgres = services["postgres"]["environment"]
    assert app_settings["db"] == ["postgres", 5432, postgres["POSTGRES_DB"], postgres["POSTGRES_USER"],
                                  postgres["POSTGRES_PASSWORD"]]
    assert urlsplit(app_settings["cache"]).hostname == "redis"
    assert app_settings["broker"] == app_settings["cache"]
    assert app_settings["storage"] == "S3Storage"
    endpoint = urlsplit(app_settings["endpoint"])
    assert endpoint.hostname == "s3"
    assert f"{endpoint.port}:{endpoint.port}" in services["s3"]["ports"][0]
    assert urlsplit(app_settings["public_endpoint"]).port == endpoint.port  # the published port
    minio = services["s3"]["environment"]
    assert app_settings["access_key"] == minio["MINIO_ROOT_USER"]
    assert app_settings["secret_key"] == minio["MINIO_ROOT_PASSWORD"]
    creation = " ".join(services["s3-init"]["command"])
    assert f"mc mb --ignore-existing media/{app_settings['bucket']}" in creation
    assert "http://s3:9000" in creation


def test_every_variable_compose_sets_is_read_by_the_app(services):
    import storages.backends.s3

    readers = (ROOT / "config/settings.py").read_text() + Path(storages.backends.s3.__file__).read_text()
    unread = [name for name in services["web"]["environment"] if f'"{name}"' not in readers]
    assert unread == []


def test_app_containers_share_only_the_metrics_volume(services, app_settings):
    metrics_dir = services["web"]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    for name in APP_SERVICES:
        assert services[name]["volumes"] == [f"metrics:{metrics_dir}"], name
    scratch = services["web"]["environment"]["SCRATCH_DIR"]
    assert not scratch.startswith(metrics_dir)  # scratch stays on each container's own disk
    assert scratch.startswith("/app/var/")  # created and owned by the app user in the Dockerfile


def test_the_dockerfile_uses_only_files_of_the_repository():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "../" not in dockerfile
    for line in dockerfile.splitlines():
        if line.split(" ", 1)[0] in ("COPY", "ADD"):
            sources = [part for part in line.split()[1:-1] if not part.startswith("--")]
            for source in sources:
                assert not source.startswith("/") and (ROOT / source).exists(), line
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert not {"requirements.txt", "manage.py", "config", "videogen"} & set(ignored)
    assert "mkdir -p /app/var/media /app/var/work /app/var/prometheus" in dockerfile
