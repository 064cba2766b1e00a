"""The Space build job: `space.build` builds a Space's default branch and starts its app.

See `services/spaces/builds.py` for what a build does and which process then owns the app. A
build that fails is a stage of the Space (BUILD_ERROR, RUNTIME_ERROR, ...), not a failed job:
the job fails only when the hub itself does (the database, the disk), and is not retried.
"""

from __future__ import annotations

from hubstead.server.jobs.runner import JobContext
from hubstead.server.services.spaces.builds import KIND

__all__ = ["KIND", "run_build_job"]


def run_build_job(context: JobContext) -> None:
    """Build the Space named in the payload."""
    context.services.space_builds.build(int(context.payload["space"]), note=context.log)
