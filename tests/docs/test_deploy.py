"""The deployment files of deploy/, checked the way an administrator installs and runs them.

- The systemd units pass `systemd-analyze verify` (unknown keys and sections, bad values, a
  command that is not executable, a timer without its service), with their command pointed at
  the `hubstead` of the package under test.
- The units that run Space apps (the server's and the workers') give the hubstead user exactly
  the local runner's capabilities (tests/spaces/test_capabilities.py runs a hub so); the others
  none.
- The example `hubstead.toml` loads with the real settings loader, with `hubstead.env` as its
  environment; every key in it, commented-out ones included, is a setting.
- The production profile runs from them: the PostgreSQL database, an S3 bucket (moto) and Redis
  are filled into `hubstead.toml` and `hubstead.env`, and each unit's `ExecStart` command line
  runs with the unit's own environment (`serve --workers 4`, a worker, `gc`, `fsck`), behind
  nginx running deploy/nginx/hubstead.conf with a self-signed certificate. The unmodified
  huggingface_hub client, trusting that certificate as a user's private CA would be trusted
  (`SSL_CERT_FILE`), uploads and downloads through TLS.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import ssl
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from hubstead.server.settings import Settings, load_settings
from hubstead.server.spaces.processes import CAPABILITIES
from tests.helpers.databases import postgres_database
from tests.helpers.git import GitUser, repo_url
from tests.helpers.nginx import Nginx, nginx_binary, substitute
from tests.helpers.processes import HubsteadProcess
from tests.helpers.redis import drop_queue, redis_url
from tests.helpers.s3 import REGION, MotoS3

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = sorted(
    path for path in DEPLOY.iterdir() if path.suffix in (".service", ".timer", ".target")
)
INSTALLED_HUBSTEAD = "/opt/hubstead/venv/bin/hubstead"
INSTALLED_CONFIG = "/etc/hubstead/hubstead.toml"
INSTALLED_ENV = "/etc/hubstead/hubstead.env"
# The units whose processes build and run Space apps (a build job starts its app).
SPACE_RUNNERS = ("hubstead.service", "hubstead-worker@.service")
# A commented-out setting in hubstead.toml: `# key = value`.
COMMENTED_SETTING = re.compile(r"^#\s*([a-z_]+) = ", re.MULTILINE)


@dataclass(frozen=True)
class Unit:
    """The parts of a service unit that decide how its command runs."""

    exec_start: list[str]
    environment: dict[str, str]
    environment_file: str


def unit_values(path: Path) -> dict[str, list[str]]:
    """Each key of a unit file, with its values in order."""
    values: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            values.setdefault(key, []).append(value)
    return values


def read_unit(path: Path) -> Unit:
    """The `ExecStart`, `Environment` and `EnvironmentFile` of a service unit (one of each)."""
    values = unit_values(path)
    assert len(values["ExecStart"]) == 1 and len(values["EnvironmentFile"]) == 1, path
    return Unit(
        exec_start=shlex.split(values["ExecStart"][0]),
        environment=dict(v.split("=", 1) for v in values.get("Environment", [])),
        environment_file=values["EnvironmentFile"][0],
    )


def read_env_file(text: str) -> dict[str, str]:
    """The variables an `EnvironmentFile` sets (KEY=value lines; # comments)."""
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def _installed_units(directory: Path) -> None:
    """The units in `directory`, running the `hubstead` of the package under test."""
    hubstead = Path(sys.executable).with_name("hubstead")
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8").replace(INSTALLED_HUBSTEAD, str(hubstead))
        (directory / unit.name).write_text(text, encoding="utf-8")


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None, "systemd-analyze is missing: scripts/test-services installs it"
    _installed_units(tmp_path)
    # A template is checked through an instance, as the target starts it.
    names = [unit.name for unit in UNITS] + ["hubstead-worker@1.service"]
    result = subprocess.run(
        [analyze, "verify", "--man=no", *(f"./{name}" for name in names)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_the_services_are_hardened(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None, "systemd-analyze is missing: scripts/test-services installs it"
    _installed_units(tmp_path)
    services = [
        u.name for u in UNITS if u.suffix == ".service" and not u.name.endswith("@.service")
    ]
    for name in [*services, "hubstead-worker@1.service"]:
        # Exposure on systemd's scale from 0 (locked down) to 10, in tenths: the units are at
        # 1.7, those that run Space apps at 2.7 (their capabilities, /proc not hidden).
        threshold = 30 if name in ("hubstead.service", "hubstead-worker@1.service") else 20
        result = subprocess.run(
            [
                analyze,
                "security",
                "--offline=yes",
                f"--threshold={threshold}",
                "--no-pager",
                f"./{name}",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout


def test_the_units_that_run_space_apps_have_the_runners_capabilities_and_no_more() -> None:
    for path in (unit for unit in UNITS if unit.suffix == ".service"):
        values = unit_values(path)
        if path.name in SPACE_RUNNERS:
            assert values["AmbientCapabilities"] == [" ".join(CAPABILITIES)], path.name
            assert values["CapabilityBoundingSet"] == [" ".join(CAPABILITIES)], path.name
            # The runner finds the processes of an app's user in /proc.
            assert "ProtectProc" not in values, path.name
        else:
            assert "AmbientCapabilities" not in values, path.name
            assert values["CapabilityBoundingSet"] == [""], path.name
        assert values["NoNewPrivileges"] == ["yes"], path.name
        # Every command opens the runner's dir (`<data_dir>-spaces`) beside the data dir.
        assert values["StateDirectory"] == ["hubstead hubstead-spaces"], path.name


def test_every_service_runs_a_hubstead_command_with_the_shared_files() -> None:
    services = [unit for unit in UNITS if unit.suffix == ".service"]
    commands = {}
    for path in services:
        unit = read_unit(path)
        assert unit.exec_start[0] == INSTALLED_HUBSTEAD
        assert unit.environment == {"HUBSTEAD_CONFIG": INSTALLED_CONFIG}
        assert unit.environment_file == INSTALLED_ENV
        commands[path.name] = unit.exec_start[1:]
    assert commands == {
        "hubstead.service": ["serve", "--workers", "4"],
        "hubstead-worker@.service": ["worker"],
        "hubstead-gc.service": ["gc"],
        "hubstead-fsck.service": ["fsck"],
    }


def test_the_example_settings_load_with_the_real_loader(tmp_path: Path) -> None:
    text = (DEPLOY / "hubstead.toml").read_text(encoding="utf-8")
    env_text = (DEPLOY / "hubstead.env").read_text(encoding="utf-8")
    environ = read_env_file(env_text)
    # Only the data dir moves: /var/lib/hubstead need not be writable where the tests run.
    settings = load_settings(
        {"data_dir": tmp_path}, config_file=DEPLOY / "hubstead.toml", environ=environ
    )
    assert settings.blob_backend == "s3"
    assert settings.redis_url is not None
    assert settings.database_url == environ["HUBSTEAD_DATABASE_URL"]
    assert tomllib.loads(text)["data_dir"] == "/var/lib/hubstead"
    fields = set(Settings.__dataclass_fields__)
    assert set(COMMENTED_SETTING.findall(text)) <= fields
    variables = re.findall(r"^#? *HUBSTEAD_([A-Z_]+)=", env_text, re.MULTILINE)
    assert variables and {name.lower() for name in variables} <= fields


@dataclass
class Site:
    """The production profile running from deploy/, behind nginx with TLS."""

    url: str  # nginx's
    directory: Path  # the installed files, nginx's plain HTTP socket
    token: str  # the admin token `serve` printed
    ca_file: Path  # the self-signed certificate, as clients trust it
    environ: dict[str, str]  # what the units' processes run with


def _installed_files(directory: Path, database_url: str, s3: MotoS3, bucket: str) -> Path:
    """hubstead.toml and hubstead.env with this machine's services filled in; the toml's path."""
    toml = substitute(
        (DEPLOY / "hubstead.toml").read_text(encoding="utf-8"),
        {
            'data_dir = "/var/lib/hubstead"': f'data_dir = "{directory / "data"}"',
            "port = 8080": "port = 0",
            'bucket = "hubstead-blobs"': f'bucket = "{bucket}"',
            's3_region = "eu-central-1"': f's3_region = "{REGION}"',
            '# s3_endpoint_url = "https://minio.example.com"': (
                f's3_endpoint_url = "{s3.endpoint_url}" #'
            ),
        },
    )
    env = (DEPLOY / "hubstead.env").read_text(encoding="utf-8")
    variables = read_env_file(env)
    for key, value in {"HUBSTEAD_DATABASE_URL": database_url, **s3.aws_environ()}.items():
        if key in variables:
            env = substitute(env, {f"{key}={variables[key]}": f"{key}={value}"})
        else:
            env += f"{key}={value}\n"
    (directory / "hubstead.env").write_text(env, encoding="utf-8")
    (directory / "hubstead.toml").write_text(toml, encoding="utf-8")
    return directory / "hubstead.toml"


def _unit_environ(directory: Path, unit: Unit, queue: str) -> dict[str, str]:
    """The environment systemd gives the unit's command, with the files installed here."""
    environ = read_env_file((directory / "hubstead.env").read_text(encoding="utf-8"))
    environ.update(unit.environment)
    environ["HUBSTEAD_CONFIG"] = str(directory / "hubstead.toml")
    # Redis is shared with other tests: this profile's jobs get a queue of their own.
    environ["HUBSTEAD_REDIS_QUEUE"] = queue
    return environ


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1",
         "-addext", "basicConstraints=critical,CA:FALSE"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _run_unit(name: str, environ: dict[str, str]) -> HubsteadProcess:
    """The unit's `ExecStart`, with the package under test as `hubstead`."""
    command = read_unit(DEPLOY / name).exec_start
    return HubsteadProcess(*command[1:], env=environ)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, moto_s3: MotoS3) -> Iterator[Site]:
    nginx_binary()
    directory = tmp_path_factory.mktemp("deploy")
    redis_url()  # the example's redis_url is this machine's Redis; started if down
    queue = f"hubstead-deploy-{uuid.uuid4().hex[:8]}"
    with postgres_database() as database_url:
        _installed_files(directory, database_url, moto_s3, moto_s3.new_bucket())
        environ = _unit_environ(directory, read_unit(DEPLOY / "hubstead.service"), queue)
        server = _run_unit("hubstead.service", environ)
        try:
            hub_url = server.wait_until_serving()
            token = server.exported("HF_TOKEN")
            assert token is not None
            cert, key = _self_signed_certificate(directory)
            config = (DEPLOY / "nginx" / "hubstead.conf").read_text(encoding="utf-8")
            proxy = Nginx(
                directory / "nginx",
                lambda port: substitute(
                    config,
                    {
                        "server 127.0.0.1:8080;": f"server {hub_url.removeprefix('http://')};",
                        "listen 80;": f"listen unix:{directory}/nginx-http.sock;",
                        "listen 443 ssl;": f"listen 127.0.0.1:{port} ssl;",
                        "/etc/letsencrypt/live/hub.example.com/fullchain.pem": str(cert),
                        "/etc/letsencrypt/live/hub.example.com/privkey.pem": str(key),
                    },
                ),
                scheme="https",
            ).start()
            try:
                yield Site(proxy.url, directory, token, cert, environ)
            finally:
                proxy.stop()
        finally:
            assert server.stop() == 0, server.stderr
            drop_queue(queue)


CLIENT = """
import pathlib, sys
from huggingface_hub import HfApi, hf_hub_download

work = pathlib.Path(sys.argv[1])
api = HfApi()
repo = api.create_repo("deployed").repo_id
api.upload_file(path_or_fileobj=work / "weights.bin", path_in_repo="weights.bin", repo_id=repo)
api.upload_file(path_or_fileobj=b"# deployed", path_in_repo="README.md", repo_id=repo)
for name in ("weights.bin", "README.md"):
    got = hf_hub_download(repo, name, cache_dir=work / "cache")
    print(name, pathlib.Path(got).read_bytes() == (work / name).read_bytes())
print("files", sorted(api.list_repo_files(repo)))
"""


@pytest.mark.slow
@pytest.mark.postgres
def test_huggingface_hub_uploads_and_downloads_through_nginx_with_tls(
    site: Site, tmp_path: Path
) -> None:
    (tmp_path / "weights.bin").write_bytes(os.urandom(12 * 1024 * 1024))  # over the LFS threshold
    (tmp_path / "README.md").write_bytes(b"# deployed")
    result = subprocess.run(
        [sys.executable, "-c", CLIENT, str(tmp_path)],
        # The client as a user runs it (the suite's HF_* variables turn Xet and implicit tokens
        # off): Xet on, HF_TOKEN sent, the site's certificate trusted like a private CA.
        env={
            **{key: value for key, value in os.environ.items() if not key.startswith("HF_")},
            "HF_ENDPOINT": site.url,
            "HF_TOKEN": site.token,
            "HF_HOME": str(tmp_path / "hf-home"),
            "HF_XET_CACHE": str(tmp_path / "xet-cache"),
            "SSL_CERT_FILE": str(site.ca_file),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "weights.bin True",
        "README.md True",
        "files ['.gitattributes', 'README.md', 'weights.bin']",
    ]


@pytest.mark.slow
@pytest.mark.postgres
def test_git_clones_and_pushes_through_nginx_with_tls(site: Site, tmp_path: Path) -> None:
    with httpx.Client(verify=ssl.create_default_context(cafile=site.ca_file)) as client:
        created = client.post(
            f"{site.url}/api/repos/create",
            json={"name": "pushed", "type": "model"},
            headers={"Authorization": f"Bearer {site.token}"},
        )
    assert created.status_code == 200, created.text
    git = GitUser(tmp_path / "home")
    trust = {"GIT_SSL_CAINFO": str(site.ca_file)}
    url = repo_url(site.url, "admin/pushed", token=site.token)
    checkout = tmp_path / "checkout"
    git.run("clone", url, str(checkout), env=trust)
    # Larger than git's http.postBuffer (1 MiB): the push body is sent chunked.
    content = os.urandom(3 * 1024 * 1024)
    commit = git.commit_file(checkout, "data.bin", content, "add data")
    git.run("push", "origin", "HEAD:main", cwd=checkout, env=trust)
    again = tmp_path / "again"
    git.run("clone", url, str(again), env=trust)
    assert git.head(again) == commit
    assert (again / "data.bin").read_bytes() == content


@pytest.mark.slow
@pytest.mark.postgres
def test_plain_http_is_redirected_to_https(site: Site) -> None:
    socket = site.directory / "nginx-http.sock"
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(socket))) as client:
        response = client.get("http://hub.example.com/api/models?search=x")
    assert response.status_code == 301
    assert response.headers["location"] == "https://hub.example.com/api/models?search=x"


@pytest.mark.slow
@pytest.mark.postgres
def test_a_worker_unit_takes_jobs_from_the_redis_queue_and_stops_cleanly(site: Site) -> None:
    worker = _run_unit("hubstead-worker@.service", site.environ)
    worker.wait_for(r"^hubstead worker on .*: jobs from the Redis queue 'hubstead-deploy-")
    assert worker.stop() == 0, worker.stderr


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("unit", ["hubstead-gc.service", "hubstead-fsck.service"])
def test_the_timer_services_run_and_succeed_beside_the_server(site: Site, unit: str) -> None:
    process = _run_unit(unit, site.environ)
    process.process.wait(timeout=300)
    assert process.stop() == 0, process.stderr
