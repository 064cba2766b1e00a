"""The package as a user installs it: in fresh virtual environments, with only what it declares.

Each environment gets the project's wheel and the dependencies pip resolves for it from the
package registry, and nothing of the test environment: the `[server]` extra must run the hub the
official client uploads to and downloads from; the bare package must give the client library and
the user CLI, and name the extra its server commands need instead of printing a traceback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.hf_api import RepoFile

from tests.helpers.accounts import unique_name
from tests.helpers.processes import HubsteadProcess, serving

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _run(*command: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload,no-any-return]
        [str(part) for part in command], capture_output=True, text=True, timeout=600, **kwargs
    )


def _checked(*command: str | Path) -> str:
    result = _run(*command)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from this checkout as pip builds it for a user."""
    out = tmp_path_factory.mktemp("wheel")
    _checked(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, ROOT)
    (built,) = out.glob("hubstead-*.whl")
    return built


def _venv(path: Path, requirement: str) -> Path:
    """A new venv at `path` with `requirement` installed; its bin directory."""
    _checked(sys.executable, "-m", "venv", path)
    # A venv's own environment: nothing of the test run's packages leaks in through PYTHONPATH.
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = _run(path / "bin" / "pip", "install", "-q", requirement, env=environment)
    assert result.returncode == 0, result.stderr
    return path / "bin"


@pytest.fixture(scope="module")
def server_bin(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _venv(tmp_path_factory.mktemp("server-venv"), f"hubstead[server] @ {wheel.as_uri()}")


@pytest.fixture(scope="module")
def bare_bin(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _venv(tmp_path_factory.mktemp("bare-venv"), f"hubstead @ {wheel.as_uri()}")


@pytest.fixture(scope="module")
def clean_hub(server_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HfApi]:
    """`hubstead serve` from the server venv on a fresh data dir, and an admin client for it."""
    data_dir = tmp_path_factory.mktemp("clean-hub")
    hubstead = [str(server_bin / "hubstead")]
    with serving(["--port", "0", "--data-dir", str(data_dir)], command=hubstead) as server:
        url = server.wait_until_serving()
        token = server.exported("HF_TOKEN")
        assert token is not None, server.stderr
        yield HfApi(endpoint=url, token=token)
        assert "Traceback" not in server.stderr, server.stderr


def test_the_server_extra_alone_runs_a_hub_the_official_client_uploads_to_and_downloads_from(
    server_bin: Path, clean_hub: HfApi, tmp_path: Path
) -> None:
    # Nothing from the development install is there (the `dev` extra once hid a missing import).
    assert _run(server_bin / "python", "-c", "import mypy").returncode != 0
    repo_id = f"admin/{unique_name('clean')}"
    clean_hub.create_repo(repo_id)
    weights = os.urandom(3 * 1024 * 1024)
    clean_hub.upload_file(path_or_fileobj=b"# Model\n", path_in_repo="README.md", repo_id=repo_id)
    clean_hub.upload_file(path_or_fileobj=weights, path_in_repo="model.bin", repo_id=repo_id)

    endpoint, token = clean_hub.endpoint, clean_hub.token
    for name, content in (("README.md", b"# Model\n"), ("model.bin", weights)):
        path = hf_hub_download(
            repo_id, name, endpoint=endpoint, token=token, cache_dir=tmp_path / "cache"
        )
        assert Path(path).read_bytes() == content
    (model_bin,) = clean_hub.get_paths_info(repo_id, ["model.bin"])
    assert isinstance(model_bin, RepoFile)
    assert model_bin.lfs is not None  # stored as an LFS object, as the Hub would


def test_the_bare_package_gives_the_client_and_the_cli_and_names_the_server_extra(
    bare_bin: Path, clean_hub: HfApi, tmp_path: Path
) -> None:
    repo_id = f"admin/{unique_name('bare')}"
    clean_hub.create_repo(repo_id)
    clean_hub.upload_file(path_or_fileobj=b"hello\n", path_in_repo="a.txt", repo_id=repo_id)

    assert "serve" in _checked(bare_bin / "hubstead", "--help")
    script = (
        "import sys; from hubstead import HfApi, hf_hub_download\n"
        "api = HfApi(endpoint=sys.argv[1], token=sys.argv[2])\n"
        "print(api.model_info(sys.argv[3]).sha)\n"
        "path = hf_hub_download(sys.argv[3], 'a.txt', endpoint=sys.argv[1], token=sys.argv[2],"
        " cache_dir=sys.argv[4])\n"
        "print(open(path).read(), end='')\n"
    )
    token = str(clean_hub.token)
    out = _checked(bare_bin / "python", "-c", script, clean_hub.endpoint, token, repo_id, tmp_path)
    sha, content = out.splitlines()
    assert sha == clean_hub.model_info(repo_id).sha
    assert content == "hello"

    for command in (["serve", "--data-dir", str(tmp_path / "d")], ["fsck", "--data-dir", "x"]):
        process = HubsteadProcess(*command, command=[str(bare_bin / "hubstead")])
        code = process.process.wait(timeout=120)
        process.stop()
        assert code == 1, process.stderr
        assert "pip install 'hubstead[server]'" in process.stderr
        assert "Traceback" not in process.stderr


def test_the_readmes_serve_command_installs_into_a_fresh_venv_and_serves(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _checked(sys.executable, "-m", "venv", venv)
    environment = {
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
        "PYTHONPATH": "",
    }
    data_dir = str(tmp_path / "data")
    server = HubsteadProcess(
        "--port",
        "0",
        "--data-dir",
        data_dir,
        env=environment,
        command=[str(ROOT / "scripts/serve")],
    )
    try:
        url = server.wait_until_serving(timeout=600)
        token = server.exported("HF_TOKEN")
        assert HfApi(endpoint=url, token=token).whoami()["name"] == "admin"
    finally:
        server.stop(signal.SIGKILL)
    assert (venv / "bin" / "hubstead").exists()
