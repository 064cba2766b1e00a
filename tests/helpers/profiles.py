"""Marks for the tests that only the embedded profile runs, each with its reason.

Under `--profile=production` the hub keeps LFS objects and xorbs in S3 and hands clients
presigned bucket URLs, so tests that look at the data dir's blob files, or at the hub's own
download URLs, say so here rather than being skipped without a word.
"""

from __future__ import annotations

import pytest

reads_local_blobs = pytest.mark.embedded_only(
    reason="reads the blob or xorb files in the data dir; the production hub keeps them in S3"
)
hub_serves_downloads = pytest.mark.embedded_only(
    reason="checks that the hub serves the bytes itself; the production hub redirects clients "
    "to presigned S3 URLs, which its access log does not show"
)
