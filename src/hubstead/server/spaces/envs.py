"""The virtual environments of Space apps: one per distinct set of inputs, built once with uv.

An environment is named by a hash of what goes into it: the SDK and its version, the Python
asked for, and the bytes of the Space's `requirements.txt`. Every Space with the same inputs
shares it, and a commit that changes none of them starts at once. It is built under a lock
of its name (several server processes share the directory), by the builder user, into a
scratch directory that is renamed into place when complete: a failed or concurrent build
never leaves half an environment. Then it is given to root, so no later build (which runs
the code of `setup.py` files as the builder) and no app can change it. uv keeps its cache
beside the environments.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import uv

from hubstead.server.domain.spaces import SpaceSdk
from hubstead.server.services.spaces.runner import AppSpec, LogSink, SpaceRunError
from hubstead.server.spaces.processes import Identity, Limits, make_directory, pump, spawn

REQUIREMENTS_FILE = "requirements.txt"
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
"""Where uv looks for a Python, and what apps find after their environment's `bin`."""

_KEY_CHARS = 32
_ERROR_LINES = 20
_SDK_PACKAGES = {SpaceSdk.GRADIO: "gradio", SpaceSdk.STREAMLIT: "streamlit"}
_ROOT = Identity(uid=0, gid=0)


@dataclasses.dataclass(frozen=True)
class PackageIndex:
    """Where packages come from: an index (None: uv's default, PyPI), wheel locations."""

    url: str | None = None
    find_links: tuple[str, ...] = ()
    no_index: bool = False

    def uv_arguments(self) -> list[str]:
        """The options of `uv pip install` that select these sources."""
        arguments = ["--no-index"] if self.no_index else []
        if self.url is not None and not self.no_index:
            arguments += ["--index-url", self.url]
        for location in self.find_links:
            arguments += ["--find-links", location]
        return arguments


class Environments:
    """The environments under `root/envs`, built as `builder` with `limits`.

    `hold` takes the name of a lock and holds it (across processes) for a block; `python`
    is the Python asked of uv when a Space names none (a path or a version).
    """

    def __init__(
        self,
        root: Path,
        *,
        hold: Callable[[str], AbstractContextManager[None]],
        index: PackageIndex,
        python: str | None,
        builder: Identity,
        limits: Limits,
    ) -> None:
        self._envs = root / "envs"
        self._cache = root / "uv-cache"
        self._home = root / "builder"
        self._uv = root / "bin" / "uv"
        self._hold = hold
        self._index = index
        self._python = python or f"{sys.version_info.major}.{sys.version_info.minor}"
        self._builder = builder
        self._limits = limits

    def _prepare(self) -> None:
        """Make the directories and copy uv, at the first build (a hub may never run a Space).

        The cache and the builder's home are given to the builder when they are not its own
        yet (new, or made for another `spaces_builder_uid`): what the builder writes in them
        is its own already, so the cache is not walked on every build.
        """
        make_directory(self._envs, 0o755)
        for private in (self._cache, self._home):
            private.mkdir(mode=0o700, exist_ok=True)
            if self._builder.uid is not None and private.stat().st_uid != self._builder.uid:
                self._builder.own(private)
        _install_uv(self._uv)

    def path(self, spec: AppSpec) -> Path:
        """Where `spec`'s environment is (when it has been built)."""
        return self._envs / self._key(spec)

    def build(self, spec: AppSpec, log: LogSink, *, fresh: bool) -> Path:
        """Build `spec`'s environment unless it exists (or `fresh`); return its path.

        A fresh build replaces the environment whole, without uv's cache: apps still running
        from the one it replaces (of Spaces with the same inputs) should be restarted.

        Raises:
            SpaceRunError: uv failed; the message ends with its last lines.
        """
        package = _SDK_PACKAGES.get(spec.config.sdk)
        if package is None:
            raise SpaceRunError(f"The local runner does not run {spec.config.sdk} Spaces")
        key = self._key(spec)
        target = self._envs / key
        with self._hold(f"space-env-{key}"):
            self._prepare()
            if target.is_dir() and not fresh:
                log(f"Using the environment {key}, built before for the same requirements")
                return target
            log(f"Building the environment {key}")
            # Under the lock, a scratch dir of this key is what an ended process left.
            for leftover in self._envs.glob(f".{key}-*"):
                shutil.rmtree(leftover, ignore_errors=True)
            with self._scratch(key) as scratch:
                self._install(spec, package, scratch, log, fresh=fresh)
                if self._builder.uid is not None:
                    _ROOT.own(scratch / "env")
                if target.is_dir():
                    target.rename(scratch / "previous")
                (scratch / "env").rename(target)
        log(f"Built the environment {key}")
        return target

    def _key(self, spec: AppSpec) -> str:
        inputs = {
            "sdk": spec.config.sdk.value,
            "sdk_version": spec.config.sdk_version,
            "python": spec.config.python_version or self._python,
            "requirements": hashlib.sha256(_requirements(spec) or b"").hexdigest(),
        }
        digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode())
        return digest.hexdigest()[:_KEY_CHARS]

    @contextlib.contextmanager
    def _scratch(self, key: str) -> Iterator[Path]:
        """A directory of the builder's beside the environments, removed after the block."""
        scratch = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=self._envs))
        try:
            self._builder.own(scratch)
            yield scratch
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _install(
        self, spec: AppSpec, package: str, scratch: Path, log: LogSink, *, fresh: bool
    ) -> None:
        python = spec.config.python_version or self._python
        env = scratch / "env"
        self._uv_run(["venv", "--relocatable", "--python", python, str(env)], scratch, log)
        wanted = (
            package if spec.config.sdk_version is None else f"{package}=={spec.config.sdk_version}"
        )
        command = ["pip", "install", "--python", str(env / "bin" / "python"), "--compile-bytecode"]
        command += self._index.uv_arguments()
        if fresh:
            command.append("--no-cache")
        command.append(wanted)
        requirements = _requirements(spec)
        if requirements is not None:
            # The builder may not reach the Space's files: it reads a copy of its own.
            copy = scratch / REQUIREMENTS_FILE
            copy.write_bytes(requirements)
            self._builder.own(copy)
            command += ["-r", str(copy)]
        self._uv_run(command, scratch, log)

    def _uv_run(self, arguments: list[str], scratch: Path, log: LogSink) -> None:
        environment = {
            "PATH": SYSTEM_PATH,
            "HOME": str(self._home),
            "LANG": "C.UTF-8",
            "TMPDIR": str(scratch),
            "UV_CACHE_DIR": str(self._cache),
            "UV_LINK_MODE": "copy",
            "UV_NO_CONFIG": "1",
            "UV_NO_PROGRESS": "1",
            "UV_PYTHON_DOWNLOADS": "never",
        }
        process = spawn(
            [str(self._uv), *arguments],
            identity=self._builder,
            limits=self._limits,
            env=environment,
            cwd=scratch,
            umask=0o022,  # the environment is for every app to read
        )
        assert process.stdout is not None
        last = pump(process.stdout, log, tail=_ERROR_LINES)
        if process.wait() != 0:
            details = "\n".join(line for line in last if line.strip())
            raise SpaceRunError(f"The environment did not build:\n{details}")


def _requirements(spec: AppSpec) -> bytes | None:
    """The bytes of the Space's `requirements.txt`, None when it has none.

    Raises:
        SpaceRunError: it is a link, which the hub (root, or with CAP_DAC_OVERRIDE) would
            follow to a file of its own.
    """
    path = spec.source_dir / REQUIREMENTS_FILE
    if path.is_symlink():
        raise SpaceRunError(f"{REQUIREMENTS_FILE} must be a file, not a symbolic link")
    return path.read_bytes() if path.is_file() else None


def _install_uv(target: Path) -> None:
    """Copy the uv of the hub's Python into `target`, where the builder can run it."""
    source = Path(uv.find_uv_bin())
    stat = source.stat()
    with contextlib.suppress(FileNotFoundError):
        copied = target.stat()
        if (copied.st_size, copied.st_mtime_ns) == (stat.st_size, stat.st_mtime_ns):
            return
    make_directory(target.parent, 0o755)
    partial = target.with_name(f".uv-{os.getpid()}")
    shutil.copy2(source, partial)
    partial.chmod(0o755)
    partial.replace(target)
