"""Streaming a body into the local blob store off the event loop; Hub names; local file walks."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re

import pytest

from xerotier.cli.ctl_upload import local_files
from xerotier.errors import InvalidInput, PayloadTooLarge
from xerotier.storage.blobs import LocalBlobStore
from xerotier.upload.hub_import import parse_repo, snapshot_files
from xerotier.upload.streaming import stream_into


async def body(chunks: list[bytes], fail_at: int | None = None):
    for i, chunk in enumerate(chunks):
        if i == fail_at:
            raise ConnectionResetError("client went away")
        await asyncio.sleep(0)
        yield chunk


@pytest.mark.parametrize("batch", [1, 1000, 1 << 20])
def test_stream_into_hashes_every_byte_in_order(tmp_path, batch):
    store = LocalBlobStore(tmp_path)
    chunks = [os.urandom(n) for n in (1, 65536, 7, 300_000, 0, 12345)]
    writer = store.writer()
    size = asyncio.run(stream_into(body(chunks), writer, batch))
    blob = writer.commit()
    data = b"".join(chunks)
    assert size == len(data) and blob.sha256 == hashlib.sha256(data).hexdigest()
    assert store.path_for(blob.sha256).read_bytes() == data


def test_failure_mid_stream_lets_the_caller_abort_cleanly(tmp_path):
    store = LocalBlobStore(tmp_path)
    writer = store.writer()
    with pytest.raises(ConnectionResetError):
        asyncio.run(stream_into(body([b"a" * 5000] * 10, fail_at=5), writer, 4096))
    writer.abort()
    assert list(store.tmp_dir.iterdir()) == [] and list(store.iter_blobs()) == []


def test_size_limit_applies_while_streaming(tmp_path):
    store = LocalBlobStore(tmp_path)
    writer = store.writer(max_size=10_000)
    with pytest.raises(PayloadTooLarge):
        asyncio.run(stream_into(body([b"a" * 4000] * 5), writer, 4000))
    assert list(store.tmp_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("org/name", ("org/name", None)),
        ("Org-1/na.me_2@v1.0", ("Org-1/na.me_2", "v1.0")),
        ("a/b@" + "f" * 40, ("a/b", "f" * 40)),
    ],
)
def test_parse_repo(raw, expected):
    assert parse_repo(raw) == expected


@pytest.mark.parametrize("raw", ["name", "a/b/c", "../x", "a/..", "a/b@..", "a/b@x y", "/a/b", "a /b"])
def test_parse_repo_rejects(raw):
    with pytest.raises(InvalidInput):
        parse_repo(raw)


def test_snapshot_links_must_stay_in_the_repository(tmp_path):
    repo = tmp_path / "models--o--n"
    snap = repo / "snapshots" / ("a" * 40)
    (repo / "blobs").mkdir(parents=True)
    snap.mkdir(parents=True)
    (repo / "blobs" / "x").write_text("{}")
    (snap / "config.json").symlink_to("../../blobs/x")
    assert [rel for rel, _ in snapshot_files(snap)] == ["config.json"]
    (tmp_path / "outside").write_text("secret")
    (snap / "leak.txt").symlink_to(tmp_path / "outside")
    with pytest.raises(InvalidInput, match=re.escape("leak.txt: a link out of the snapshot")):
        snapshot_files(snap)


def test_local_files_walks_subfolders_and_skips_links_out_and_caches(tmp_path):
    root = tmp_path / "model"
    (root / "1_Pooling").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "config.json").write_text("{}")
    (root / "1_Pooling" / "config.json").write_text("{}")
    (root / ".git" / "HEAD").write_text("ref")
    (tmp_path / "secret").write_text("s")
    (root / "leak").symlink_to(tmp_path / "secret")
    assert [rel for rel, _ in local_files(root)] == ["1_Pooling/config.json", "config.json"]
    assert local_files(root / "config.json") == [("config.json", root / "config.json")]


def test_large_blob_with_early_writeback_is_intact(tmp_path):
    store = LocalBlobStore(tmp_path)
    block = os.urandom(1 << 20)
    writer = store.writer()
    for _ in range(40):  # crosses the 16 MiB write-back step twice
        writer.write(block)
    blob = writer.commit()
    assert blob.size == 40 << 20
    with store.open(blob.sha256) as stream:
        assert (
            hashlib.sha256(stream.read()).hexdigest() == blob.sha256 == hashlib.sha256(block * 40).hexdigest()
        )


def test_write_many_hashes_and_writes_large_batches_in_order(tmp_path):
    """Hashing overlapped with writev: more buffers than one writev takes, empty ones among them."""
    store = LocalBlobStore(tmp_path)
    writer = store.writer()
    chunks = [os.urandom(n) for n in [300] * 1500 + [0, 2 << 20, 1]]
    writer.write_many(chunks)
    writer.write_many([b"tail"])  # a small batch takes the plain path
    blob = writer.commit()
    data = b"".join(chunks) + b"tail"
    assert writer.size == len(data) and blob.sha256 == hashlib.sha256(data).hexdigest()
    assert store.path_for(blob.sha256).read_bytes() == data


def test_write_many_applies_the_size_limit_before_writing(tmp_path):
    store = LocalBlobStore(tmp_path)
    writer = store.writer(max_size=1 << 20)
    with pytest.raises(PayloadTooLarge):
        writer.write_many([b"a" * (600 << 10), b"b" * (600 << 10)])
    assert list(store.tmp_dir.iterdir()) == []
