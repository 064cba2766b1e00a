"""`XetIndex`: the xorbs the hub stores, the files it can reconstruct, and who may use which."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Protocol

from hubstead.server.domain.xet import XetFileRecord, XorbRecord


class XetIndex(Protocol):
    """Xorbs, the repos each may be used from, global-dedup chunks, and reconstructable files.

    A xorb is linked to a repo when it was uploaded for it or when a file committed to it uses
    it, and to the accounts that uploaded it (they had its bytes): dedup answers and shard
    references only ever reach xorbs linked to a repo the caller may read, or that the caller
    uploaded. Linking and unlinking repos never removes a xorb; upkeep does, once nothing
    references it.
    """

    def add_xorb(
        self,
        record: XorbRecord,
        repo_id: int,
        uploader: int | None,
        dedup_chunks: Sequence[bytes],
    ) -> bool:
        """Record a verified xorb, link it to the repo and uploader, index its dedup chunks.

        Returns whether the xorb is new (False: it was stored before; the links are still made).
        """

    def xorbs(self, hashes: Collection[str]) -> dict[str, XorbRecord]:
        """The records of those xorbs the hub stores (the others are left out)."""

    def xorb_repos(self, hashes: Collection[str]) -> dict[str, frozenset[int]]:
        """The repos each xorb is linked to (a xorb linked to none is left out)."""

    def uploaded_by(self, account_id: int, hashes: Collection[str]) -> set[str]:
        """Those of the xorbs the account uploaded."""

    def link_xorbs(self, repo_id: int, hashes: Collection[str]) -> None:
        """Link the xorbs (all stored) to the repo; idempotent."""

    def copy_xorb_links(self, source_id: int, target_id: int) -> None:
        """Let the target repo use every xorb the source may use (a repo copy)."""

    def dedup_xorbs(self, chunk_hash: bytes, limit: int) -> list[str]:
        """Up to `limit` xorbs holding this global-dedup chunk, most recently stored first."""

    def add_file(self, record: XetFileRecord, first_chunk: bytes) -> None:
        """Record a verified file, its first chunk for global dedup and its xorbs; idempotent."""

    def files_using(self, xorb: str, limit: int) -> list[XetFileRecord]:
        """Up to `limit` recorded files whose terms use the xorb, most recently recorded first."""

    def file(self, hash: str) -> XetFileRecord | None:
        """The file with this Xet hash, if recorded."""

    def file_for_sha256(self, sha256: str) -> XetFileRecord | None:
        """A recorded file whose bytes have this sha256 (any of them, if several chunkings)."""

    def files_for_sha256(self, digests: Collection[str]) -> dict[str, XetFileRecord]:
        """For each digest that a recorded file has, one such file (in one query)."""

    def files(self) -> Iterator[XetFileRecord]:
        """Every recorded file (read in pages, for upkeep)."""

    def xorb_hashes(self) -> Iterator[str]:
        """Every recorded xorb (read in pages, for upkeep)."""

    def delete_file(self, hash: str) -> bool:
        """Forget a file; whether it was recorded."""

    def delete_xorb(self, hash: str) -> bool:
        """Forget a xorb, its links and its dedup chunks; whether it was recorded."""
