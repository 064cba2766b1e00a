"""`GitTransport`: git's smart protocol (fetches and checked pushes) on the stored repos."""

from __future__ import annotations

from collections.abc import Generator
from typing import BinaryIO, Protocol

from hubstead.server.domain.git import PackService, PushCheck, PushLimits, PushOutcome


class GitTransport(Protocol):
    """Git's smart protocol on the stored repos: ref advertisements, fetches, checked pushes."""

    def spool(self) -> BinaryIO:
        """A new anonymous temporary file, on the store's disk, for a request body."""

    def advertise_refs(self, key: str, service: PackService, protocol: str | None) -> bytes:
        """The smart protocol's ref (or, for protocol v2, capability) advertisement.

        `protocol` is what the client sent as `Git-Protocol` (`version=2`), or None.

        Raises:
            GitUnavailableError: git is not installed.
        """

    def upload_pack(
        self, key: str, request: BinaryIO, protocol: str | None
    ) -> Generator[bytes, None, None]:
        """Answer a fetch request read from `request`: git's answer, streamed in chunks.

        Closing the generator stops git.

        Raises:
            GitUnavailableError: git is not installed (raised at once, not when iterating).
        """

    def receive_pack(
        self,
        key: str,
        request: BinaryIO,
        check: PushCheck,
        protocol: str | None,
        limits: PushLimits,
    ) -> PushOutcome:
        """Apply the push read from `request`, if `check` accepts it, within `limits`.

        `check` sees the push after its objects arrived and before any ref moves; when it
        refuses (or fails), no ref moves and the pusher is shown its message. The ref lock is
        taken only when `check` has accepted, and held until git has moved the refs: the pack
        is received and indexed without it.

        Raises:
            GitUnavailableError: git is not installed.
        """
