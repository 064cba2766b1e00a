"""`hubstead fsck` and `hubstead gc`: check and clean the blob and xorb stores of a data dir.

Both work on the data dir directly and are safe while a server runs on it. fsck re-hashes every
LFS object and re-verifies every xorb (it reads all of them: expect it to take as long as reading
the disk), checks every Xet file's terms, every repo's pointers and the LFS index; it exits 0
when nothing is damaged and 1 when something is (a corrupt object or xorb, a pointer or index row
whose object is missing, a Xet file naming what no xorb holds). gc removes the objects no repo
references, the Xet files no repo links and the xorbs no file uses, stale multipart uploads and
temporary files, once older than the grace period (xorbs: the longer `xet_xorb_grace_seconds`);
it exits 1 without removing any object when a repo's git data cannot be read. Reports go to
stdout (`--json` for scripts); progress goes to stderr.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hubstead.cli._errors import CliError
from hubstead.cli.server import load, open_hub, storage_options

if TYPE_CHECKING:
    from hubstead.server.domain.upkeep import Leftover, Progress
    from hubstead.server.services.upkeep import BadLink, BadPointer, FsckReport, GcReport
    from hubstead.server.services.xet.upkeep import BadXorb, XetCheck, XetCollection

EXIT_DAMAGED = 1
_EVERY = 1000  # without a terminal, one progress line per this many items
_REFRESH_SECONDS = 0.2


class _ProgressLine:
    """Progress on stderr: one line redrawn in place on a terminal, else a line now and then."""

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()
        self._shown = 0.0

    def __call__(self, progress: Progress) -> None:
        last = progress.done == progress.total
        text = f"{progress.phase}: {progress.done}/{progress.total}"
        if progress.bytes:
            text += f" ({_size(progress.bytes)} read)"
        if self._tty:
            now = time.monotonic()
            if last or now - self._shown >= _REFRESH_SECONDS:
                self._shown = now
                click.echo(f"\r\033[K{text}", err=True, nl=last)
        elif last or progress.done % _EVERY == 0:
            click.echo(text, err=True)


def _size(count: float) -> str:
    if count < 1024:
        return f"{count:.0f} bytes"
    for unit in ("KiB", "MiB", "GiB"):
        count /= 1024
        if count < 1024:
            return f"{count:.1f} {unit}"
    return f"{count / 1024:.1f} TiB"


def _age(modified_at: float) -> str:
    hours = (time.time() - modified_at) / 3600
    return f"{hours:.1f} h old" if hours < 48 else f"{hours / 24:.1f} days old"


def _where(pointer: BadPointer) -> str:
    at = f"at the tip of {pointer.ref}" if pointer.ref else "in history"
    commit = pointer.commit_id[:12]
    return f"{pointer.repo_type} {pointer.repo_id}: {pointer.path!r} {at} (commit {commit})"


def _missing(sha256: str, size: int, stored: int | None) -> str:
    state = "is missing" if stored is None else f"is stored with {stored} bytes"
    return f"object {sha256} ({size} bytes) {state}"


_LEFTOVER_KINDS = {
    "upload": "stale multipart upload",
    "temp": "temporary file",
    "git-quarantine": "git push quarantine",
    "git-temp": "git temporary file",
    "git-unreachable": "git objects no ref reaches in",
}


def _leftover(item: Leftover, store: str = "") -> str:
    what = _LEFTOVER_KINDS.get(item.kind, "leftover")
    return f"{store}{what} {item.name} ({_size(item.size)}, {_age(item.modified_at)})"


def _bad_xorb(xorb: BadXorb) -> str:
    if xorb.stored_size is None:
        state = "is missing"
    elif xorb.error is None:
        state = f"is stored with {xorb.stored_size} bytes"
    else:
        state = f"does not verify: {xorb.error}"
    return f"xorb {xorb.hash} ({xorb.size} bytes) {state}"


def _checked_xet(xet: XetCheck) -> str:
    """What fsck read of Xet storage, for its summary; empty on a hub without any."""
    if not (xet.xorbs or xet.files):
        return ""
    return f", {xet.xorbs} xorbs ({_size(xet.xorb_bytes)}) holding {xet.files} Xet files,"


def _collected_xet(xet: XetCollection, verb: str) -> str:
    """What gc did in Xet storage, for its summary; empty when it found nothing there."""
    if not (xet.files or xet.xorbs or xet.used or xet.recent):
        return ""
    hours = xet.xorb_grace_seconds / 3600
    return (
        f" {verb} {len(xet.files)} Xet files no repo links and {len(xet.xorbs)} xorbs; kept "
        f"{xet.used} xorbs in use and {xet.recent} unused ones younger than {hours:g} h."
    )


def _link(link: BadLink) -> str:
    owner = f"{link.repo_type} {link.repo_id}"
    return f"{owner}: linked {_missing(link.sha256, link.size, link.stored_size)}"


def _print_fsck(report: FsckReport) -> None:
    for obj in report.corrupt:
        click.echo(f"CORRUPT   object {obj.sha256}: its bytes hash to {obj.actual_sha256}")
    for pointer in report.dangling:
        missing = _missing(pointer.sha256, pointer.size, pointer.stored_size)
        click.echo(f"DANGLING  {_where(pointer)}: {missing}")
    for link in report.bad_links:
        click.echo(f"INDEX     {_link(link)}")
    for repo in report.unreadable:
        click.echo(f"GIT       {repo.repo_type} {repo.repo_id}: cannot read it: {repo.error}")
    for pointer in report.purged:
        click.echo(f"PURGED    {_where(pointer)}: object {pointer.sha256} was deleted on request")
    xet = report.xet
    for xorb in xet.bad_xorbs:
        click.echo(f"XORB      {_bad_xorb(xorb)}")
    for file in xet.bad_files:
        click.echo(f"XET FILE  file {file.hash} (sha256 {file.sha256}): {file.error}")
    for orphan in xet.orphans:
        age = f"{_size(orphan.size)}, {_age(orphan.modified_at)}"
        click.echo(f"ORPHAN    xorb {orphan.hash} ({age}) is stored but not recorded")
    for item in [*report.leftovers, *report.git_leftovers]:
        click.echo(f"LEFTOVER  {_leftover(item)}")
    for item in xet.leftovers:
        click.echo(f"LEFTOVER  {_leftover(item, 'xorb store ')}")
    xet_damage = (
        f"{len(xet.bad_xorbs)} missing or corrupt xorbs, "
        f"{len(xet.bad_files)} Xet files naming what no xorb holds, "
        if xet.damaged
        else ""
    )
    click.echo(
        f"Checked {report.objects} objects ({_size(report.bytes)}){_checked_xet(xet)} and "
        f"{report.repos} repos: "
        + (
            f"{len(report.corrupt)} corrupt objects, {len(report.dangling)} dangling pointers, "
            f"{len(report.bad_links)} index rows without their object, {xet_damage}"
            f"{len(report.unreadable)} unreadable repos."
            if report.damaged
            else "no damage found."
        )
    )


def _print_gc(report: GcReport, grace_hours: float) -> None:
    for repo in report.unreadable:
        click.echo(f"GIT       {repo.repo_type} {repo.repo_id}: cannot read it: {repo.error}")
    if report.unreadable:
        click.echo("Kept every object: what unreadable repos reference is unknown (see fsck).")
    verb = "Would remove" if report.dry_run else "Removed"
    for link in report.links:
        click.echo(f"{verb} index row {_link(link)}")
    for obj in report.objects:
        click.echo(f"{verb} object {obj.sha256} ({_size(obj.size)}, {_age(obj.modified_at)})")
    xet = report.xet
    for file in xet.files:
        click.echo(f"{verb} Xet file {file.hash} (sha256 {file.sha256}, {_size(file.size)})")
    for xorb in xet.xorbs:
        click.echo(f"{verb} xorb {xorb.hash} ({_size(xorb.size)}, {_age(xorb.modified_at)})")
    for item in [*report.leftovers, *report.git_leftovers]:
        click.echo(f"{verb} {_leftover(item)}")
    for item in xet.leftovers:
        click.echo(f"{verb} {_leftover(item, 'xorb store ')}")
    leftovers = len(report.leftovers) + len(report.git_leftovers) + len(xet.leftovers)
    click.echo(
        f"{verb} {len(report.objects)} objects and {leftovers} leftovers "
        f"({_size(report.freed_bytes)}); kept {report.referenced} referenced objects and "
        f"{report.recent} unreferenced ones younger than {grace_hours:g} h."
        + _collected_xet(xet, verb)
        + (f" Pruned and repacked {report.repacked} git repos." if report.repacked else "")
    )


def _as_json(report: FsckReport | GcReport, **extra: Any) -> str:
    return json.dumps({**dataclasses.asdict(report), **extra}, indent=2)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON for scripts.")
@storage_options
def fsck(
    as_json: bool, data_dir: Path | None, database_url: str | None, config_file: Path | None
) -> None:
    """Check every LFS object, xorb, Xet file, pointer and index row; exit 1 if anything is damaged.

    Corrupt objects (bytes that do not hash to their name), dangling pointers (a file at a ref
    or in history whose object is missing or has another size), index rows without their
    object, missing or corrupt xorbs and Xet files naming what no xorb holds are damage.
    Objects deleted on request that old commits still name, xorbs stored but not recorded,
    temporary files and stale uploads are listed but are not damage.
    """
    settings = load(config_file, data_dir=data_dir, database_url=database_url)
    with open_hub(settings) as hub:
        report = hub.upkeep.fsck(on_progress=_ProgressLine())
    if as_json:
        click.echo(_as_json(report, damaged=report.damaged))
    else:
        _print_fsck(report)
    if report.damaged:
        sys.exit(EXIT_DAMAGED)


@click.command()
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@click.option(
    "--grace-hours",
    type=float,
    default=24.0,
    show_default=True,
    help="Keep anything written more recently than this (uploads whose commit is pending).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON for scripts.")
@storage_options
def gc(
    dry_run: bool,
    grace_hours: float,
    as_json: bool,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """Remove LFS objects and xorbs nothing uses, stale uploads and temporary files; repack git.

    An object is referenced when a repo links it (it was uploaded for the repo and not deleted)
    or when a pointer reachable from any ref of any repo names it. Xet files no repo links are
    forgotten, and the xorbs no remaining file uses are removed once older than the xorb grace
    period (the `xet_xorb_grace_seconds` setting, 21 days by default). In the git repos, quarantines
    of pushes that never finished, git temporary files and objects no ref reaches (aborted
    commits, squashed history, deleted branches) go, and each repo is repacked. Anything
    written within the grace period stays. Safe while the server runs.
    """
    if grace_hours < 0:
        raise CliError("--grace-hours must be 0 or more")
    settings = load(config_file, data_dir=data_dir, database_url=database_url)
    with open_hub(settings) as hub:
        report = hub.upkeep.gc(
            grace=dt.timedelta(hours=grace_hours), dry_run=dry_run, on_progress=_ProgressLine()
        )
    if as_json:
        click.echo(_as_json(report, freed_bytes=report.freed_bytes))
    else:
        _print_gc(report, grace_hours)
    if report.unreadable:
        sys.exit(EXIT_DAMAGED)
