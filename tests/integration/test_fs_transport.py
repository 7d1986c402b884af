"""The embedded broker's transport: a message is renamed into place whole, so a consumer never sees
one that is still being written (kombu's own writes into the final name, then fills it)."""

from __future__ import annotations

from pathlib import Path
from queue import Empty

import pytest
from kombu import Connection

from xerotier.queue import fs_transport
from xerotier.queue.celery_app import make_celery
from xerotier.settings import Settings


def _connection(folder: Path) -> Connection:
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "processed_folder": str(folder)}
    return Connection("filesystem://localhost/", transport=fs_transport.Transport, transport_options=options)


def test_published_messages_arrive_whole_and_leave_nothing_behind(tmp_path: Path) -> None:
    with _connection(tmp_path) as conn:
        for i in range(50):
            conn.default_channel._put("q", {"n": i, "body": "x" * 2000})
        assert not list(tmp_path.glob(".*"))  # no partial files once published
        got = [conn.default_channel._get("q")["n"] for _ in range(50)]
        with pytest.raises(Empty):
            conn.default_channel._get("q")
    assert sorted(got) == list(range(50))


@pytest.mark.parametrize("name", [".1_x.q.msg.partial", ".1_x.q.msg"])
def test_a_file_being_written_is_invisible_to_consumers(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b'{"half": ')
    with _connection(tmp_path) as conn, pytest.raises(Empty):
        conn.default_channel._get("q")


def test_the_embedded_app_uses_it(tmp_path: Path) -> None:
    app = make_celery(Settings(data_dir=tmp_path))
    with app.connection_for_write() as conn:
        assert type(conn.transport) is fs_transport.Transport
