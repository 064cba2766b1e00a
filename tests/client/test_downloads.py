"""hubstead's `hf_hub_download` and `snapshot_download` against the live hub.

Files are put in place with the official client; what lands on disk is checked as a user would
see it (paths, bytes, the cache layout), online, offline and with the hub unreachable.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from huggingface_hub import CommitOperationAdd

from hubstead import errors
from hubstead.client.api import HfApi
from hubstead.client.downloads import hf_hub_download, snapshot_download
from tests.helpers.accounts import HubUser
from tests.helpers.commits import git_blob_sha1
from tests.helpers.lfs import sha256
from tests.helpers.live_server import LiveServer
from tests.helpers.proxy import RecordingProxy


def seed(user: HubUser, repo_id: str, files: dict[str, bytes], message: str = "seed") -> str:
    """Commit `files` with the official client; return the commit id."""
    operations = [CommitOperationAdd(path, content) for path, content in files.items()]
    return str(user.api.create_commit(repo_id, operations, commit_message=message).oid)


def repo_folder(cache: Path, repo_id: str, repo_type: str = "model") -> Path:
    return cache / f"{repo_type}s--{repo_id.replace('/', '--')}"


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- into the cache -----------------------------------------------------------------------------


def test_download_fills_the_cache_layout_with_a_relative_symlink(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    content = b'{"a": 1}'
    commit = seed(user, repo, {"sub/config.json": content})

    path = Path(client.hf_hub_download(repo, "sub/config.json", cache_dir=tmp_path))

    folder = repo_folder(tmp_path, repo)
    assert path == folder / "snapshots" / commit / "sub" / "config.json"
    assert path.read_bytes() == content
    assert os.readlink(path) == f"../../../blobs/{git_blob_sha1(content)}"
    assert (folder / "refs" / "main").read_text() == commit
    assert sorted(p.name for p in (folder / "blobs").iterdir()) == [git_blob_sha1(content)]


def test_lfs_file_is_stored_under_its_sha256(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    content = os.urandom(3000)
    commit = seed(user, repo, {"weights.bin": content})

    path = Path(client.hf_hub_download(repo, "weights.bin", cache_dir=tmp_path))

    assert path.read_bytes() == content
    assert path.resolve() == repo_folder(tmp_path, repo) / "blobs" / sha256(content)
    assert path.parent.name == commit


def test_module_function_takes_endpoint_token_and_subfolder(
    live_server: LiveServer, user: HubUser, repo_factory: Callable[..., str], tmp_path: Path
) -> None:
    private = repo_factory(private=True)
    seed(user, private, {"a/b/c.txt": b"deep"})

    path = hf_hub_download(
        private,
        "c.txt",
        subfolder="a/b",
        endpoint=live_server.url,
        token=user.token,
        cache_dir=tmp_path,
    )

    assert Path(path).read_bytes() == b"deep"
    assert path.endswith("/a/b/c.txt")


def test_tag_and_commit_revisions(client: HfApi, user: HubUser, repo: str, tmp_path: Path) -> None:
    first = seed(user, repo, {"v.txt": b"one"})
    user.api.create_tag(repo, tag="v1")
    second = seed(user, repo, {"v.txt": b"two"})

    tagged = Path(client.hf_hub_download(repo, "v.txt", revision="v1", cache_dir=tmp_path))
    pinned = Path(client.hf_hub_download(repo, "v.txt", revision=second, cache_dir=tmp_path))

    assert (tagged.read_bytes(), pinned.read_bytes()) == (b"one", b"two")
    refs = repo_folder(tmp_path, repo) / "refs"
    assert (refs / "v1").read_text() == first
    assert sorted(p.name for p in refs.iterdir()) == ["v1"]


def test_dataset_files_go_to_the_datasets_folder(
    client: HfApi, user: HubUser, repo_factory: Callable[..., str], tmp_path: Path
) -> None:
    dataset = repo_factory("dataset")
    user.api.upload_file(
        path_or_fileobj=b"x,y\n", path_in_repo="data.csv", repo_id=dataset, repo_type="dataset"
    )

    path = client.hf_hub_download(dataset, "data.csv", repo_type="dataset", cache_dir=tmp_path)

    assert Path(path).is_relative_to(repo_folder(tmp_path, dataset, "dataset"))


def test_missing_file_repo_and_revision_raise_hf_compatible_errors(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    seed(user, repo, {"a.txt": b"a"})

    with pytest.raises(errors.RemoteEntryNotFoundError) as missing:
        client.hf_hub_download(repo, "nope.txt", cache_dir=tmp_path)
    with pytest.raises(errors.RepositoryNotFoundError):
        client.hf_hub_download(f"{user.name}/no-such-repo", "a.txt", cache_dir=tmp_path)
    with pytest.raises(errors.RevisionNotFoundError):
        client.hf_hub_download(repo, "a.txt", revision="no-branch", cache_dir=tmp_path)

    assert missing.value.status_code == 404
    assert isinstance(missing.value, errors.EntryNotFoundError)


def test_a_hostile_filename_is_refused_before_any_request(client: HfApi, tmp_path: Path) -> None:
    with pytest.raises(errors.HFValidationError):
        client.hf_hub_download("a/b", "../../etc/passwd", cache_dir=tmp_path)


def test_force_download_fetches_again(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    seed(user, repo, {"a.txt": b"content"})
    path = Path(client.hf_hub_download(repo, "a.txt", cache_dir=tmp_path))
    path.resolve().write_bytes(b"tampered")

    again = Path(client.hf_hub_download(repo, "a.txt", cache_dir=tmp_path, force_download=True))

    assert again == path
    assert again.read_bytes() == b"content"


# --- without the hub ----------------------------------------------------------------------------


def test_offline_serves_the_commit_a_branch_pointed_to_when_cached(
    live_server: LiveServer,
    client: HfApi,
    user: HubUser,
    repo: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(user, repo, {"a.txt": b"old"})
    cached = client.hf_hub_download(repo, "a.txt", cache_dir=tmp_path)
    seed(user, repo, {"a.txt": b"new"})

    local = client.hf_hub_download(repo, "a.txt", cache_dir=tmp_path, local_files_only=True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with HfApi(endpoint=live_server.url, token=user.token) as offline:
        by_env = offline.hf_hub_download(repo, "a.txt", cache_dir=tmp_path)
        with pytest.raises(errors.LocalEntryNotFoundError):
            offline.hf_hub_download(repo, "other.txt", cache_dir=tmp_path)

    assert local == by_env == cached
    assert Path(local).read_bytes() == b"old"


def test_local_files_only_without_a_cached_copy_raises_local_entry_not_found(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    seed(user, repo, {"a.txt": b"a"})

    with pytest.raises(errors.LocalEntryNotFoundError) as caught:
        client.hf_hub_download(repo, "a.txt", cache_dir=tmp_path, local_files_only=True)

    assert isinstance(caught.value, FileNotFoundError)
    assert not repo_folder(tmp_path, repo).exists()


def test_unreachable_hub_falls_back_to_the_cached_copy_at_once(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    seed(user, repo, {"a.txt": b"cached"})
    cached = client.hf_hub_download(repo, "a.txt", cache_dir=tmp_path)
    down = closed_port_url()

    started = time.monotonic()
    path = hf_hub_download(repo, "a.txt", endpoint=down, token=False, cache_dir=tmp_path)
    elapsed = time.monotonic() - started

    assert path == cached
    assert elapsed < 2
    # With nothing cached the lookup is retried (here: not at all) before giving up.
    with (
        HfApi(endpoint=down, token=False, max_retries=0) as api,
        pytest.raises(errors.LocalEntryNotFoundError),
    ):
        api.hf_hub_download(repo, "b.txt", cache_dir=tmp_path)


def test_force_download_without_the_hub_is_an_error(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    seed(user, repo, {"a.txt": b"a"})
    client.hf_hub_download(repo, "a.txt", cache_dir=tmp_path)

    with pytest.raises(ValueError, match="local_files_only"):
        client.hf_hub_download(
            repo, "a.txt", cache_dir=tmp_path, local_files_only=True, force_download=True
        )


# --- local dir ----------------------------------------------------------------------------------


def test_local_dir_gets_the_file_and_the_download_metadata(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    commit = seed(user, repo, {"sub/a.txt": b"hello"})
    target = tmp_path / "out"

    path = Path(client.hf_hub_download(repo, "sub/a.txt", local_dir=target))

    assert path == target / "sub" / "a.txt"
    assert path.read_bytes() == b"hello"
    assert not path.is_symlink()
    metadata = target / ".cache" / "huggingface" / "download" / "sub" / "a.txt.metadata"
    recorded_commit, etag, stamp = metadata.read_text().splitlines()
    assert (recorded_commit, etag) == (commit, git_blob_sha1(b"hello"))
    assert float(stamp) >= path.stat().st_mtime - 1
    assert (target / ".cache" / "huggingface" / ".gitignore").read_text() == "*"


def test_local_dir_is_updated_when_the_file_changes_upstream(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    seed(user, repo, {"a.txt": b"v1"})
    path = Path(client.hf_hub_download(repo, "a.txt", local_dir=tmp_path))
    stamp = path.stat().st_mtime_ns
    client.hf_hub_download(repo, "a.txt", local_dir=tmp_path)
    unchanged = path.stat().st_mtime_ns
    seed(user, repo, {"a.txt": b"v2"})

    updated = Path(client.hf_hub_download(repo, "a.txt", local_dir=tmp_path))

    assert unchanged == stamp
    assert updated == path
    assert updated.read_bytes() == b"v2"


def test_local_dir_copies_from_the_cache_when_the_file_is_there(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    seed(user, repo, {"a.bin": os.urandom(2000)})
    cached = Path(client.hf_hub_download(repo, "a.bin", cache_dir=tmp_path / "cache"))

    path = Path(
        client.hf_hub_download(
            repo, "a.bin", cache_dir=tmp_path / "cache", local_dir=tmp_path / "out"
        )
    )

    assert path.read_bytes() == cached.read_bytes()
    assert not path.is_symlink()


# --- snapshots ----------------------------------------------------------------------------------


def test_snapshot_download_honours_allow_and_ignore_patterns(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    files = {
        "config.json": b"{}",
        "model.bin": os.urandom(1000),
        "docs/readme.md": b"# docs",
        "docs/extra.json": b"[]",
    }
    commit = seed(user, repo, files)

    folder = Path(
        client.snapshot_download(
            repo, cache_dir=tmp_path, allow_patterns=["*.json", "*.bin"], ignore_patterns="docs/"
        )
    )

    assert folder == repo_folder(tmp_path, repo) / "snapshots" / commit
    found = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert found == ["config.json", "model.bin"]
    assert (folder / "model.bin").read_bytes() == files["model.bin"]
    assert (repo_folder(tmp_path, repo) / "refs" / "main").read_text() == commit


def test_snapshot_to_local_dir_and_module_function(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    files = {f"f{i}.txt": f"file {i}".encode() for i in range(12)}
    seed(user, repo, files)

    folder = snapshot_download(
        repo, local_dir=tmp_path, endpoint=live_server.url, token=user.token, max_workers=4
    )

    assert folder == str(tmp_path)
    assert {name: (tmp_path / name).read_bytes() for name in files} == files


def test_offline_snapshot_serves_the_cached_snapshot_of_a_branch(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    seed(user, repo, {"a.txt": b"a", "b.txt": b"b"})
    online = client.snapshot_download(repo, cache_dir=tmp_path)
    seed(user, repo, {"c.txt": b"c"})

    offline = client.snapshot_download(repo, cache_dir=tmp_path, local_files_only=True)
    with pytest.raises(errors.LocalEntryNotFoundError):
        client.snapshot_download(repo, revision="other", cache_dir=tmp_path, local_files_only=True)
    started = time.monotonic()
    down = snapshot_download(repo, endpoint=closed_port_url(), token=False, cache_dir=tmp_path)
    assert time.monotonic() - started < 2

    assert offline == online == down


def test_snapshot_listing_is_retried_when_nothing_is_cached(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    seed(user, repo, {"a.txt": b"a"})
    proxy = RecordingProxy(live_server.port)
    proxy.drop("GET", "/revision/")
    try:
        with HfApi(endpoint=proxy.url, token=user.token, trust_env=False) as api:
            folder = Path(api.snapshot_download(repo, cache_dir=tmp_path, progress=False))
    finally:
        proxy.close()

    assert (folder / "a.txt").read_bytes() == b"a"
    assert [s.dropped for s in proxy.seen if "/revision/" in s.path] == [True, False]


def test_snapshot_of_a_missing_repo_raises_repository_not_found(
    client: HfApi, user: HubUser, tmp_path: Path
) -> None:
    with pytest.raises(errors.RepositoryNotFoundError):
        client.snapshot_download(f"{user.name}/missing-repo", cache_dir=tmp_path)


# --- several downloaders ------------------------------------------------------------------------


def test_threads_downloading_the_same_file_share_one_blob(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    content = os.urandom(6 * 1024 * 1024)
    seed(user, repo, {"shared.bin": content})
    results: list[str] = []
    failures: list[BaseException] = []

    def download() -> None:
        try:
            with HfApi(endpoint=live_server.url, token=user.token, trust_env=False) as api:
                results.append(api.hf_hub_download(repo, "shared.bin", cache_dir=tmp_path))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=download) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert len(set(results)) == 1
    assert Path(results[0]).read_bytes() == content
    assert [p.name for p in (repo_folder(tmp_path, repo) / "blobs").iterdir()] == [sha256(content)]


DOWNLOAD_IN_A_PROCESS = """
import sys
from hubstead.client.downloads import hf_hub_download
print(hf_hub_download(sys.argv[1], sys.argv[2], endpoint=sys.argv[3], token=sys.argv[4],
                      cache_dir=sys.argv[5], connections=2, chunk_size=1024 * 1024))
"""


def test_processes_downloading_the_same_file_share_one_blob(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    content = os.urandom(8 * 1024 * 1024)
    seed(user, repo, {"shared.bin": content})
    arguments = [repo, "shared.bin", live_server.url, user.token, str(tmp_path)]

    processes = [
        subprocess.Popen(
            [sys.executable, "-c", DOWNLOAD_IN_A_PROCESS, *arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]

    assert [p.returncode for p in processes] == [0, 0], [err for _, err in outputs]
    assert len({out.strip() for out, _ in outputs}) == 1
    blobs = repo_folder(tmp_path, repo) / "blobs"
    assert [p.name for p in blobs.iterdir()] == [sha256(content)]
    assert Path(outputs[0][0].strip()).read_bytes() == content


# --- progress bars ------------------------------------------------------------------------------


def test_progress_bars_are_drawn_on_request_and_off_otherwise(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(user, repo, {"a.bin": os.urandom(100_000), "b.bin": os.urandom(100_000)})

    client.hf_hub_download(repo, "a.bin", cache_dir=tmp_path / "quiet")
    client.snapshot_download(repo, cache_dir=tmp_path / "quiet")
    quiet = capsys.readouterr().err
    client.hf_hub_download(repo, "a.bin", cache_dir=tmp_path / "shown", progress=True)
    single = capsys.readouterr().err
    client.snapshot_download(repo, cache_dir=tmp_path / "shown", progress=True)
    snapshot = capsys.readouterr().err

    assert quiet == ""  # stderr is not a terminal here (and the tests disable bars by env)
    assert "a.bin" in single
    assert "Fetching 3 files (3 done)" in snapshot
