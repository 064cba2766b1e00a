"""Upkeep jobs: storage checks that take long enough to be worth running in the background.

Handles `storage.fsck`: the same check as `hubstead fsck`, with its progress and findings in the
job record; it fails (without retrying) when something is damaged.
"""

from __future__ import annotations

from hubstead.server import errors
from hubstead.server.domain.upkeep import Progress
from hubstead.server.jobs.runner import JobContext

FSCK = "storage.fsck"


def run_fsck_job(context: JobContext) -> None:
    """Re-hash every object and check every pointer; log what is damaged.

    Raises:
        HubError: something is damaged (the job fails with a summary).
    """
    phase = ""

    def on_progress(progress: Progress) -> None:
        nonlocal phase
        if progress.phase != phase:
            phase = progress.phase
            context.log(f"checking {phase}")
        context.progress(
            files_done=progress.done, files_total=progress.total, bytes_done=progress.bytes
        )
        context.raise_if_cancelled()

    report = context.services.upkeep.fsck(on_progress)
    context.log(f"checked {report.objects} objects ({report.bytes} bytes) in {report.repos} repos")
    problems = [
        *(f"corrupt object {c.sha256} (hashes to {c.actual_sha256})" for c in report.corrupt),
        *(
            f"{p.repo_type} {p.repo_id}: {p.path} at {p.commit_id[:12]} points to a "
            f"{'missing' if p.stored_size is None else 'wrong-sized'} object {p.sha256}"
            for p in report.dangling
        ),
        *(
            f"{b.repo_type} {b.repo_id}: index row without its object {b.sha256}"
            for b in report.bad_links
        ),
        *(f"{u.repo_type} {u.repo_id}: unreadable ({u.error})" for u in report.unreadable),
        *(
            f"xorb {x.hash}: "
            + ("missing" if x.stored_size is None else x.error or f"{x.stored_size} bytes stored")
            for x in report.xet.bad_xorbs
        ),
        *(f"Xet file {f.hash} (sha256 {f.sha256}): {f.error}" for f in report.xet.bad_files),
    ]
    for problem in problems:
        context.log(problem)
    if report.damaged:
        raise errors.HubError(f"fsck found {len(problems)} problem(s); see the job's log")
