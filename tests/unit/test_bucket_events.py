"""Parsing S3/MinIO bucket notifications and the landing layout (pure)."""

from __future__ import annotations

import re

import pytest

from xerotier.errors import InvalidInput
from xerotier.upload.bucket_events import landing_path, manifest_paths, parse_notification


def record(key: str, name: str = "s3:ObjectCreated:Put", **obj) -> dict:
    return {"eventName": name, "s3": {"bucket": {"name": "landing"}, "object": {"key": key, **obj}}}


def test_minio_and_aws_event_names_and_url_encoded_keys():
    events = parse_notification(
        {
            "Records": [
                record("acme/my+model/1.0.0/sub%2Fdir/a%20b.json", size=3, eTag="abc"),
                record("acme/m/1.0.0/x.bin", name="ObjectCreated:CompleteMultipartUpload"),
                record("acme/m/1.0.0/x.bin", name="s3:ObjectRemoved:Delete"),
                record("acme/m/1.0.0/x.bin", name="s3:ObjectAccessed:Get"),
            ]
        }
    )
    assert [e.action for e in events] == ["created", "created", "removed", "other"]
    assert events[0].key == "acme/my model/1.0.0/sub/dir/a b.json"
    assert (events[0].bucket, events[0].size, events[0].etag) == ("landing", 3, "abc")


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "expected an object with a 'Records' list"),
        ({"Records": ["x"]}, "Records[0] is not an object"),
        ({"Records": [{"eventName": "s3:ObjectCreated:Put", "s3": {}}]}, "s3.bucket.name is missing"),
        ({"Records": [record("")]}, "s3.object.key is missing"),
        ({"Records": [record("a/b/1.0.0/c", size=-1)]}, "size is not a non-negative integer"),
        ({"Records": [record("a/b/1.0.0/c")] * 1001}, "more than 1000 records"),
    ],
)
def test_malformed_notifications(doc, message):
    with pytest.raises(InvalidInput, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_notification(doc)


def test_landing_layout():
    path = landing_path("acme/tiny/1.2.0/1_Pooling/config.json", "_COMPLETE")
    assert (path.project, path.model_name, path.version, path.file_path) == (
        "acme",
        "tiny",
        "1.2.0",
        "1_Pooling/config.json",
    )
    assert landing_path("acme/tiny/1.2.0/_COMPLETE", "_COMPLETE").file_path is None


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("acme/tiny/model.bin", "does not match <project>/<model-name>/<version>/<file>"),
        ("acme//1.0.0/model.bin", "does not match"),
        ("acme/tiny/not-semver/model.bin", "version"),
        ("acme/tiny/1.0.0/../../x", "'..' is not allowed"),
        ("acme/tiny/1.0.0/a\\b", "backslash"),
    ],
)
def test_keys_outside_the_layout_are_rejected(key, message):
    with pytest.raises(InvalidInput, match=message):
        landing_path(key, "_COMPLETE")


def test_marker_manifest():
    assert manifest_paths(b"") is None
    assert manifest_paths(b'{"files": ["a.json", "sub/b.bin"]}') == ["a.json", "sub/b.bin"]
    with pytest.raises(InvalidInput, match="neither empty nor JSON"):
        manifest_paths(b"\xff")
    with pytest.raises(InvalidInput, match="must be"):
        manifest_paths(b'{"files": "a"}')
    with pytest.raises(InvalidInput, match=re.escape("'..' is not allowed")):
        manifest_paths(b'{"files": ["../a"]}')
