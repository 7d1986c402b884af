"""Content-addressed blobs in an S3-compatible bucket (AWS S3, MinIO, …) through boto3.

A blob streams into a local temporary file while it is hashed (the digest names the key, so it
cannot be uploaded before the last byte), then boto3's managed transfer sends it (multipart for
large files) to ``<prefix>sha256/ab/abcdef…``. Credentials come from boto3's usual chain
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, profiles, instance roles).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from xerotier.errors import InvalidInput
from xerotier.storage.blobs import SpoolingWriter, StoredBlob, check_digest

#: An identical object older than this is uploaded again on commit, which refreshes its time so
#: the collector (whose grace period is longer) never deletes a blob an upload has just reused.
REFRESH_AFTER_SECONDS = 600


class S3BlobWriter(SpoolingWriter):
    def __init__(self, store: S3BlobStore, max_size: int | None) -> None:
        super().__init__(store.tmp_dir, max_size)
        self._store = store

    def place(self) -> StoredBlob:
        digest = self.sha256
        try:
            age = self._store.age_seconds(digest)
            if age is not None and age < REFRESH_AFTER_SECONDS:
                return StoredBlob(digest, self.size, created=False)
            self._store.client.upload_file(str(self.path), self._store.bucket, self._store.key_for(digest))
            return StoredBlob(digest, self.size, created=age is None)
        finally:
            self.path.unlink(missing_ok=True)


class S3BlobStore:
    def __init__(
        self,
        bucket: str,
        prefix: str,
        tmp_dir: Path,
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any = None,
    ) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix
        self.tmp_dir = Path(tmp_dir)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.client = client or boto3.client("s3", endpoint_url=endpoint_url, region_name=region)

    def key_for(self, sha256: str) -> str:
        check_digest(sha256)
        return f"{self.prefix}sha256/{sha256[:2]}/{sha256}"

    def writer(self, max_size: int | None = None) -> S3BlobWriter:
        return S3BlobWriter(self, max_size)

    def _head(self, sha256: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.key_for(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def exists(self, sha256: str) -> bool:
        return self._head(sha256) is not None

    def open(self, sha256: str) -> BinaryIO:
        return self.client.get_object(Bucket=self.bucket, Key=self.key_for(sha256))["Body"]

    def delete(self, sha256: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key_for(sha256))

    def iter_blobs(self) -> Iterator[tuple[str, float]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}sha256/"
        )
        for page in pages:
            for obj in page.get("Contents", []):
                name = obj["Key"].rsplit("/", 1)[-1]
                try:
                    check_digest(name)
                except InvalidInput:
                    continue
                yield name, obj["LastModified"].timestamp()

    def age_seconds(self, sha256: str) -> float | None:
        head = self._head(sha256)
        return None if head is None else time.time() - head["LastModified"].timestamp()

    def clear_tmp(self) -> None:
        for leftover in self.tmp_dir.iterdir():
            leftover.unlink(missing_ok=True)

    def open_range(self, sha256: str, start: int, end: int) -> BinaryIO:
        """The bytes ``start..end`` (inclusive) of the blob, streaming."""
        response = self.client.get_object(
            Bucket=self.bucket, Key=self.key_for(sha256), Range=f"bytes={start}-{end}"
        )
        return response["Body"]

    def presigned_url(self, sha256: str, seconds: int) -> str:
        """A URL that reads the blob without credentials for ``seconds``."""
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self.key_for(sha256)}, ExpiresIn=seconds
        )
