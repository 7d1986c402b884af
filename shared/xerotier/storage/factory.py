"""Build the configured blob store (``XEROTIER_BLOB_STORE``: ``local`` or ``s3``)."""

from __future__ import annotations

from xerotier.settings import Settings
from xerotier.storage.blobs import BlobStore, LocalBlobStore


def make_blob_store(settings: Settings) -> BlobStore:
    if settings.blob_store == "local":
        return LocalBlobStore(settings.resolved_blob_dir)
    if settings.blob_store == "s3":
        from xerotier.storage.s3 import S3BlobStore

        if not settings.s3_bucket:
            raise ValueError("XEROTIER_BLOB_STORE=s3 needs XEROTIER_S3_BUCKET")
        return S3BlobStore(
            bucket=settings.s3_bucket,
            prefix=settings.s3_prefix,
            tmp_dir=settings.resolved_blob_dir / "tmp",
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
        )
    raise ValueError(f"Unknown XEROTIER_BLOB_STORE {settings.blob_store!r}: expected local or s3")
