"""`hubstead cache scan|delete`: what the Hugging Face cache holds, and freeing space in it.

The cache is the one `huggingface_hub` uses (`--cache-dir`, else `HF_HUB_CACHE`, else
`$HF_HOME/hub`), so these commands see and remove what either client downloaded.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hubstead.cli._client import cache_dir_option, confirm_or_require_yes, repo_type_option
from hubstead.cli._errors import EXIT_NOT_FOUND, CliError, reports_client_errors
from hubstead.cli._output import emit_json, emit_table, json_option

if TYPE_CHECKING:
    from hubstead.client.cache_scan import CachedRepoInfo, HFCacheInfo


@click.group()
def cache() -> None:
    """Inspect and clean the Hugging Face cache.

    It is the cache huggingface_hub uses, so these commands see and remove what either client
    downloaded.
    """


@cache.command("scan")
@cache_dir_option
@json_option
@reports_client_errors
def scan(cache_dir: Path | None, as_json: bool) -> None:
    """List the cached repos with their revisions, refs and sizes."""
    from hubstead.client.cache_scan import scan_cache_dir

    info = scan_cache_dir(cache_dir)
    if as_json:
        emit_json(_info_json(info))
        return
    rows = [
        {
            "repo_id": repo.repo_id,
            "type": repo.repo_type,
            "size": _format_size(repo.size_on_disk),
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
        f"{len(info.repos)} repo(s), {_format_size(info.size_on_disk)} in {info.cache_dir}",
        err=True,
    )
    for warning in info.warnings:
        click.echo(f"warning: {warning}", err=True)


@cache.command("delete")
@click.argument("repo_id")
@repo_type_option
@click.option(
    "--revision",
    "revisions",
    multiple=True,
    metavar="REV",
    help="Delete only this revision (commit or cached ref); repeatable [default: the whole repo].",
)
@cache_dir_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@json_option
@reports_client_errors
def delete(
    repo_id: str,
    repo_type: str,
    revisions: tuple[str, ...],
    cache_dir: Path | None,
    yes: bool,
    as_json: bool,
) -> None:
    """Remove REPO_ID (or some of its revisions) from the cache."""
    from hubstead.client.cache_scan import delete_from_cache, scan_cache_dir

    info = scan_cache_dir(cache_dir)
    if info.repo(repo_id, repo_type) is None:
        raise CliError(
            f"{repo_type} {repo_id} is not in the cache {info.cache_dir}", EXIT_NOT_FOUND
        )
    what = f"{len(revisions)} revision(s) of {repo_id}" if revisions else f"{repo_id} entirely"
    confirm_or_require_yes(f"Delete {what} from {info.cache_dir}?", yes)
    freed = delete_from_cache(
        info.cache_dir, repo_id, repo_type=repo_type, revisions=list(revisions) or None
    )
    if as_json:
        emit_json({"repo_id": repo_id, "repo_type": repo_type, "freed": freed})
    else:
        click.echo(f"Deleted {what}: {_format_size(freed)} freed.", err=True)


def _format_size(size: int) -> str:
    """A byte count for humans: `512`, `1.5K`, `3.2G`."""
    value = float(size)
    for unit in ("", "K", "M", "G", "T"):
        if value < 1000 or unit == "T":
            return f"{value:.0f}" if unit == "" else f"{value:.1f}{unit}"
        value /= 1000
    raise AssertionError("unreachable")


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
