"""`hubstead download REPO [FILES...]`: files or a whole repo, into the cache or a folder.

Like `hf download`: one file prints its path; no file (with `--include`/`--exclude`) or several
files download a snapshot and print its folder. Files go to the Hugging Face cache (shared with
`huggingface_hub`) unless `--local-dir` is given. Progress bars go to stderr on a terminal.
"""

from __future__ import annotations

from pathlib import Path

import click

from hubstead.cli._client import (
    cache_dir_option,
    open_api,
    repo_type_option,
    revision_option,
    token_option,
)
from hubstead.cli._errors import EXIT_USAGE, CliError, reports_client_errors
from hubstead.cli._output import emit_json, json_option


@click.command("download")
@click.argument("repo_id")
@click.argument("filenames", nargs=-1)
@repo_type_option
@revision_option
@click.option("--include", multiple=True, metavar="PATTERN", help="Download only matching files.")
@click.option("--exclude", multiple=True, metavar="PATTERN", help="Skip matching files.")
@cache_dir_option
@click.option(
    "--local-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Put the files in this folder (at their repo paths) instead of the cache.",
)
@click.option("--force-download", is_flag=True, help="Download even what is cached.")
@click.option("--max-workers", type=click.IntRange(1), default=8, show_default=True,
              help="Files downloaded at once.")  # fmt: skip
@click.option("--quiet", "-q", is_flag=True, help="No progress bars; print only the path.")
@token_option
@json_option
@reports_client_errors
def download(
    repo_id: str,
    filenames: tuple[str, ...],
    repo_type: str,
    revision: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    cache_dir: Path | None,
    local_dir: Path | None,
    force_download: bool,
    max_workers: int,
    quiet: bool,
    token: str | None,
    as_json: bool,
) -> None:
    """Download files of a repo and print where they are.

    One of FILENAMES prints its path; several, or none (every file, or those --include and
    --exclude select), print the snapshot folder. Files go to the Hugging Face cache (shared
    with huggingface_hub) unless --local-dir is given.
    """
    if filenames and (include or exclude):
        raise CliError(
            "--include and --exclude select files when no FILENAMES are given", EXIT_USAGE
        )
    progress = False if quiet or as_json else None
    with open_api(token) as api:
        if len(filenames) == 1:
            path = api.hf_hub_download(
                repo_id,
                filenames[0],
                repo_type=repo_type,
                revision=revision,
                cache_dir=cache_dir,
                local_dir=local_dir,
                force_download=force_download,
                progress=progress,
            )
        else:
            path = api.snapshot_download(
                repo_id,
                repo_type=repo_type,
                revision=revision,
                cache_dir=cache_dir,
                local_dir=local_dir,
                force_download=force_download,
                allow_patterns=list(filenames or include) or None,
                ignore_patterns=list(exclude) or None,
                max_workers=max_workers,
                progress=progress,
            )
    if as_json:
        emit_json({"repo_id": repo_id, "repo_type": repo_type, "revision": revision, "path": path})
    else:
        click.echo(path)
