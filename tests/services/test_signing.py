"""`UrlSigner`: self-authenticating URL tokens bound to a purpose, a subject and an expiry."""

from __future__ import annotations

import re

import pytest

from hubstead.server import errors
from hubstead.server.services.signing import UrlSigner

SECRET = b"k" * 32
NOW = 1_800_000_000.0


def at(moment: float, secret: bytes = SECRET) -> UrlSigner:
    """A signer whose clock reads `moment`."""
    return UrlSigner(secret, clock=lambda: moment)


def test_a_token_gives_back_its_subject() -> None:
    subject = {"r": 7, "o": "ab" * 32, "n": 12}

    token = at(NOW).sign("upload", subject, 60)

    assert at(NOW + 59).verify(token, "upload") == subject
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", token), "usable in a URL as is"


def test_a_token_is_valid_until_its_ttl_runs_out() -> None:
    token = at(NOW).sign("upload", {"o": "x"}, 60)

    assert at(NOW + 60).verify(token, "upload") == {"o": "x"}
    with pytest.raises(errors.AuthorizationError, match="expired"):
        at(NOW + 61).verify(token, "upload")


def test_a_token_is_only_good_for_its_purpose() -> None:
    token = at(NOW).sign("download", {"o": "x"}, 60)

    with pytest.raises(errors.AuthorizationError, match="not valid for this request"):
        at(NOW).verify(token, "upload")


def test_a_token_signed_with_another_key_is_refused() -> None:
    token = at(NOW, b"other key").sign("upload", {"o": "x"}, 60)

    with pytest.raises(errors.AuthorizationError, match="signature"):
        at(NOW).verify(token, "upload")


def test_a_changed_subject_breaks_the_signature() -> None:
    token = at(NOW).sign("upload", {"o": "aaaa"}, 60)
    other = at(NOW).sign("upload", {"o": "bbbb"}, 60)
    mixed = f"{other.partition('.')[0]}.{token.partition('.')[2]}"

    with pytest.raises(errors.AuthorizationError, match="signature"):
        at(NOW).verify(mixed, "upload")


@pytest.mark.parametrize(
    "token",
    [
        "",
        ".",
        "abc",
        "abc.",
        ".abc",
        "a.b.c",
        "é.é",
        "%00.%00",
        pytest.param("x" * 5000, id="long"),
    ],
)
def test_a_malformed_token_is_refused(token: str) -> None:
    with pytest.raises(errors.AuthorizationError):
        at(NOW).verify(token, "upload")
