"""`modelhub cache scan|delete`: what the Hugging Face cache holds, and freeing space in it.

The cache is the one `huggingface_hub` uses (`--cache-dir`, else `HF_HUB_CACHE`, else
`$HF_HOME/hub`), so these commands see and remove what either client downloaded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from modelhub.cli._client import REPO_TYPES, confirm_or_require_yes
from modelhub.cli._errors import EXIT_NOT_FOUND, CliError
from modelhub.cli._output import emit_json, emit_table, json_option

if TYPE_CHECKING:
    from modelhub.client.cache_scan import CachedRepoInfo, HFCacheInfo

F = TypeVar("F", bound=Callable[..., Any])


def _cache_dir_option(command: F) -> F:
    return click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Cache to use [default: HF_HUB_CACHE, else ~/.cache/huggingface/hub].",
    )(command)


@click.group()
def cache() -> None:
    """Inspect and clean the Hugging Face cache (shared with huggingface_hub)."""


@cache.command("scan")
@_cache_dir_option
@json_option
def scan(cache_dir: Path | None, as_json: bool) -> None:
    """List the cached repos with their revisions, refs and sizes."""
    info = _scan(cache_dir)
    if as_json:
        emit_json(_info_json(info))
        return
    rows = [
        {
            "repo_id": repo.repo_id,
            "type": repo.repo_type,
            "size": format_size(repo.size_on_disk),
            "files": repo.nb_files,
            "revisions": len(repo.revisions),
            "refs": ", ".join(sorted(repo.refs)) or "-",
            "last_modified": _date(repo.last_modified),
        }
        for repo in info.repos
    ]
    emit_table(
        rows, False, ["repo_id", "type", "size", "files", "revisions", "refs", "last_modified"]
    )
    click.echo(
        f"{len(info.repos)} repo(s), {format_size(info.size_on_disk)} in {info.cache_dir}", err=True
    )
    for warning in info.warnings:
        click.echo(f"warning: {warning}", err=True)


@cache.command("delete")
@click.argument("repo_id")
@click.option(
    "--repo-type", type=click.Choice(REPO_TYPES), default="model", show_default=True,
    help="Kind of repo.",
)  # fmt: skip
@click.option(
    "--revision",
    "revisions",
    multiple=True,
    metavar="REV",
    help="Delete only this revision (commit or cached ref); repeatable [default: the whole repo].",
)
@_cache_dir_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@json_option
def delete(
    repo_id: str,
    repo_type: str,
    revisions: tuple[str, ...],
    cache_dir: Path | None,
    yes: bool,
    as_json: bool,
) -> None:
    """Remove REPO_ID (or some of its revisions) from the cache."""
    from modelhub.client.cache_scan import CacheNotFoundError, delete_from_cache

    info = _scan(cache_dir)
    repo = info.repo(repo_id, repo_type)
    if repo is None:
        raise CliError(
            f"{repo_type} {repo_id} is not in the cache {info.cache_dir}", EXIT_NOT_FOUND
        )
    what = f"{len(revisions)} revision(s) of {repo_id}" if revisions else f"{repo_id} entirely"
    confirm_or_require_yes(f"Delete {what} from {info.cache_dir}?", yes)
    try:
        freed = delete_from_cache(
            info.cache_dir, repo_id, repo_type=repo_type, revisions=list(revisions) or None
        )
    except CacheNotFoundError as exc:
        raise CliError(str(exc), EXIT_NOT_FOUND) from exc
    if as_json:
        emit_json({"repo_id": repo_id, "repo_type": repo_type, "freed": freed})
    else:
        click.echo(f"Deleted {what}: {format_size(freed)} freed.", err=True)


def format_size(size: int) -> str:
    """A byte count for humans: `512`, `1.5K`, `3.2G`."""
    value = float(size)
    for unit in ("", "K", "M", "G", "T"):
        if value < 1000 or unit == "T":
            return f"{value:.0f}" if unit == "" else f"{value:.1f}{unit}"
        value /= 1000
    raise AssertionError("unreachable")


def _scan(cache_dir: Path | None) -> HFCacheInfo:
    from modelhub.client._config import load_config
    from modelhub.client.cache_scan import CacheNotFoundError, scan_cache_dir

    root = cache_dir if cache_dir is not None else load_config().hub_cache
    try:
        return scan_cache_dir(root)
    except CacheNotFoundError as exc:
        raise CliError(str(exc), EXIT_NOT_FOUND) from exc


def _date(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime("%Y-%m-%d %H:%M")


def _info_json(info: HFCacheInfo) -> dict[str, Any]:
    return {
        "cache_dir": str(info.cache_dir),
        "size_on_disk": info.size_on_disk,
        "repos": [_repo_json(repo) for repo in info.repos],
        "warnings": list(info.warnings),
    }


def _repo_json(repo: CachedRepoInfo) -> dict[str, Any]:
    return {
        "repo_id": repo.repo_id,
        "repo_type": repo.repo_type,
        "path": str(repo.repo_path),
        "size_on_disk": repo.size_on_disk,
        "nb_files": repo.nb_files,
        "refs": repo.refs,
        "last_modified": _date(repo.last_modified),
        "revisions": [
            {
                "commit_hash": rev.commit_hash,
                "refs": list(rev.refs),
                "nb_files": rev.nb_files,
                "size_on_disk": rev.size_on_disk,
                "files": [file.file_name for file in rev.files],
            }
            for rev in repo.revisions
        ],
    }
