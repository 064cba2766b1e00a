"""An S3 API server for the tests: moto's standalone server, in a thread on a loopback port.

The server runs once per session (`MotoS3.start`); each test gets a bucket of its own, so
tests never see each other's objects. Clients reach it with fixed test credentials, given
explicitly (`client`) or through the standard AWS variables (`aws_environ`), as the hub reads
them.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, cast

import boto3
from moto.server import ThreadedMotoServer

from hubstead.server.storage.objects_s3 import CLIENT_CONFIG

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REGION = "us-east-1"
ACCESS_KEY = "hubstead-test-key"
SECRET_KEY = "hubstead-test-secret"  # moto accepts any credentials


class MotoS3:
    """A running moto server: its endpoint URL, and buckets made on it."""

    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._client: S3Client | None = None

    def start(self) -> MotoS3:
        # Not a line per request in every failing test's captured log.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()

    def client(self) -> S3Client:
        """A client with the test credentials (none read from the environment or files).

        One for the session: building a client takes most of a second, and clients are
        thread-safe.
        """
        if self._client is None:
            self._client = self._new_client()
        return self._client

    def _new_client(self) -> S3Client:
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=CLIENT_CONFIG,
        )
        return cast("S3Client", client)

    def new_bucket(self) -> str:
        """Create an empty bucket with a name no other test uses."""
        name = f"test-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    @staticmethod
    def aws_environ() -> dict[str, str]:
        """The standard AWS variables that point boto3's credential chain at the test keys."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
            # Never the developer's own configuration or credentials.
            "AWS_CONFIG_FILE": "/nonexistent/aws-config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
