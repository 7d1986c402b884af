"""kombu's file-system transport (the embedded broker), with messages that appear whole.

kombu's ``_put`` creates ``<time>_<uuid>.<queue>.msg`` and then writes it; a consumer in another
process (``xerotier up``'s worker, while a GPU agent publishes its acknowledgement) can move and read
the file in between, find it empty, and die on ``JSONDecodeError`` ("Unrecoverable error"), after
which nothing is consumed. Here the message is written under a name no consumer looks at and then
renamed into place: a rename within one folder is atomic, so a consumer sees all of it or nothing.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

#: What ``broker_transport`` names for the embedded broker.
TRANSPORT = "xerotier.queue.fs_transport:Transport"


class Channel(filesystem.Channel):
    # kombu's filesystem channel already differs from its base (payload vs message): match the former
    def _put(self, queue: Any, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # a leading dot: ``_get`` matches what follows the first dot against "<queue>.msg"
        partial = os.path.join(self.data_folder_out, f".{name}.partial")
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
