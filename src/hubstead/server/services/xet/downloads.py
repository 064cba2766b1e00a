"""Xet downloads: reconstructions of the files a token's repo holds, and the xorb ranges in them.

A reconstruction is answered only for a file whose sha256 the token's repo links (the repo
holds it), so a Xet hash alone reaches nothing. Its xorb ranges are fetched without an
`Authorization` header (the client sends none there), so each URL carries a signed token
naming the xorb, the exact byte range, the file's sha256, the repo and the account it was
issued to; each fetch checks again that the account may still read that repo and that the repo
still holds the file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from hubstead.server import errors
from hubstead.server.services import access
from hubstead.server.services.access import Action
from hubstead.server.services.auth import AuthService
from hubstead.server.services.repos import RepoService
from hubstead.server.services.signing import UrlSigner
from hubstead.server.services.xet.content import XetContent
from hubstead.server.services.xet.tokens import Scope, XetTokenService
from hubstead.server.storage.errors import BlobNotFoundError
from hubstead.server.storage.lfs_index import LfsIndex
from hubstead.server.storage.xet_index import XetIndex
from hubstead.xet.errors import WindowPastEndError, XetFormatError
from hubstead.xet.hashing import hash_from_hex, hash_to_hex
from hubstead.xet.reconstruction import Plan

_RANGE = "xet-range"


@dataclasses.dataclass(frozen=True)
class Reconstruction:
    """A window of a file: its plan, and `sign(xorb, start, end)` for each xorb range's URL.

    `direct(xorb, start, end)` is the object store's presigned URL of the range, or None.
    """

    plan: Plan
    sign: Callable[[str, int, int], str]
    direct: Callable[[str, int, int], str | None] = lambda xorb, start, end: None


@dataclasses.dataclass(frozen=True)
class XorbRange:
    """Bytes `start..end` (inclusive) of a xorb of `total` bytes.

    They are in the local file `path` (to be streamed from it), or read into `data` when the
    store keeps no local file.
    """

    start: int
    end: int
    total: int
    path: Path | None
    data: bytes | None = None


class XetDownloadService:
    """The CAS read side: reconstructions and signed xorb ranges."""

    def __init__(
        self,
        tokens: XetTokenService,
        repos: RepoService,
        auth: AuthService,
        content: XetContent,
        index: XetIndex,
        lfs_index: LfsIndex,
        signer: UrlSigner,
        *,
        url_ttl: int,
        direct_url_ttl: int = 0,
    ) -> None:
        self._tokens = tokens
        self._repos = repos
        self._auth = auth
        self._content = content
        self._index = index
        self._lfs_index = lfs_index
        self._signer = signer
        self._url_ttl = url_ttl
        self._direct_url_ttl = direct_url_ttl

    def reconstruction(
        self, token: str, file_hash: str, start: int, end: int | None
    ) -> Reconstruction:
        """The terms and signed xorb ranges of bytes `start..end` (inclusive; None: to the end).

        Raises:
            AuthenticationError, AuthorizationError: see `XetTokenService.authorize`.
            InvalidRequestError: a malformed hash.
            NotFoundError: no such file in the token's repo.
            RangeNotSatisfiableError: `start` is at or past the end of the file.
        """
        grant = self._tokens.authorize(token, Scope.READ)
        try:
            key = hash_to_hex(hash_from_hex(file_hash))
        except XetFormatError as exc:
            raise errors.InvalidRequestError(str(exc)) from None
        file = self._index.file(key)
        if file is None or self._lfs_index.linked_size(grant.repo.id, file.sha256) != file.size:
            raise errors.NotFoundError(f"No file {key} in {grant.repo.repo_id}")
        try:
            plan = self._content.plan(file, start, file.size - 1 if end is None else end)
        except WindowPastEndError as exc:
            raise errors.RangeNotSatisfiableError(
                f"Bytes from {exc.start} are past the end of file {key} ({exc.size} bytes)",
                size=exc.size,
            ) from None
        account = grant.reader.account
        subject = {"r": grant.repo.id, "u": account and account.id, "o": file.sha256}

        def sign(xorb: str, first: int, last: int) -> str:
            return self._signer.sign(
                _RANGE, {**subject, "x": xorb, "b": [first, last]}, self._url_ttl
            )

        def direct(xorb: str, first: int, last: int) -> str | None:
            # Checked now, not when fetched: it lives the object store's short URL lifetime.
            if not self._direct_url_ttl:
                return None
            return self._content.xorbs.download_url(xorb, first, last, self._direct_url_ttl)

        return Reconstruction(plan, sign, direct)

    def xorb_range(self, token: str, xorb: str, start: int, end: int) -> XorbRange:
        """The bytes of a xorb range URL, if `start..end` is the range it was signed for.

        Raises:
            AuthorizationError: a forged, expired or other URL, another range, or a repo its
                account may no longer read or that no longer holds the file (the client then
                asks for a fresh reconstruction).
        """
        subject = self._signer.verify(token, _RANGE)
        repo_key, user_id, sha256 = subject.get("r"), subject.get("u"), subject.get("o")
        if subject.get("x") != xorb or subject.get("b") != [start, end]:
            raise errors.AuthorizationError("This URL is not valid for these bytes")
        repo = self._repos.find(repo_key) if isinstance(repo_key, int) else None
        reader = self._auth.reader(user_id) if user_id is None or isinstance(user_id, int) else None
        if repo is None or reader is None or not access.may(reader, repo, Action.READ_FILES):
            raise errors.AuthorizationError(
                "This URL is no longer valid: its repo is gone or may no longer be read by "
                "whom it was issued to"
            )
        if not isinstance(sha256, str) or self._lfs_index.linked_size(repo.id, sha256) is None:
            raise errors.AuthorizationError(f"{repo.repo_id} no longer holds this file")
        xorbs = self._content.xorbs
        total = xorbs.size(xorb)
        if total is None or total <= end:
            raise errors.StoreDamagedError(
                f"Xorb {xorb} is missing or shorter than recorded; run `hubstead fsck`"
            )
        path = xorbs.local_path(xorb)
        if path is not None:
            return XorbRange(start, end, total, path)
        try:
            data = xorbs.read(xorb, start, end + 1)
        except BlobNotFoundError:
            raise errors.StoreDamagedError(f"Xorb {xorb} is gone; run `hubstead fsck`") from None
        return XorbRange(start, end, total, None, data)
