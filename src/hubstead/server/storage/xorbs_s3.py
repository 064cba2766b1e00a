"""`XorbStore` on S3: `<prefix>/xorbs/<h[:2]>/<h[2:4]>/<h>`, by Xet hex hash.

As `xorbs_fs` is `blobs_fs` keyed by another hash, this is `S3BlobStore` under `xorbs/`, with
the content check left to the caller. S3 cannot set an object's write time, so `touch` copies
the xorb onto itself (server-side, with new metadata), which is what moves `LastModified`.
"""

from __future__ import annotations

import time
from pathlib import Path

import botocore.exceptions

from hubstead.server.storage.blobs_s3 import S3BlobStore
from hubstead.server.storage.objects_s3 import S3Objects, is_missing
from hubstead.server.storage.xorbs import BlobBackedXorbs


class S3XorbStore(BlobBackedXorbs[S3BlobStore]):
    """Xorbs as objects in an S3 bucket."""

    def __init__(self, objects: S3Objects) -> None:
        self._objects = objects
        super().__init__(S3BlobStore(objects, "xorbs"))

    def put(self, hash: str, data: bytes) -> bool:
        """Write the xorb unless it is stored; a concurrent writer of the same xorb is harmless."""
        if self.touch(hash):
            return False
        writer = self._files.unchecked_writer(hash, len(data))
        writer.write(data)
        writer.commit()
        return True

    def touch(self, hash: str) -> bool:
        """Make the xorb's write time now (what gc's grace period counts from)."""
        key = self._files.key(hash)
        try:
            self._objects.client.copy_object(
                Bucket=self._objects.bucket,
                Key=key,
                CopySource={"Bucket": self._objects.bucket, "Key": key},
                MetadataDirective="REPLACE",
                Metadata={"touched": f"{time.time():.6f}"},
            )
        except botocore.exceptions.ClientError as exc:
            if is_missing(exc):
                return False
            raise
        return True

    def read(self, hash: str, start: int, end: int) -> bytes:
        """Bytes `[start, end)`, in one ranged GET."""
        return self._objects.read_range(self._files.key(hash), start, end)

    def download_url(self, hash: str, start: int, end: int, ttl: int) -> str | None:
        """A presigned GET of the xorb whose signature covers `Range: bytes=<start>-<end>`."""
        key = self._files.key(hash)
        return self._objects.presign("get_object", key, ttl, Range=f"bytes={start}-{end}")

    def local_path(self, hash: str) -> Path | None:
        """None: xorb ranges are read from the bucket."""
        return None
