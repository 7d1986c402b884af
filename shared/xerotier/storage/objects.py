"""Reading objects out of landing buckets (the source side of upload events).

``LocalObjectSource`` reads a local mirror ``<root>/<bucket>/<key>`` (embedded mode, tests, a
bucket mounted as a folder); ``S3ObjectSource`` reads an S3-compatible endpoint with boto3.
Keys are checked by the caller's layout parser; the local source also refuses any path that
resolves outside its root.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Protocol

from xerotier.errors import InvalidInput


class ObjectSource(Protocol):
    def open(self, bucket: str, key: str) -> BinaryIO | None:
        """The object's bytes as a stream, or None when it does not exist (any more)."""
        ...


class LocalObjectSource:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def open(self, bucket: str, key: str) -> BinaryIO | None:
        path = (self.root / bucket / key).resolve()
        if not path.is_relative_to(self.root / bucket):
            raise InvalidInput(f"Object key {key!r} leaves its bucket")
        try:
            return path.open("rb")
        except (FileNotFoundError, IsADirectoryError):
            return None


class S3ObjectSource:
    def __init__(self, endpoint_url: str | None, region: str | None) -> None:
        import boto3

        self._client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)

    def open(self, bucket: str, key: str) -> BinaryIO | None:
        try:
            return self._client.get_object(Bucket=bucket, Key=key)["Body"]
        except self._client.exceptions.NoSuchKey:
            return None
