"""The shortest path a new user takes: create a repo, upload a file, download it."""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import hf_hub_download

from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer


def test_upload_then_download_round_trips(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    user.api.upload_file(path_or_fileobj=b"hello world", path_in_repo="notes.txt", repo_id=repo)
    path = hf_hub_download(
        repo, "notes.txt", endpoint=live_server.url, token=user.token, cache_dir=tmp_path
    )
    assert Path(path).read_bytes() == b"hello world"
