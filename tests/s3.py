"""A real S3 API server for tests: moto's server mode on 127.0.0.1, one bucket per test.

`S3Server` runs moto's HTTP server (the package's ThreadedMotoServer, the same code as the
`moto_server` command) in a thread of the test process on a free port; the web and qcluster
processes that e2e tests start reach it over HTTP like any S3-compatible store.
`TEST_S3_ENDPOINT_URL` points the tests at another S3-compatible server instead (MinIO ...).

Note: moto does not verify request signatures, so these tests prove what the app sends and what
S3 answers (keys, content types, Range/206), not that a tampered URL is refused.
"""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any

import boto3

ACCESS_KEY = os.environ.get("TEST_S3_ACCESS_KEY_ID", "test-access-key")
SECRET_KEY = os.environ.get("TEST_S3_SECRET_ACCESS_KEY", "test-secret-key")
REGION = "us-east-1"


class S3Server:
    def __init__(self) -> None:
        self._moto: Any = None
        self.endpoint_url = os.environ.get("TEST_S3_ENDPOINT_URL", "").rstrip("/")

    def start(self) -> S3Server:
        if not self.endpoint_url:
            from moto.server import ThreadedMotoServer

            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise

            self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self._moto.start()
            host, port = self._moto.get_host_and_port()
            self.endpoint_url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        if self._moto is not None:
            self._moto.stop()
            self._moto = None

    def client(self) -> Any:
        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY, region_name=REGION,
        )

    def new_bucket(self) -> Bucket:
        name = f"videogen-test-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return Bucket(self, name)


class Bucket:
    def __init__(self, server: S3Server, name: str) -> None:
        self.server = server
        self.name = name

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.server.client().get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def head(self, key: str) -> dict[str, Any]:
        return self.server.client().head_object(Bucket=self.name, Key=key)

    def read(self, key: str) -> bytes:
        return self.server.client().get_object(Bucket=self.name, Key=key)["Body"].read()

    def delete(self) -> None:
        client = self.server.client()
        for key in self.keys():
            client.delete_object(Bucket=self.name, Key=key)
        client.delete_bucket(Bucket=self.name)

    def env(self) -> dict[str, str]:
        """The environment that points a web or worker process at this bucket."""
        return {
            "AWS_STORAGE_BUCKET_NAME": self.name,
            "AWS_S3_ENDPOINT_URL": self.server.endpoint_url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_S3_REGION_NAME": REGION,
        }

    def use_in(self, settings: Any) -> None:
        """Switches this test process's default storage to the bucket (pytest-django `settings`)."""
        settings.AWS_STORAGE_BUCKET_NAME = self.name
        settings.AWS_S3_ENDPOINT_URL = self.server.endpoint_url
        settings.AWS_ACCESS_KEY_ID = ACCESS_KEY
        settings.AWS_SECRET_ACCESS_KEY = SECRET_KEY
        settings.AWS_S3_REGION_NAME = REGION
        settings.AWS_S3_ADDRESSING_STYLE = "path"
        settings.AWS_S3_PUBLIC_ENDPOINT_URL = None
        # Last: changing STORAGES makes Django drop the cached default storage.
        settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage"}}
