"""Raw-HTTP commit helpers: NDJSON bodies as `huggingface_hub` builds them, and branch heads."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import httpx


def git_blob_sha1(content: bytes) -> str:
    """The git blob id of `content` (the Hub's ETag and `oid` of a regular file)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def ndjson(*lines: dict[str, Any]) -> bytes:
    """An NDJSON commit body, one JSON object per line."""
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def header(summary: str = "test commit", **extra: Any) -> dict[str, Any]:
    """The header line; `extra` adds keys such as `parentCommit`."""
    return {"key": "header", "value": {"summary": summary, "description": "", **extra}}


def add(path: str, content: bytes) -> dict[str, Any]:
    """A `file` line carrying `content` inline."""
    encoded = base64.b64encode(content).decode()
    return {"key": "file", "value": {"path": path, "content": encoded, "encoding": "base64"}}


def post_commit(
    http: httpx.Client, repo: str, body: bytes, revision: str = "main"
) -> httpx.Response:
    """POST a commit body to a model repo's branch (`revision` already percent-encoded)."""
    return http.post(
        f"/api/models/{repo}/commit/{revision}",
        content=body,
        headers={"content-type": "application/x-ndjson"},
    )


def commit_files(
    http: httpx.Client, repo: str, files: dict[str, bytes], branch: str = "main"
) -> str:
    """Commit `files` inline and return the new commit id."""
    response = post_commit(
        http, repo, ndjson(header(), *(add(p, c) for p, c in files.items())), branch
    )
    assert response.status_code == 200, response.text
    oid: str = response.json()["commitOid"]
    return oid


def branch_head(http: httpx.Client, repo: str, branch: str = "main") -> str:
    """The commit a model repo's branch points at, as repo info reports it."""
    response = http.get(f"/api/models/{repo}/revision/{branch}")
    response.raise_for_status()
    sha: str = response.json()["sha"]
    return sha
