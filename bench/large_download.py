"""Items 1 and 2: one large LFS file downloaded from the hub, against nginx sending the same bytes.

A hub (`hubstead serve`, its own process) stores one file of random bytes as LFS. The reference
is nginx sending the very blob file the hub stores, with `sendfile on` (`StaticNginx`).

1. Server side: `curl -L` of the resolve URL to /dev/null (the hub redirects to its blob URL and
   sends the bytes itself) against curl from the reference nginx to /dev/null; and the same
   through the documented nginx download offload (docs/operations.md: the hub checks the URL and
   answers with `X-Accel-Redirect`, nginx sends the file).
2. End to end to disk: hubstead's `hf_hub_download` (parallel range requests, sha256 checked while
   receiving) and the official `huggingface_hub.hf_hub_download` (plain HTTP, Xet off) into a
   fresh cache, against `curl` from the reference nginx to a file on the same disk; and both
   clients through a link capped per connection (`ProxyLink`), where hubstead's parallel
   range requests count.

The reference checks nothing while hubstead's client verifies the sha256 as it receives: the
notes of 2a also give curl followed by a sha256 of the file, a verified download with standard
tools. The cases take turns within each run, so a machine slowing down mid-run hits them all
alike; the page cache holds the blob throughout (it is read once before timing), and dirty pages
of the previous sample are flushed before each download to disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import huggingface_hub
from tests.helpers.nginx import Nginx, offload_site

from bench._core import BenchContext, GiB, MiB, Result, make_result, median, throughput, timed
from bench._large import (
    FILENAME,
    LargeFile,
    ProxyLink,
    StaticNginx,
    check_size,
    cpu_seconds,
    curl_seconds,
    seed_large_file,
)
from hubstead.client.downloads import hf_hub_download

OFFLOAD_PREFIX = "/_hubstead_blobs/"
LINK_MIB_S = 100
DOWNLOAD_GOAL = ">= 0.8"
TO_DISK_GOAL = ">= 0.9"
Sample = Callable[[], float]


def measure(ctx: BenchContext) -> list[Result]:
    """Items 1 and 2 (see the module docstring)."""
    hub = ctx.start_hub(name="download")
    large = seed_large_file(ctx, hub, "large-download")
    offload_hub = ctx.start_hub(
        data_dir=hub.data_dir, name="download-offload", x_accel_redirect_prefix=OFFLOAD_PREFIX
    )
    if ctx.nginx is None:
        raise RuntimeError("nginx is not installed (apt-get install nginx): it is the reference")
    with contextlib.ExitStack() as stack:
        static = StaticNginx(ctx, large.blob_path).start()
        stack.callback(static.stop)
        offload = Nginx(
            ctx.fresh_dir("nginx-offload"), offload_site(offload_hub.url, hub.data_dir / "blobs")
        )
        stack.callback(offload.stop)
        offload.start()
        link = ProxyLink(hub.url, LINK_MIB_S * MiB)
        stack.callback(link.close)
        return _measure(ctx, large, static, offload.url, link)


def _measure(
    ctx: BenchContext, large: LargeFile, static: StaticNginx, offload: str, link: ProxyLink
) -> list[Result]:
    token = large.hub.admin_token
    offload_url = large.resolve_url.replace(large.hub.url, offload)
    size = large.size

    cpu: dict[str, list[float]] = {"hub": [], "nginx": []}

    def to_null(url: str, auth: str | None, server: tuple[str, int] | None = None) -> Sample:
        def sample() -> float:
            used = cpu_seconds(server[1]) if server else 0.0
            seconds = curl_seconds(url, os.devnull, size, auth)
            if server:
                cpu[server[0]].append((cpu_seconds(server[1]) - used) * GiB / size)
            return seconds

        return sample

    def to_disk(download: Callable[[Path], Path]) -> Sample:
        def sample() -> float:
            target = ctx.fresh_dir("download-target")
            os.sync()
            seconds = timed(lambda: check_size(download(target), size))
            shutil.rmtree(target)
            return seconds

        return sample

    def curl_to_disk(target: Path) -> Path:
        curl_seconds(static.file_url, str(target / FILENAME), size)
        return target / FILENAME

    def curl_then_hash(target: Path) -> Path:
        output = curl_to_disk(target)
        with output.open("rb") as file:
            hashlib.file_digest(file, "sha256")
        return output

    def ours(endpoint: str) -> Callable[[Path], Path]:
        def run(target: Path) -> Path:
            return Path(
                hf_hub_download(
                    large.repo_id,
                    FILENAME,
                    endpoint=endpoint,
                    token=token,
                    cache_dir=target,
                    progress=False,
                )
            )

        return run

    def official_via(endpoint: str) -> Callable[[Path], Path]:
        def run(target: Path) -> Path:
            return Path(
                huggingface_hub.hf_hub_download(
                    large.repo_id, FILENAME, endpoint=endpoint, token=token, cache_dir=target
                )
            )

        return run

    official = official_via(large.hub.url)

    cases: dict[str, Sample] = {
        "nginx": to_null(static.file_url, None, ("nginx", static.worker_pid)),
        "hub": to_null(large.resolve_url, token, ("hub", large.hub.pid)),
        "offload": to_null(offload_url, token),
        "curl to disk": to_disk(curl_to_disk),
        "curl to disk, then sha256": to_disk(curl_then_hash),
        "ours to disk": to_disk(ours(large.hub.url)),
        "ours to disk, offload": to_disk(ours(offload)),
        "official to disk": to_disk(official),
        "ours, capped link": to_disk(ours(link.url)),
        "official, capped link": to_disk(official_via(link.url)),
    }
    ctx.log(f"large download: {size} bytes, {ctx.runs} runs of {len(cases)} cases")
    for warm_up in ("nginx", "hub", "offload"):
        cases[warm_up]()
    seconds: dict[str, list[float]] = {name: [] for name in cases}
    for samples in cpu.values():
        samples.clear()  # the warm-up's
    for _ in range(ctx.runs):
        for name, sample in cases.items():
            seconds[name].append(sample())
    rates = {name: throughput(size, samples) for name, samples in seconds.items()}
    mib = size // MiB
    verified = median(rates["curl to disk, then sha256"])
    verified_ratio = median(rates["ours to disk"]) / verified
    return [
        make_result(
            "1a",
            f"{mib} MiB download, server side (hub sends the bytes)",
            ours=rates["hub"],
            reference=rates["nginx"],
            unit="MiB/s",
            higher_is_better=True,
            goal=DOWNLOAD_GOAL,
            notes="curl -L of the resolve URL to /dev/null; reference: curl from nginx "
            "(sendfile) serving the same blob file to /dev/null. CPU time of the server process "
            f"per GiB sent (less sensitive to a busy machine): hub {median(cpu['hub']):.2f} s, "
            f"nginx worker {median(cpu['nginx']):.2f} s.",
        ),
        make_result(
            "1b",
            f"{mib} MiB download, server side (documented nginx offload)",
            ours=rates["offload"],
            reference=rates["nginx"],
            unit="MiB/s",
            higher_is_better=True,
            goal=DOWNLOAD_GOAL,
            notes="As 1a, through the nginx of docs/operations.md: the hub checks the URL and "
            "answers X-Accel-Redirect, nginx sends the file.",
        ),
        make_result(
            "2a",
            f"{mib} MiB download to disk: hubstead client vs curl",
            ours=rates["ours to disk"],
            reference=rates["curl to disk"],
            unit="MiB/s",
            higher_is_better=True,
            goal=TO_DISK_GOAL,
            notes="hubstead's hf_hub_download into a fresh cache (parallel ranges, sha256 "
            "checked while receiving) from the hub sending the bytes; reference: curl from nginx "
            "to a file, which checks nothing. For comparison, curl to a file then sha256 of it "
            f"(a verified download with standard tools): {verified:.0f} MiB/s, ratio "
            f"{verified_ratio:.2f}.",
        ),
        make_result(
            "2b",
            f"{mib} MiB download to disk: hubstead client vs official client",
            ours=rates["ours to disk"],
            reference=rates["official to disk"],
            unit="MiB/s",
            higher_is_better=True,
            goal="> 1",
            notes="Both into a fresh cache from the same hub; the official client over plain "
            "HTTP (HF_HUB_DISABLE_XET=1).",
        ),
        make_result(
            "2c",
            f"{mib} MiB download to disk: hubstead client via nginx offload vs curl",
            ours=rates["ours to disk, offload"],
            reference=rates["curl to disk"],
            unit="MiB/s",
            higher_is_better=True,
            goal=TO_DISK_GOAL,
            notes="As 2a, through the documented nginx offload.",
        ),
        make_result(
            "2d",
            f"{mib} MiB download to disk over a link capped at {LINK_MIB_S} MiB/s per connection: "
            "hubstead client vs official client",
            ours=rates["ours, capped link"],
            reference=rates["official, capped link"],
            unit="MiB/s",
            higher_is_better=True,
            goal="> 1",
            notes="As 2b, through a TCP proxy that sends at most "
            f"{LINK_MIB_S} MiB/s per connection (a CDN, a long fat pipe): what hubstead's "
            "parallel range requests are for.",
        ),
    ]
