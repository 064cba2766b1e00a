"""Xet uploads: xorbs, shards and global-dedup queries, each verified before anything uses it.

What a client sends becomes reachable only once checked:

- a **xorb** is stored only if its chunks decompress within their declared sizes and hash to
  the xorb hash in the URL; it is then linked to the token's repo;
- a **shard** registers files only if every term names a stored xorb that the uploader may
  use (linked to a repo they may read), within that xorb's chunks and with its exact unpacked
  length; if every file's hash and verification hashes match the chunk hashes the hub
  computed itself; and if the sha256 each file claims is the sha256 of its reconstructed
  bytes. Only then is the sha256 linked to the repo, which lets a commit name it. The costly
  step, reading the file back, is skipped for a file the hub verified before under the same
  hash and sha256;
- a **dedup query** answers only with xorbs linked to a repo the caller may read, so a chunk
  hash tells nobody anything about content they could not read already.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Callable, Mapping

from hubstead.server import errors
from hubstead.server.domain.xet import XetFileRecord, XetTerm, XorbRecord
from hubstead.server.services import access
from hubstead.server.services.access import Action
from hubstead.server.services.repos import RepoService
from hubstead.server.services.xet.content import XetContent
from hubstead.server.services.xet.tokens import CasGrant, Scope, XetTokenService
from hubstead.server.storage.lfs_index import LfsIndex
from hubstead.server.storage.xet_index import XetIndex
from hubstead.server.storage.xorbs import XorbStore
from hubstead.xet.errors import XetFormatError
from hubstead.xet.hashing import (
    file_hash,
    hash_from_hex,
    hash_to_hex,
    is_global_dedup_eligible,
    verification_hash,
)
from hubstead.xet.shard import (
    CasChunk,
    CasInfo,
    FileInfo,
    Shard,
    footer_for,
    parse_shard,
    serialize_shard,
)
from hubstead.xet.xorb import verify_xorb

# A dedup answer describes the xorb holding the chunk and its neighbours in the files that use
# it (the most recent few): up to 64 xorbs, about 4 GiB of content in a shard of about 3 MiB.
_DEDUP_CANDIDATES = 16
_DEDUP_FILES = 4
_DEDUP_XORBS = 64


class XetUploadService:
    """The CAS write side: xorb and shard uploads, and global-dedup queries."""

    def __init__(
        self,
        tokens: XetTokenService,
        repos: RepoService,
        xorbs: XorbStore,
        content: XetContent,
        index: XetIndex,
        lfs_index: LfsIndex,
        *,
        max_file_bytes: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._tokens = tokens
        self._repos = repos
        self._xorbs = xorbs
        self._content = content
        self._index = index
        self._lfs_index = lfs_index
        self._max_file_bytes = max_file_bytes
        self._clock = clock

    def put_xorb(self, token: str, hash: str, data: bytes) -> bool:
        """Verify and store a serialized xorb; whether it is new to the uploader.

        A xorb already stored for a repo the uploader may not read counts as new: the answer
        must not tell anyone that somebody else holds the same bytes.

        Raises:
            AuthenticationError, AuthorizationError: see `XetTokenService.authorize`.
            InvalidRequestError: a malformed hash, or bytes that are not a xorb with that hash.
            LocalStorageError: the disk is full.
        """
        grant = self._tokens.authorize(token, Scope.WRITE)
        try:
            expected = hash_from_hex(hash)
            chunks = verify_xorb(data, expected)
        except XetFormatError as exc:
            raise errors.InvalidRequestError(f"Rejected xorb {hash[:64]}: {exc}") from None
        key = hash_to_hex(expected)
        record = XorbRecord(
            hash=key,
            size=len(data),
            chunk_hashes=tuple(chunk.hash for chunk in chunks),
            chunk_sizes=tuple(chunk.size for chunk in chunks),
            chunk_ends=tuple(chunk.end for chunk in chunks),
        )
        known = bool(self._usable_xorbs(grant, [key]))
        with errors.out_of_space(f"storing xorb {key}"):
            self._xorbs.put(key, data)
        eligible = [h for h in record.chunk_hashes if is_global_dedup_eligible(h)]
        account = grant.reader.account
        uploader = None if account is None else account.id
        self._index.add_xorb(record, grant.repo.id, uploader, eligible)
        return not known

    def put_shard(self, token: str, data: bytes) -> bool:
        """Verify a shard and register its files for the token's repo; whether any was new.

        A shard without files (xorbs only) registers nothing but links its xorbs.

        Raises:
            AuthenticationError, AuthorizationError: see `XetTokenService.authorize`.
            InvalidRequestError: not a shard, or a file it describes does not check out (the
                message says which file and why); nothing of the shard is registered.
        """
        grant = self._tokens.authorize(token, Scope.WRITE)
        try:
            shard = parse_shard(data)
        except XetFormatError as exc:
            raise errors.InvalidRequestError(f"Rejected shard: {exc}") from None
        named = {hash_to_hex(s.cas_hash) for f in shard.files for s in f.segments}
        named |= {hash_to_hex(x.cas_hash) for x in shard.xorbs}
        records = self._usable_xorbs(grant, named)
        # Touched before anything uses them, so that gc, which spares recently written xorbs,
        # keeps them (or has already removed them, and then they count as missing).
        missing = sorted(named - {xorb for xorb in records if self._xorbs.touch(xorb)})
        if missing:
            raise errors.InvalidRequestError(
                f"Rejected shard: it names {len(missing)} xorb(s) this hub does not hold for "
                f"you, first {missing[0]}; upload them first"
            )
        files = [self._checked_file(info, records) for info in shard.files]
        # Keyed by hash and claimed sha256: a file listed twice is read back once.
        unknown = list(
            {
                (file.hash, file.sha256): (file, first_chunk)
                for file, first_chunk in files
                if not self._verified_before(file)
            }.values()
        )
        for file, _ in unknown:
            self._check_sha256(file, records)
        # Every file checked out: let the repo's commits name them, then record them, the
        # ones verified before too. gc forgets a file whose sha256 nobody links, then looks
        # again and puts it back if linked meanwhile: with this order, a file is recorded
        # after its last link whichever way the two interleave (services/xet/upkeep.py).
        self._index.link_xorbs(grant.repo.id, named)
        for file, _ in files:
            self._lfs_index.link(grant.repo.id, file.sha256, file.size)
        for file, first_chunk in files:
            self._index.add_file(file, first_chunk)
        return bool(unknown) or not files

    def dedup_shard(self, token: str, chunk_hash: str) -> bytes | None:
        """A shard describing stored xorbs that hold this chunk, or None when there is none.

        Only xorbs linked to a repo the caller may read are described (read tokens may ask).

        Raises:
            AuthenticationError, AuthorizationError: see `XetTokenService.authorize`.
            InvalidRequestError: a malformed hash.
        """
        grant = self._tokens.authorize(token, Scope.READ)
        try:
            chunk = hash_from_hex(chunk_hash)
        except XetFormatError as exc:
            raise errors.InvalidRequestError(str(exc)) from None
        candidates = self._index.dedup_xorbs(chunk, limit=_DEDUP_CANDIDATES)
        usable = self._usable_xorbs(grant, candidates)
        found = next((xorb for xorb in candidates if xorb in usable), None)
        if found is None:
            return None
        wanted = list(dict.fromkeys([found, *self._neighbours(found)]))[:_DEDUP_XORBS]
        usable = self._usable_xorbs(grant, wanted)
        chosen = [usable[xorb] for xorb in wanted if xorb in usable]
        infos = tuple(_cas_info(record) for record in chosen)
        footer = footer_for((), infos, creation_timestamp=int(self._clock()))
        return serialize_shard(Shard(files=(), xorbs=infos, footer=footer))

    def _neighbours(self, xorb: str) -> list[str]:
        """The xorbs the files using `xorb` use too: from it onwards in each file, then before.

        A file being uploaded again, changed in a few places, shares with its older version
        the chunks around the one the client asked about, and most of the rest: describing
        the older version's xorbs lets one answer cover the whole file, where the xorb that
        holds the chunk alone would leave the client sending every xorb it knows nothing about
        (global-dedup chunks are about 1 in 1,024: many xorbs have none).
        """
        neighbours: list[str] = []
        for file in self._index.files_using(xorb, limit=_DEDUP_FILES):
            order = list(dict.fromkeys(term.xorb for term in file.terms))
            at = order.index(xorb)
            neighbours.extend(order[at + 1 :] + order[:at])
        return neighbours

    def _usable_xorbs(self, grant: CasGrant, hashes: set[str] | list[str]) -> dict[str, XorbRecord]:
        """The stored xorbs among `hashes` its holder may use.

        Those linked to the grant's repo or to one its holder may read, and those the holder
        uploaded (they had the bytes: a client reuses its own xorbs after their repo was
        deleted or became unreadable to it).
        """
        account = grant.reader.account
        usable = self._index.uploaded_by(account.id, hashes) if account is not None else set()
        readable: dict[int, bool] = {grant.repo.id: True}
        for xorb, repo_ids in self._index.xorb_repos(set(hashes) - usable).items():
            for repo_id in repo_ids:
                if repo_id not in readable:
                    repo = self._repos.find(repo_id)
                    readable[repo_id] = repo is not None and access.may(
                        grant.reader, repo, Action.READ_FILES
                    )
                if readable[repo_id]:
                    usable.add(xorb)
                    break
        return self._index.xorbs(usable)

    def _checked_file(
        self, info: FileInfo, records: Mapping[str, XorbRecord]
    ) -> tuple[XetFileRecord, bytes]:
        """The file a shard entry describes, and its first chunk's hash, once its hashes check."""
        name = hash_to_hex(info.file_hash)
        if not info.segments:
            raise errors.InvalidRequestError(f"Rejected shard: file {name} has no terms")
        if info.size > self._max_file_bytes:
            # Reading a file back costs its size, whatever the shard cost to send.
            raise errors.InvalidRequestError(
                f"Rejected shard: file {name} is {info.size} bytes, more than the "
                f"{self._max_file_bytes} this hub accepts for one file"
            )
        if info.sha256 is None:
            raise errors.InvalidRequestError(
                f"Rejected shard: file {name} carries no sha256 (its metadata extension); "
                "this hub needs it to serve the file to git-lfs and plain HTTP clients"
            )
        chunks: list[tuple[bytes, int]] = []
        terms = []
        for number, segment in enumerate(info.segments):
            xorb = records[hash_to_hex(segment.cas_hash)]
            start, end = segment.chunk_index_start, segment.chunk_index_end
            if not 0 <= start < end <= len(xorb.chunk_hashes):
                raise errors.InvalidRequestError(
                    f"Rejected shard: file {name}, term {number}: chunks [{start}, {end}) are "
                    f"outside xorb {xorb.hash}, which has {len(xorb.chunk_hashes)}"
                )
            sizes = xorb.chunk_sizes[start:end]
            if sum(sizes) != segment.unpacked_bytes:
                raise errors.InvalidRequestError(
                    f"Rejected shard: file {name}, term {number}: declares "
                    f"{segment.unpacked_bytes} bytes, its chunks hold {sum(sizes)}"
                )
            hashes = xorb.chunk_hashes[start:end]
            if (
                info.verification is not None
                and verification_hash(hashes) != (info.verification[number])
            ):
                raise errors.InvalidRequestError(
                    f"Rejected shard: file {name}, term {number}: wrong verification hash"
                )
            chunks.extend(zip(hashes, sizes, strict=True))
            terms.append(XetTerm(xorb.hash, start, end, segment.unpacked_bytes))
        if file_hash(chunks) != info.file_hash:
            raise errors.InvalidRequestError(
                f"Rejected shard: file {name} is not the hash of the chunks its terms name"
            )
        sha256 = hash_to_hex(info.sha256)
        return XetFileRecord(name, sha256, info.size, tuple(terms)), chunks[0][0]

    def _verified_before(self, file: XetFileRecord) -> bool:
        known = self._index.file(file.hash)
        return known is not None and known.sha256 == file.sha256

    def _check_sha256(self, file: XetFileRecord, records: Mapping[str, XorbRecord]) -> None:
        """Read the file back from its xorbs: its bytes must have the sha256 it claims."""
        actual = hashlib.sha256()
        for piece in self._content.read_with(file, records, 0, file.size - 1):
            actual.update(piece)
        if actual.hexdigest() != file.sha256:
            raise errors.InvalidRequestError(
                f"Rejected shard: file {file.hash} claims sha256 {file.sha256}, but its "
                f"bytes hash to {actual.hexdigest()}"
            )


def _cas_info(record: XorbRecord) -> CasInfo:
    """The shard entry of a xorb: each chunk's offset counts unpacked bytes, as clients write it."""
    starts = itertools.accumulate(record.chunk_sizes[:-1], initial=0)
    chunks = tuple(
        CasChunk(hash_, start, size)
        for hash_, start, size in zip(record.chunk_hashes, starts, record.chunk_sizes, strict=True)
    )
    return CasInfo(hash_from_hex(record.hash), chunks, record.raw_size, record.size)
