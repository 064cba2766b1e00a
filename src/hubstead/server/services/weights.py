"""What a model's weights hold, read from their headers: the Hub's `safetensors` and `gguf` blocks.

A safetensors file starts with an 8-byte little-endian header length and a JSON header naming
each tensor's dtype, shape and byte range. The Hub summarizes a model's weights as parameters
per dtype and in total (`model_info(expand=["safetensors"])`), from `model.safetensors` at the
repo's root, else from the shards `model.safetensors.index.json` names (the two names the
official client's `get_safetensors_metadata` probes), and answers
`get_sharded_safetensors_metadata` with every shard's header at once. A model holding GGUF
files is summarized from the first of them by path (`gguf.py` reads its header): GGUF repos hold
one file per quantization of the same weights, so any of them has the same parameter total.

Summaries are computed when first asked for, from the headers alone (never the tensors), and
kept in memory per commit: a commit never changes, so neither does its summary. A header that is
not valid safetensors, a shard that is missing or an object this hub does not hold means no
summary (the block is left out, never an error); a file whose object is not held yet (a mirror
still fetching it) is not remembered, so a later request tries again.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import math
import posixpath
import struct
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from hubstead.protocol import DEFAULT_BRANCH, LFS_POINTER_MAX_SIZE, RepoType, parse_lfs_pointer
from hubstead.server import errors
from hubstead.server.domain.git import EntryKind
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.services.commit_cache import CommitCache
from hubstead.server.services.files import normalize_path
from hubstead.server.services.gguf import GgufError, GgufSummary, read_summary
from hubstead.server.services.objects import LfsObjects
from hubstead.server.services.repos import RepoService
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.lfs_index import LfsIndex

SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"
MAX_HEADER_BYTES = 25_000_000  # what the official client accepts
MAX_INDEX_BYTES = 25_000_000
MAX_SHARDS = 1000
GGUF_SUFFIX = ".gguf"
_LENGTH = struct.Struct("<Q")


@dataclasses.dataclass(frozen=True)
class SafetensorsSummary:
    """Parameters per dtype, and their total."""

    parameters: Mapping[str, int]
    total: int


@dataclasses.dataclass(frozen=True)
class ShardedMetadata:
    """A sharded model's index (without its `weight_map`) and every shard's header."""

    index: Mapping[str, Any]
    headers: Mapping[str, Mapping[str, Any]]


_Summary = TypeVar("_Summary", SafetensorsSummary, GgufSummary)


class Unreadable(Exception):
    """A file cannot be read: its object is not held here, or it is not what its name says."""


class _NotHeld(Unreadable):
    """A file's object is not stored here (yet)."""


class _Invalid(Unreadable):
    """A file is not what its name says (not safetensors, not an index)."""


@dataclasses.dataclass(frozen=True)
class Tensor:
    """One tensor of a safetensors file."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    parameters: int


@dataclasses.dataclass(frozen=True)
class TensorList:
    """The tensors of one safetensors file, by name (the first `shown` of them), with totals.

    `error` says why there are none (not safetensors, object not held here).
    """

    tensors: list[Tensor]
    count: int
    total_parameters: int
    parameters: Mapping[str, int]
    error: str | None = None

    @property
    def more(self) -> bool:
        """Whether the file has more tensors than listed."""
        return self.count > len(self.tensors)


def parse_header(data: bytes) -> dict[str, Any]:
    """A safetensors header (the JSON after the length), checked tensor by tensor.

    Raises:
        _Invalid: not JSON, or a tensor without a string dtype, a shape of naturals and two
            data offsets.
    """
    try:
        header = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise _Invalid("the header is not JSON") from exc
    if not isinstance(header, dict):
        raise _Invalid("the header is not a JSON object")
    for name, tensor in header.items():
        if name == "__metadata__":
            continue
        if not (
            isinstance(tensor, dict)
            and isinstance(tensor.get("dtype"), str)
            and _naturals(tensor.get("shape"))
            and _naturals(tensor.get("data_offsets"))
            and len(tensor["data_offsets"]) == 2
        ):
            raise _Invalid(f"tensor {name[:80]!r} has no dtype, shape or data offsets")
    return header


def summarize(headers: list[dict[str, Any]]) -> SafetensorsSummary:
    """Parameters per dtype (a tensor has the product of its shape: 1 for a scalar)."""
    counts: collections.Counter[str] = collections.Counter()
    for header in headers:
        for name, tensor in header.items():
            if name != "__metadata__":
                counts[tensor["dtype"]] += math.prod(tensor["shape"])
    return SafetensorsSummary(dict(sorted(counts.items())), sum(counts.values()))


def _naturals(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value
    )


class WeightService:
    """Summaries of models' safetensors weights, and their shards' headers."""

    def __init__(
        self,
        repos: RepoService,
        git: GitObjectStore,
        objects: LfsObjects,
        index: LfsIndex,
        cache: CommitCache,
    ) -> None:
        self._repos = repos
        self._git = git
        self._objects = objects
        self._index = index
        # Per (format, repo, commit): a SafetensorsSummary, a GgufSummary, or None. A commit
        # never changes, so each process's cache is never stale and needs no invalidation.
        self._cache = cache

    def safetensors(self, repo: RepoRecord, commit_id: str) -> SafetensorsSummary | None:
        """A model's safetensors summary at a commit, or None (the caller checked access)."""
        return self._cached("safetensors", repo, commit_id, self._summary)

    def gguf(self, repo: RepoRecord, commit_id: str) -> GgufSummary | None:
        """A model's GGUF summary at a commit, or None (the caller checked access)."""
        return self._cached("gguf", repo, commit_id, self._gguf)

    def _cached(
        self,
        form: str,
        repo: RepoRecord,
        commit_id: str,
        compute: Callable[[RepoRecord, str], _Summary | None],
    ) -> _Summary | None:
        if repo.type != RepoType.MODEL.value:
            return None
        try:
            return self._cache.get(
                form, repo.storage_key, commit_id, lambda: compute(repo, commit_id)
            )
        except _NotHeld:
            return None

    def sharded_metadata(
        self, identity: Identity, repo_id: str, filename: str = INDEX_FILE
    ) -> ShardedMetadata:
        """The index of a sharded model on `main` and the header of every shard it names.

        Raises:
            EntryNotFoundError: the index, or a shard it names, is not in the repo (or not
                stored on this hub).
            InvalidRequestError: the index or a shard is not valid (not JSON, not safetensors,
                too many shards).
            RepoNotFoundError, GatedRepoError, ...: see `RepoService.open`.
        """
        handle = self._repos.open(
            identity, RepoType.MODEL, repo_id, Action.READ_FILES, DEFAULT_BRANCH
        )
        repo, commit_id = handle.repo, handle.commit_id
        path = normalize_path(filename)
        folder = posixpath.dirname(path)
        try:
            index = self._index_file(repo, commit_id, path)
            shards = sorted(set(index["weight_map"].values()))
            headers = {
                shard: self._header(repo, commit_id, posixpath.join(folder, shard))
                for shard in shards
            }
        except _NotHeld as exc:
            raise errors.EntryNotFoundError(f"{exc} in {repo_id} at {DEFAULT_BRANCH}") from exc
        except _Invalid as exc:
            raise errors.InvalidRequestError(f"Cannot read {path} of {repo_id}: {exc}") from exc
        return ShardedMetadata({k: v for k, v in index.items() if k != "weight_map"}, headers)

    def tensors(self, repo: RepoRecord, commit_id: str, path: str, limit: int) -> TensorList:
        """The first `limit` tensors of one safetensors file by name, and its totals.

        Reads the header only (the caller checked access).
        """
        try:
            header = self._header(repo, commit_id, path)
        except Unreadable as exc:
            return TensorList([], 0, 0, {}, error=str(exc))
        names = sorted(name for name in header if name != "__metadata__")
        summary = summarize([header])
        shown = [
            Tensor(
                name,
                header[name]["dtype"],
                tuple(header[name]["shape"]),
                math.prod(header[name]["shape"]),
            )
            for name in names[:limit]
        ]
        return TensorList(shown, len(names), summary.total, summary.parameters)

    def read(self, repo: RepoRecord, commit_id: str, path: str, offset: int, length: int) -> bytes:
        """Bytes of a file at a commit, in git or an LFS object (the caller checked access).

        Raises:
            Unreadable: not a file, or its LFS object is not held here.
        """
        return self._read(repo, commit_id, path, offset, length)

    def _summary(self, repo: RepoRecord, commit_id: str) -> SafetensorsSummary | None:
        try:
            if self._is_file(repo, commit_id, SINGLE_FILE):
                return summarize([self._header(repo, commit_id, SINGLE_FILE)])
            if not self._is_file(repo, commit_id, INDEX_FILE):
                return None
            index = self._index_file(repo, commit_id, INDEX_FILE)
            shards = sorted(set(index["weight_map"].values()))
            return summarize([self._header(repo, commit_id, shard) for shard in shards])
        except _Invalid:
            return None

    def _gguf(self, repo: RepoRecord, commit_id: str) -> GgufSummary | None:
        entries = self._git.list_tree(repo.storage_key, commit_id, "", True)
        paths = [
            e.path for e in entries if e.kind is EntryKind.FILE and e.path.endswith(GGUF_SUFFIX)
        ]
        if not paths:
            return None
        path = min(paths)
        try:
            return read_summary(
                lambda offset, length: self._read(repo, commit_id, path, offset, length)
            )
        except (_Invalid, GgufError):
            return None

    def _is_file(self, repo: RepoRecord, commit_id: str, path: str) -> bool:
        entry = self._git.entry(repo.storage_key, commit_id, path)
        return entry is not None and entry.kind is EntryKind.FILE

    def _index_file(self, repo: RepoRecord, commit_id: str, path: str) -> dict[str, Any]:
        data = self._read(repo, commit_id, path, 0, MAX_INDEX_BYTES + 1)
        if len(data) > MAX_INDEX_BYTES:
            raise _Invalid(f"the index is larger than {MAX_INDEX_BYTES} bytes")
        try:
            index: dict[str, Any] | list[Any] = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise _Invalid("the index is not JSON") from exc
        if not isinstance(index, dict):
            raise _Invalid("the index is not a JSON object")
        weight_map = index.get("weight_map")
        if not isinstance(weight_map, dict) or not all(
            isinstance(shard, str) for shard in weight_map.values()
        ):
            raise _Invalid("the index has no weight_map of tensor names to files")
        if len(set(weight_map.values())) > MAX_SHARDS:
            raise _Invalid(f"the index names more than {MAX_SHARDS} files")
        return index

    def _header(self, repo: RepoRecord, commit_id: str, path: str) -> dict[str, Any]:
        start = self._read(repo, commit_id, path, 0, _LENGTH.size)
        if len(start) < _LENGTH.size:
            raise _Invalid(f"{path} is too small to be a safetensors file")
        (length,) = _LENGTH.unpack(start)
        if length > MAX_HEADER_BYTES:
            raise _Invalid(f"the header of {path} is larger than {MAX_HEADER_BYTES} bytes")
        data = self._read(repo, commit_id, path, _LENGTH.size, length)
        if len(data) < length:
            raise _Invalid(f"{path} ends inside its header")
        try:
            return parse_header(data)
        except _Invalid as exc:
            raise _Invalid(f"{path}: {exc}") from exc

    def _read(self, repo: RepoRecord, commit_id: str, path: str, offset: int, length: int) -> bytes:
        """Bytes of a file at a commit, a regular one or an LFS object linked to the repo."""
        key = repo.storage_key
        try:
            entry = self._git.entry(key, commit_id, normalize_path(path))
        except errors.InvalidRequestError as exc:
            raise _Invalid(f"{path[:200]!r} is not a file name") from exc
        if entry is None or entry.kind is not EntryKind.FILE:
            raise _NotHeld(f"{path} is not a file")
        data = self._git.read_blob(key, entry.oid) if entry.size < LFS_POINTER_MAX_SIZE else None
        pointer = parse_lfs_pointer(data) if data is not None else None
        if pointer is None:
            if data is None:
                data = self._git.read_blob(key, entry.oid)
            return data[offset : offset + length]
        sha256, _ = pointer
        held = None
        if self._index.linked_size(repo.id, sha256) is not None:
            held = self._objects.read(sha256, offset, length)
        if held is None:
            raise _NotHeld(f"the LFS object of {path} is not stored")
        return held
