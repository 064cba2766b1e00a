"""Item 11: one large file down and up with the hub on the s3 blob backend, against boto3 direct.

The bucket is moto's S3 API server, its own process on loopback (`MotoProcess`), and a hub
(`hubstead serve`, its own process) keeps its blobs there (`blob_backend = s3`). The hub hands
out presigned URLs: a download is a 302 to a presigned GET of the object, an upload PUTs to
presigned URLs (parts of a multipart upload, above the multipart threshold) and the hub, at
verify, reads those bytes back to check their sha256 before the object appears under its key.
The reference is boto3 moving the same bytes between the same disk and the same bucket
(`download_file` in one GET, `upload_file` with its defaults: 8 MiB parts, 10 threads), which
checks nothing beyond what S3 does.

- 11a, 11b: the large file downloaded to disk into a fresh cache, by hubstead's
  `hf_hub_download` (parallel range requests to the presigned URL, sha256 checked while
  receiving) and by the official one (one GET, plain HTTP, Xet off), against boto3's
  `download_file` of the object the hub stores, in one GET (see below why not in ranges).
- 11c, 11d: the same size uploaded by hubstead's and the official `HfApi.upload_file` (the
  whole call: hashing, LFS batch, transfer, verify, commit), against boto3's `upload_file` of
  the same file to a key of its own. Each upload sends new content (`new_content`).

Goals. A download through the hub is a redirect and then the same GETs boto3 makes: 0.8. An
upload cannot come near boto3's: the client hashes the file first (the pointer names its
sha256), and the hub trusts no bytes it has not checked, so at verify it reads the object back
from the bucket and writes it again at its final key (a multipart upload's parts streamed
through the hub; a single PUT copied within the bucket): three transfers of the bytes where
boto3 makes one, and a hash. Hence 0.3, about the third of boto3's rate that design allows.

moto is a stand-in for S3 with costs of its own: it keeps objects in temporary files and reads
an object whole for every GET, a ranged one included, so many ranges cost it more than one
stream. The figures compare clients against the same server; what S3 itself would give is not
measured. The notes give the CPU time moto and the hub spent per GiB in each case (less
sensitive to a busy machine than the rates). The cases take turns within each run, and dirty
pages of the previous sample are flushed before each one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

import boto3
import huggingface_hub
from boto3.s3.transfer import TransferConfig
from tests.helpers.s3 import ACCESS_KEY, REGION, SECRET_KEY, MotoS3

from bench._core import (
    BenchContext,
    GiB,
    MiB,
    Result,
    free_port,
    make_result,
    median,
    stop_process,
    throughput,
    timed,
    wait_until_listening,
    write_random_file,
)
from bench._large import FILENAME, check_size, cpu_seconds, upload_large_file
from bench.upload import new_content
from hubstead.client.api import HfApi
from hubstead.client.downloads import hf_hub_download
from hubstead.server.storage.blobs_s3 import S3BlobStore
from hubstead.server.storage.objects_s3 import S3Objects

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BUCKET = "hubstead-bench"
PREFIX = "hub"
REFERENCE_KEY = f"boto3/{FILENAME}"
DOWNLOAD_GOAL = ">= 0.8"
UPLOAD_GOAL = ">= 0.3"
_START_TIMEOUT = 60.0
Sample = Callable[[], float]
# CPU seconds per GiB moved, by case and server ("moto" or "hub"), one per sample.
Cpu = dict[tuple[str, str], list[float]]


def measure(ctx: BenchContext) -> list[Result]:
    """Item 11 (see the module docstring)."""
    with contextlib.ExitStack() as stack:
        moto = MotoProcess(ctx.fresh_dir("moto")).start()
        stack.callback(moto.stop)
        return _measure(ctx, moto)


def _measure(ctx: BenchContext, moto: MotoProcess) -> list[Result]:
    s3 = moto.client()
    s3.create_bucket(Bucket=BUCKET)
    hub = ctx.start_hub(
        name="s3",
        environ=MotoS3.aws_environ(),
        blob_backend="s3",
        s3_bucket=BUCKET,
        s3_prefix=PREFIX,
        s3_endpoint_url=moto.endpoint_url,
        s3_region=REGION,
    )
    large = upload_large_file(ctx, hub, "s3-download")
    key = S3BlobStore(S3Objects(s3, BUCKET, PREFIX)).key(large.sha256)
    if s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] != large.size:
        raise RuntimeError(f"the hub did not store {FILENAME} at {key} in the bucket")
    token, size = hub.admin_token, large.size
    source = ctx.fresh_dir("s3-upload-source") / FILENAME
    write_random_file(source, size)
    official = huggingface_hub.HfApi(endpoint=hub.url, token=token)
    ours_repo = official.create_repo("admin/s3-upload-hubstead").repo_id
    official_repo = official.create_repo("admin/s3-upload-official").repo_id

    def to_disk(download: Callable[[Path], Path]) -> Sample:
        def sample() -> float:
            target = ctx.fresh_dir("s3-download-target")
            os.sync()
            seconds = timed(lambda: check_size(download(target), size))
            shutil.rmtree(target)
            return seconds

        return sample

    def boto3_download(config: TransferConfig) -> Callable[[Path], Path]:
        def run(target: Path) -> Path:
            s3.download_file(BUCKET, key, str(target / FILENAME), Config=config)
            return target / FILENAME

        return run

    def ours_download(target: Path) -> Path:
        return Path(
            hf_hub_download(
                large.repo_id,
                FILENAME,
                endpoint=hub.url,
                token=token,
                cache_dir=target,
                progress=False,
            )
        )

    def official_download(target: Path) -> Path:
        return Path(
            huggingface_hub.hf_hub_download(
                large.repo_id, FILENAME, endpoint=hub.url, token=token, cache_dir=target
            )
        )

    def upload(send: Callable[[], object]) -> Sample:
        def sample() -> float:
            new_content(source)
            os.sync()
            return timed(send)

        return sample

    with HfApi(endpoint=hub.url, token=token) as ours:
        cases: dict[str, Sample] = {
            "boto3 download": to_disk(boto3_download(TransferConfig(multipart_threshold=size + 1))),
            "ours download": to_disk(ours_download),
            "official download": to_disk(official_download),
            "boto3 upload": upload(lambda: s3.upload_file(str(source), BUCKET, REFERENCE_KEY)),
            "ours upload": upload(
                lambda: ours.upload_file(
                    path_or_fileobj=source, path_in_repo=FILENAME, repo_id=ours_repo
                )
            ),
            "official upload": upload(
                lambda: official.upload_file(
                    path_or_fileobj=str(source), path_in_repo=FILENAME, repo_id=official_repo
                )
            ),
        }
        ctx.log(f"s3: {size} bytes, {ctx.runs} runs of {len(cases)} cases")
        seconds: dict[str, list[float]] = {name: [] for name in cases}
        servers = {"moto": moto.pid, "hub": hub.pid}
        cpu: Cpu = {(name, server): [] for name in cases for server in servers}
        for _ in range(ctx.runs):
            for name, sample in cases.items():
                used = {server: cpu_seconds(pid) for server, pid in servers.items()}
                seconds[name].append(sample())
                for server, pid in servers.items():
                    cpu[name, server].append((cpu_seconds(pid) - used[server]) * GiB / size)
    rates = {name: throughput(size, samples) for name, samples in seconds.items()}
    return _results(rates, cpu, size // MiB)


def _cpu_note(cpu: Cpu, ours: str, reference: str) -> str:
    """The servers' CPU time per GiB in two cases: where a gap comes from, less noisy."""
    moto, hub = (median(cpu[ours, server]) for server in ("moto", "hub"))
    return (
        f" CPU seconds per GiB (medians): moto {moto:.2f} (boto3: "
        f"{median(cpu[reference, 'moto']):.2f}), hub {hub:.2f}."
    )


def _results(rates: dict[str, list[float]], cpu: Cpu, mib: int) -> list[Result]:
    download_notes = (
        "into a fresh cache from a hub on the s3 backend (moto on loopback), following its "
        "redirect to a presigned GET; reference: boto3's download_file of the same object in "
        "one GET (multipart_threshold above the size), which checks no sha256. One GET, not "
        "boto3's default of 8 MiB ranges on 10 threads: moto reads the whole object for each "
        "ranged GET, which makes many ranges the slowest way to read from it."
    )
    upload_notes = (
        "the whole call to a hub on the s3 backend (moto on loopback): sha256 of the file, "
        "LFS batch, PUTs to presigned URLs, the hub's verify (it reads the object back and "
        "checks its sha256), commit; reference: boto3's upload_file of the same file "
        "(defaults: 8 MiB parts, 10 threads), which hashes nothing."
    )
    return [
        make_result(
            "11a",
            f"{mib} MiB download to disk, s3 backend: hubstead client vs boto3",
            ours=rates["ours download"],
            reference=rates["boto3 download"],
            unit="MiB/s",
            higher_is_better=True,
            goal=DOWNLOAD_GOAL,
            notes=f"hubstead's hf_hub_download (parallel ranges, sha256 checked while "
            f"receiving) {download_notes}" + _cpu_note(cpu, "ours download", "boto3 download"),
        ),
        make_result(
            "11b",
            f"{mib} MiB download to disk, s3 backend: official client vs boto3",
            ours=rates["official download"],
            reference=rates["boto3 download"],
            unit="MiB/s",
            higher_is_better=True,
            goal=DOWNLOAD_GOAL,
            notes=f"huggingface_hub's hf_hub_download (one GET, plain HTTP) {download_notes}"
            + _cpu_note(cpu, "official download", "boto3 download"),
        ),
        make_result(
            "11c",
            f"{mib} MiB upload, s3 backend: hubstead client vs boto3",
            ours=rates["ours upload"],
            reference=rates["boto3 upload"],
            unit="MiB/s",
            higher_is_better=True,
            goal=UPLOAD_GOAL,
            notes=f"hubstead's HfApi.upload_file, {upload_notes}"
            + _cpu_note(cpu, "ours upload", "boto3 upload"),
        ),
        make_result(
            "11d",
            f"{mib} MiB upload, s3 backend: official client vs boto3",
            ours=rates["official upload"],
            reference=rates["boto3 upload"],
            unit="MiB/s",
            higher_is_better=True,
            goal=UPLOAD_GOAL,
            notes=f"huggingface_hub's HfApi.upload_file (plain HTTP), {upload_notes}"
            + _cpu_note(cpu, "official upload", "boto3 upload"),
        ),
    ]


class MotoProcess:
    """moto's S3 API server as a process of its own on a free loopback port.

    Not `MotoS3`'s thread: in the benchmark's process, the server would share one interpreter
    lock with the clients it is timed against.
    """

    def __init__(self, directory: Path) -> None:
        self._log = directory / "moto.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.endpoint_url = ""

    def start(self) -> MotoProcess:
        """Start the server and wait until it answers."""
        port = free_port()
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(  # noqa: S603 (our own command line)
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=log,
                stderr=log,
                env={**os.environ, **MotoS3.aws_environ()},
            )
        wait_until_listening(self._process, port, _START_TIMEOUT, "moto", self._log)
        self.endpoint_url = f"http://127.0.0.1:{port}"
        return self

    @property
    def pid(self) -> int:
        """The server's process id (for its CPU time)."""
        assert self._process is not None, "moto is not started"
        return self._process.pid

    def client(self) -> S3Client:
        """A boto3 client of the bucket as a user would make it: default configuration."""
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )
        return cast("S3Client", client)

    def stop(self) -> None:
        """Stop the server; idempotent."""
        stop_process(self._process)
