"""The machine a benchmark ran on: hardware, system, and the versions of what was measured."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import re
import subprocess
from pathlib import Path

from bench._core import find_tool

PACKAGES = (
    "hubstead",
    "huggingface_hub",
    "hf_xet",
    "httpx",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "pygit2",
    "sqlalchemy",
)
# Each tool and the argument that makes it print its version.
TOOLS = (("nginx", "-v"), ("curl", "--version"), ("wrk", "-v"), ("git", "--version"))


def describe(workdir: Path) -> list[tuple[str, str]]:
    """Labelled facts about this machine, the disk under `workdir` and the software versions."""
    return [
        ("CPU", _cpu()),
        ("Memory", _memory()),
        ("Disk (work dir)", _disk(workdir)),
        ("System", f"{_os_name()}, Linux {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("Packages", ", ".join(f"{name} {_version(name)}" for name in PACKAGES)),
        ("Tools", ", ".join(_tool_version(tool, flag) for tool, flag in TOOLS)),
    ]


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _cpu() -> str:
    cpuinfo = _read("/proc/cpuinfo")
    models = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    model = models[0].strip() if models else platform.processor() or platform.machine()
    usable = len(os.sched_getaffinity(0))
    virtual = ", virtual machine" if re.search(r"^flags\s*:.*\bhypervisor\b", cpuinfo, re.M) else ""
    return f"{model}, {usable} cores usable ({os.cpu_count()} online){virtual}"


def _memory() -> str:
    found = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.MULTILINE)
    return f"{int(found.group(1)) / 1024 / 1024:.1f} GiB" if found else "unknown"


def _disk(workdir: Path) -> str:
    """The file system under `workdir`: device, type, and whether it spins (from /sys)."""
    target = str(workdir.resolve())
    best = ("", "", "")
    for line in _read("/proc/mounts").splitlines():
        device, mount, fstype, *_ = [*line.split(), "", "", ""][:3]
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best[1]):
            best = (device, mount, fstype)
    device, mount, fstype = best
    block = Path("/sys/class/block") / Path(device).name
    details = []
    rotational = _read(str(block / "queue" / "rotational")).strip()
    if not rotational:
        # A partition's queue belongs to its parent disk.
        rotational = _read(str(block.resolve().parent / "queue" / "rotational")).strip()
    if rotational:
        details.append("reported rotational" if rotational == "1" else "reported non-rotational")
    model = _read(str(block / "device" / "model")).strip()
    if model:
        details.append(model)
    extra = f" ({', '.join(details)})" if details else ""
    return f"{device or 'unknown'} mounted at {mount or '?'}, {fstype or '?'}{extra}"


def _os_name() -> str:
    found = re.search(r'^PRETTY_NAME="?([^"\n]+)"?$', _read("/etc/os-release"), re.MULTILINE)
    return found.group(1) if found else platform.system()


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def _tool_version(tool: str, flag: str) -> str:
    path = find_tool(tool)
    if path is None:
        return f"{tool} absent"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(  # noqa: S603 (a fixed tool and flag)
            [path, flag], capture_output=True, text=True, timeout=10, check=False
        )
        # nginx prints its version on stderr; the others on stdout.
        first = (done.stdout or done.stderr).strip().splitlines()
        if first:
            return _short_version(tool, first[0])
    return f"{tool} (version unknown)"


def _short_version(tool: str, line: str) -> str:
    found = re.search(r"(\d+\.\d+(?:\.\d+)*)", line)
    return f"{tool} {found.group(1)}" if found else line
