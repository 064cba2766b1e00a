"""`Sealer`: secrets sealed with AES-GCM under a key file, bound to their Space and key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from hubstead.server.services.sealing import Sealer
from hubstead.server.storage.secret_key import load_secret_key


def sealer(path: Path) -> Sealer:
    return Sealer(lambda: load_secret_key(path))


def test_a_sealed_value_opens_for_its_space_and_key_only(tmp_path: Path) -> None:
    box = sealer(tmp_path / "space-secrets.key")

    sealed = box.seal(7, "API_KEY", "hunter2")

    assert b"hunter2" not in sealed
    assert box.open(7, "API_KEY", sealed) == "hunter2"
    for repo_id, key in [(8, "API_KEY"), (7, "OTHER")]:
        with pytest.raises(InvalidTag):
            box.open(repo_id, key, sealed)


def test_sealing_twice_gives_different_bytes(tmp_path: Path) -> None:
    box = sealer(tmp_path / "space-secrets.key")

    assert box.seal(7, "K", "same") != box.seal(7, "K", "same")


def test_the_key_file_is_made_private_on_first_use_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "space-secrets.key"
    box = sealer(path)
    assert not path.exists()

    sealed = box.seal(1, "K", "v")

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sealer(path).open(1, "K", sealed) == "v"


def test_another_key_file_cannot_open_the_value(tmp_path: Path) -> None:
    sealed = sealer(tmp_path / "a.key").seal(1, "K", "v")

    with pytest.raises(InvalidTag):
        sealer(tmp_path / "b.key").open(1, "K", sealed)
