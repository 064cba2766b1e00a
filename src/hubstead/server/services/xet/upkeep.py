"""Upkeep of Xet storage: check xorbs and Xet files (fsck), and collect what nothing uses (gc).

`UpkeepService` runs these next to its blob and git checks. What is kept, and for how long:

- a **Xet file** (a recorded reconstruction, a SQL row) is kept while some repo links its sha256
  in the LFS index, or a pointer at the tip of a ref names it. A file only history names was
  deleted on request (`lfs-files` deletion unlinks it), or belonged to a deleted repo: gc
  forgets it at once, whatever its age, since forgetting a row frees nothing by itself. An
  upload links a file's sha256 before recording the file (`XetUploadService.put_shard`), and gc
  looks for a link again after forgetting a file and records it again if one appeared: so a
  file an upload is linking at that moment is never lost.
- a **xorb** is kept while a kept file uses it, and for `xorb_grace` after it was last written
  or used (`XorbStore.touch`). Clients dedup new uploads against the xorbs of their own past
  uploads, kept in their local shard cache for 3 weeks (xet-core's
  `MDB_SHARD_LOCAL_CACHE_EXPIRATION`), and a shard naming a xorb the hub no longer holds is
  refused: so an unused xorb stays that long by default (`xet_xorb_grace_seconds`, 21 days)
  rather than the day or so an unlinked blob stays. gc moves a xorb out of reach before it
  decides (`XorbStore.delete_unless`), and an upload touches every xorb it relies on before
  using it, so either gc sees the fresh touch and keeps the xorb, or the upload finds the xorb
  gone and is refused (the client then sends it again). The xorb's SQL rows go after its file.
- **temporary files** under the xorb store's `.tmp/` go once older than gc's own grace period,
  as the blob store's do.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Set

from hubstead.server.domain.upkeep import Leftover, OnProgress, notify
from hubstead.server.domain.xet import XetFileRecord, XorbRecord
from hubstead.server.storage.blobs import BlobStat
from hubstead.server.storage.errors import BlobNotFoundError
from hubstead.server.storage.lfs_index import LfsIndex
from hubstead.server.storage.xet_index import XetIndex
from hubstead.server.storage.xorbs import XorbStore
from hubstead.xet.errors import XetFormatError
from hubstead.xet.hashing import hash_from_hex
from hubstead.xet.xorb import verify_xorb

_BATCH = 100  # xorb records read per query: up to about 4 MiB of chunk lists


@dataclasses.dataclass(frozen=True)
class BadXorb:
    """A recorded xorb that is not stored whole.

    `stored_size` is None when it is missing; `error` says why bytes of the recorded size do
    not check out (they do not hash to its name, or their chunks are not the recorded ones).
    """

    hash: str
    size: int
    stored_size: int | None
    error: str | None = None


@dataclasses.dataclass(frozen=True)
class BadXetFile:
    """A recorded Xet file that cannot be reconstructed as recorded, and why."""

    hash: str
    sha256: str
    error: str


@dataclasses.dataclass(frozen=True)
class StoredXorb:
    """A stored xorb nothing records (fsck) or gc removed (or, in a dry run, would remove)."""

    hash: str
    size: int
    modified_at: float


@dataclasses.dataclass(frozen=True)
class ForgottenXetFile:
    """A Xet file gc forgot (or would forget): no repo links its sha256 any more."""

    hash: str
    sha256: str
    size: int


@dataclasses.dataclass(frozen=True)
class XetCheck:
    """What fsck found in Xet storage. Orphans and leftovers are not damage: gc removes them."""

    xorbs: int = 0
    xorb_bytes: int = 0
    files: int = 0
    bad_xorbs: list[BadXorb] = dataclasses.field(default_factory=list)
    bad_files: list[BadXetFile] = dataclasses.field(default_factory=list)
    orphans: list[StoredXorb] = dataclasses.field(default_factory=list)
    leftovers: list[Leftover] = dataclasses.field(default_factory=list)

    @property
    def damaged(self) -> bool:
        """Whether a xorb is missing or corrupt, or a file names what no xorb holds."""
        return bool(self.bad_xorbs or self.bad_files)


@dataclasses.dataclass(frozen=True)
class XetCollection:
    """What gc removed from Xet storage (or would remove), and which xorbs it kept."""

    xorb_grace_seconds: float = 0.0
    files: list[ForgottenXetFile] = dataclasses.field(default_factory=list)
    xorbs: list[StoredXorb] = dataclasses.field(default_factory=list)
    leftovers: list[Leftover] = dataclasses.field(default_factory=list)
    used: int = 0  # xorbs a kept file uses, or that an upload touched while gc decided
    recent: int = 0  # unused xorbs written or used within the xorb grace period

    @property
    def freed_bytes(self) -> int:
        """The bytes the removed xorbs and temporary files held."""
        return sum(x.size for x in self.xorbs) + sum(item.size for item in self.leftovers)


class XetUpkeep:
    """Checks and collects the xorb store against the Xet index and the LFS index."""

    def __init__(
        self, xorbs: XorbStore, index: XetIndex, lfs_index: LfsIndex, *, xorb_grace: dt.timedelta
    ) -> None:
        self._xorbs = xorbs
        self._index = index
        self._lfs_index = lfs_index
        self._xorb_grace = xorb_grace

    def stored_bytes(self) -> tuple[int, int]:
        """How many xorbs the xorb store holds, and their bytes (one stat per xorb)."""
        count = total = 0
        for xorb in self._xorbs.hashes():
            size = self._xorbs.size(xorb)
            if size is not None:
                count, total = count + 1, total + size
        return count, total

    def held_sizes(self) -> dict[str, int]:
        """The size of every LFS object held as a Xet file, by sha256."""
        return {file.sha256: file.size for file in self._index.files()}

    # --- fsck -----------------------------------------------------------------------------------

    def check(self, on_progress: OnProgress | None = None) -> XetCheck:
        """Re-verify every recorded xorb, then check every file's terms; list orphans.

        A xorb checks out when it is stored with its recorded size, its bytes hash to its name
        (`verify_xorb`) and its chunks are the recorded ones. A file checks out when each term
        names a recorded xorb and chunks within it, and its terms add up to its size. Xorbs
        and files written or collected while the check runs are looked up again rather than
        reported.
        """
        recorded = sorted(self._index.xorb_hashes())
        chunk_counts: dict[str, int] = {}
        bad_xorbs: list[BadXorb] = []
        read = 0
        for start in range(0, len(recorded), _BATCH):
            batch = recorded[start : start + _BATCH]
            records = self._index.xorbs(batch)
            for done, xorb in enumerate(batch, start + 1):
                record = records.get(xorb)
                if record is not None:
                    chunk_counts[xorb] = len(record.chunk_hashes)
                    bad = self._check_xorb(record)
                    if bad is not None:
                        bad_xorbs.append(bad)
                    if bad is None or bad.stored_size == record.size:
                        read += record.size
                notify(on_progress, "xorbs", done, len(recorded), read)
        bad_xorbs = [bad for bad in bad_xorbs if bad.stored_size is not None or self._recorded(bad)]
        checked = len(chunk_counts)
        files = list(self._index.files())
        bad_files = []
        for done, file in enumerate(files, 1):
            error = self._file_error(file, chunk_counts)
            if error is not None:
                bad_files.append(BadXetFile(file.hash, file.sha256, error))
            notify(on_progress, "xet files", done, len(files))
        return XetCheck(
            xorbs=checked,
            xorb_bytes=read,
            files=len(files),
            bad_xorbs=bad_xorbs,
            bad_files=bad_files,
            orphans=list(self._orphans(set(recorded))),
            leftovers=list(self._xorbs.leftovers()),
        )

    def _check_xorb(self, record: XorbRecord) -> BadXorb | None:
        stored = self._xorbs.size(record.hash)
        if stored != record.size:
            return BadXorb(record.hash, record.size, stored)
        try:
            data = self._xorbs.read(record.hash, 0, record.size)
        except BlobNotFoundError:  # collected meanwhile (or not: `check` asks again)
            return BadXorb(record.hash, record.size, None)
        try:
            chunks = verify_xorb(data, hash_from_hex(record.hash))
        except XetFormatError as exc:
            return BadXorb(record.hash, record.size, stored, str(exc))
        found = (
            tuple(c.hash for c in chunks),
            tuple(c.size for c in chunks),
            tuple(c.end for c in chunks),
        )
        if found != (record.chunk_hashes, record.chunk_sizes, record.chunk_ends):
            error = "its bytes verify, but its chunks are not the ones recorded"
            return BadXorb(record.hash, record.size, stored, error)
        return None

    def _recorded(self, bad: BadXorb) -> bool:
        """Whether a xorb found missing is still recorded (gc deletes the file, then the row)."""
        return bool(self._index.xorbs([bad.hash]))

    def _file_error(self, file: XetFileRecord, chunk_counts: dict[str, int]) -> str | None:
        """What is wrong with the file's terms, or None; `chunk_counts` learns new xorbs."""
        unknown = file.xorbs - chunk_counts.keys()
        if unknown:  # recorded since the listing, or missing
            for xorb, record in self._index.xorbs(unknown).items():
                chunk_counts[xorb] = len(record.chunk_hashes)
        for number, term in enumerate(file.terms):
            count = chunk_counts.get(term.xorb)
            if count is None:
                return f"term {number} names xorb {term.xorb}, which is not recorded"
            if not 0 <= term.chunk_start < term.chunk_end <= count:
                return (
                    f"term {number} names chunks [{term.chunk_start}, {term.chunk_end}) of xorb "
                    f"{term.xorb}, which has {count}"
                )
        total = sum(term.size for term in file.terms)
        if total != file.size:
            return f"its terms hold {total} bytes, not its {file.size}"
        return None

    def _orphans(self, recorded: Set[str]) -> Iterator[StoredXorb]:
        """Stored xorbs nothing records: an upload stores a xorb, then records it."""
        for xorb in sorted(self._xorbs.hashes()):
            if xorb in recorded:
                continue
            stat = self._xorbs.stat(xorb)
            if stat is not None and not self._index.xorbs([xorb]):
                yield StoredXorb(xorb, stat.size, stat.modified_at)

    # --- gc -------------------------------------------------------------------------------------

    def collect(
        self,
        referenced: Set[str] | None,
        *,
        now: float,
        grace: dt.timedelta,
        dry_run: bool,
        on_progress: OnProgress | None = None,
    ) -> XetCollection:
        """Forget the files no repo uses, remove the xorbs no file uses, then old temp files.

        Args:
            referenced: the sha256 of every object a repo links or a pointer at a ref tip
                names; None when that is unknown (a repo could not be read): then every
                file and xorb stays, and only temporary files go.
            now: the time grace periods end at.
            grace: temporary files written since `now - grace` stay; xorbs stay for the
                longer of this and `xorb_grace`.
            dry_run: remove nothing, report what would go.
            on_progress: told how far the files and xorbs phases are.
        """
        files: list[ForgottenXetFile] = []
        xorbs: list[StoredXorb] = []
        used = recent = 0
        if referenced is not None:
            files, in_use = self._forget_files(referenced, dry_run, on_progress)
            written_before = now - max(grace, self._xorb_grace).total_seconds()
            hashes = sorted(self._xorbs.hashes())
            for done, xorb in enumerate(hashes, 1):
                notify(on_progress, "xorbs", done, len(hashes))
                stat = None if xorb in in_use else self._xorbs.stat(xorb)
                if xorb in in_use:
                    used += 1
                elif stat is None:  # removed meanwhile
                    continue
                elif stat.modified_at >= written_before:
                    recent += 1
                elif dry_run or self._remove_xorb(xorb, written_before):
                    xorbs.append(StoredXorb(xorb, stat.size, stat.modified_at))
                else:
                    used += 1
        leftovers_before = now - grace.total_seconds()
        leftovers = [
            leftover
            for leftover in self._xorbs.leftovers()
            if leftover.modified_at < leftovers_before
            and (dry_run or self._xorbs.remove_leftover(leftover, leftovers_before))
        ]
        return XetCollection(
            self._xorb_grace.total_seconds(), files, xorbs, leftovers, used=used, recent=recent
        )

    def _forget_files(
        self, referenced: Set[str], dry_run: bool, on_progress: OnProgress | None
    ) -> tuple[list[ForgottenXetFile], set[str]]:
        """Forget the files no repo uses; those forgotten, and the xorbs the others use."""
        files = list(self._index.files())
        forgotten = []
        in_use: set[str] = set()
        for done, file in enumerate(files, 1):
            notify(on_progress, "xet files", done, len(files))
            if file.sha256 in referenced or not (
                self._unlinked(file) if dry_run else self._forget(file)
            ):
                in_use |= file.xorbs
            else:
                forgotten.append(ForgottenXetFile(file.hash, file.sha256, file.size))
        return forgotten, in_use

    def _unlinked(self, file: XetFileRecord) -> bool:
        return not self._lfs_index.is_linked(file.sha256)

    def _forget(self, file: XetFileRecord) -> bool:
        """Forget a file no repo links; look again, and record it again if linked meanwhile."""
        if not self._unlinked(file):
            return False
        first_chunk = self._first_chunk(file)
        self._index.delete_file(file.hash)
        if self._unlinked(file):
            return True
        if first_chunk is not None:
            self._index.add_file(file, first_chunk)
        return False

    def _first_chunk(self, file: XetFileRecord) -> bytes | None:
        """The hash of the file's first chunk (what its global-dedup entry is keyed by)."""
        first = file.terms[0]
        record = self._index.xorbs([first.xorb]).get(first.xorb)
        return None if record is None else record.chunk_hashes[first.chunk_start]

    def _remove_xorb(self, xorb: str, written_before: float) -> bool:
        """Delete an unused xorb unless touched since `written_before`; then forget it.

        The record goes only if no upload stored the xorb again meanwhile.
        """

        def keep(stat: BlobStat) -> bool:
            return stat.modified_at >= written_before

        if not self._xorbs.delete_unless(xorb, keep):
            return False
        if self._xorbs.stat(xorb) is None:
            self._index.delete_xorb(xorb)
        return True
