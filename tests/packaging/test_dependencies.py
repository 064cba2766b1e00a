"""Every third-party import of the package is declared in the extra that needs it.

A missing declaration does not show in a development install (the `dev` extra pulls in every
tool and their dependencies), only on a user's fresh machine, as a traceback from the README's
first command. So each module's imports are read from its source and checked against
`pyproject.toml`: client and CLI modules may use the base dependencies only, the server also its
`server` extra, the Redis job queue also the `redis` extra.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

import pytest

from hubstead.cli._errors import EXTRA_FOR_MODULE

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "hubstead"

# Where a module's imports may come from, by the module's place in the package: the first
# matching prefix wins. The CLI's server commands import what the server needs lazily, inside the
# command functions (`hubstead --help` must work without the extras): imports inside functions of
# CLI modules may use the optional extras, their module-level imports may not.
EXTRAS_BY_MODULE = [
    ("hubstead/server/jobs/redis_queue.py", ("server", "redis")),
    ("hubstead/server/", ("server",)),
    ("hubstead/", ()),
]
# The file previews read Parquet with pyarrow when the `parquet` extra installed it, and say so
# when it did not.
LAZY_EXTRAS = {
    "hubstead/cli/": ("server", "redis"),
    "hubstead/server/services/previews.py": ("parquet",),
}


def _requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match is not None, requirement
    return _normalize(match.group(0))


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> dict[str, set[str]]:
    """The distributions each extra adds, and the base ones under ''."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {"": {_requirement_name(r) for r in project["dependencies"]}}
    for extra, requirements in project["optional-dependencies"].items():
        declared[extra] = {_requirement_name(r) for r in requirements}
    return declared


def _third_party_imports(source: Path, *, lazy: bool | None = None) -> set[str]:
    """Top-level names of the modules a file imports: at module level (`lazy=False`), inside
    functions (`lazy=True`), or anywhere (`None`)."""
    tree = ast.parse(source.read_text(), str(source))
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    nested = {id(n) for f in functions for n in ast.walk(f)}
    # `if TYPE_CHECKING:` imports (type stubs) never run: they are no dependency.
    type_only = {
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test).endswith("TYPE_CHECKING")
        for statement in block.body
        for n in ast.walk(statement)
    }
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only or (lazy is not None and (id(node) in nested) != lazy):
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "hubstead"}


@functools.cache
def _installed() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _distributions(module: str) -> set[str]:
    found = _installed().get(module)
    assert found, f"{module} is imported but no installed distribution provides it"
    return {_normalize(name) for name in found}


def _extras_for(relative: str, *, lazy: bool) -> tuple[str, ...]:
    extras = next(extras for prefix, extras in EXTRAS_BY_MODULE if relative.startswith(prefix))
    if lazy:
        extras += next((e for p, e in LAZY_EXTRAS.items() if relative.startswith(p)), ())
    return extras


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
@pytest.mark.parametrize("lazy", [False, True], ids=["module-level", "in-functions"])
def test_every_import_is_declared_in_the_extra_that_installs_the_module(
    source: Path, lazy: bool
) -> None:
    declared = _declared()
    relative = str(source.relative_to(PACKAGE.parent))
    extras = _extras_for(relative, lazy=lazy)
    allowed = set(declared[""]).union(*(declared[extra] for extra in extras))
    for module in _third_party_imports(source, lazy=lazy):
        assert _distributions(module) & allowed, (
            f"{relative} imports {module!r}, which none of the dependencies it may use provides "
            f"(base + {list(extras)}); declare it in pyproject.toml"
        )


def test_the_cli_names_the_extra_of_every_optional_dependency() -> None:
    # `hubstead serve` without the server extra says what to install; it recognises the missing
    # module by name, so that table must know every module an extra brings.
    declared = _declared()
    for module in {m for s in SOURCES for m in _third_party_imports(s)}:
        extras = {
            extra
            for extra in ("server", "redis")
            if _distributions(module) & declared[extra]
            and not _distributions(module) & declared[""]
        }
        if extras:
            assert EXTRA_FOR_MODULE.get(module) in extras, (module, extras)
