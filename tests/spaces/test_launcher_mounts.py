"""The launcher's mounts: folders bound read-only in a mount namespace of the process's own.

Processes are started as the runner starts apps (`spawn`), here as root so that the folders
of the test's temporary dir are reachable: the mounts are read-only for root too.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hubstead.server.spaces.processes import Identity, spawn
from tests.spaces.conftest import LIMITS

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mount namespaces need root")

_SHELL = "/bin/sh"


def _run(
    script: str, mounts: list[tuple[Path, Path]], masks: tuple[Path, ...] = ()
) -> tuple[int, str]:
    process = spawn(
        [_SHELL, "-c", script],
        identity=Identity(uid=None),
        limits=LIMITS,
        env={"PATH": "/usr/bin:/bin"},
        cwd=Path("/"),
        umask=0o077,
        mounts=mounts,
        masks=masks,
    )
    assert process.stdout is not None
    with process.stdout:
        output = process.stdout.read().decode()
    return process.wait(), output


def _mount_points(mountinfo: str) -> set[str]:
    return {line.split()[4] for line in mountinfo.splitlines()}


def test_a_folder_is_bound_read_only_where_the_machine_does_not_see_it(tmp_path: Path) -> None:
    tree, point, hidden = tmp_path / "tree", tmp_path / "point", tmp_path / "hidden"
    for folder in (tree, point, hidden):
        folder.mkdir()
    (tree / "config.json").write_text("mounted\n")
    (hidden / "secret").write_text("the hub's\n")

    status, output = _run(
        f"cat {point}/config.json; echo changed > {point}/config.json; ls -A {hidden}; "
        "echo --; cat /proc/self/mountinfo",
        [(tree, point)],
        (hidden,),
    )

    assert status == 0, output
    seen, mountinfo = output.split("--\n")
    assert seen.splitlines()[0] == "mounted"
    assert "Read-only file system" in seen.splitlines()[1]
    assert "secret" not in seen  # an empty tmpfs hides it
    assert {str(point), str(hidden)} <= _mount_points(mountinfo)
    assert (tree / "config.json").read_text() == "mounted\n"
    here = _mount_points(Path("/proc/self/mountinfo").read_text())
    assert str(point) not in here
    assert str(hidden) not in here


def test_a_mount_that_fails_ends_the_process_saying_why(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    missing = tmp_path / "missing"

    status, output = _run("echo started", [(tree, missing)])

    assert status == 1
    assert output.strip() == (
        f"The volumes could not be mounted: cannot mount {missing}: No such file or directory"
    )
