"""Cost of hostile input to validation: 100 MB safetensors headers, the pickle sniff of every file.

Measured in one process, each case timed with ``time.perf_counter`` and its peak traced memory
(``tracemalloc``) — the header bytes themselves included:

* a ~100 MB header of ~1.2 M tensors (refused by the tensor-count cap before any JSON parse);
* the same header with the cap lifted above its tensor count (what it would cost without it);
* a 100 MB header of one tensor and a 100 MB ``__metadata__`` string (parsed: within the caps);
* the hostile corpus of ``tests/support/hostile_corpus`` scanned file by file.

Run: ``.venv/bin/python benchmarks/bench_security.py`` (about a minute).
"""

from __future__ import annotations

import io
import struct
import sys
import tempfile
import time
import tracemalloc
from contextlib import contextmanager, suppress
from pathlib import Path

from xerotier.errors import ValidationFailed
from xerotier.validation.inspect import FileRef, inspect_checkpoint

HEADER_BYTES = 100_000_000 - 16


def many_tensors() -> bytes:
    entry = '"t%07d":{"dtype":"U8","shape":[1],"data_offsets":[%d,%d]}'
    parts, size, i = [], 2, 0
    while size < HEADER_BYTES - 100:
        part = entry % (i, i, i + 1)
        parts.append(part)
        size += len(part) + 1
        i += 1
    raw = ("{" + ",".join(parts) + "}").encode()
    return struct.pack("<Q", len(raw)) + raw + b"\0" * i


def one_big_string() -> bytes:
    head = '{"__metadata__":{"note":"'
    tail = '"},"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'
    raw = (head + "x" * (HEADER_BYTES - len(head) - len(tail)) + tail).encode()
    return struct.pack("<Q", len(raw)) + raw + b"\0"


def measure(label: str, blob: bytes, **kwargs: object) -> None:
    ref = FileRef("model.safetensors", len(blob), "k")

    @contextmanager
    def opener(_ref: FileRef):  # type: ignore[no-untyped-def]
        yield io.BytesIO(blob)

    tracemalloc.start()
    started = time.perf_counter()
    try:
        inspect_checkpoint([ref], opener, None, **kwargs)  # type: ignore[arg-type]
        outcome = "accepted"
    except ValidationFailed as failure:
        outcome = failure.message.split("\n")[0][:90]
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:48} {elapsed * 1000:9.0f} ms  peak {peak / 2**20:7.0f} MiB  {outcome}")


def corpus() -> None:
    sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
    from support import hostile_corpus
    from xerotier.validation import file_scan

    with tempfile.TemporaryDirectory() as tmp:
        cases = hostile_corpus.build(Path(tmp))
        started = time.perf_counter()
        for case in cases:
            raw = (Path(tmp) / case.id / case.path).read_bytes()
            with suppress(ValidationFailed):
                file_scan.scan_file(
                    io.BytesIO(raw), len(raw), case.path, checkpoint=case.path.endswith(".bin")
                )
        elapsed = time.perf_counter() - started
    print(f"{'hostile corpus: ' + str(len(cases)) + ' files scanned':48} {elapsed * 1000:9.0f} ms")


if __name__ == "__main__":
    blob = many_tensors()
    print(f"header of {len(blob) / 1e6:.0f} MB")
    measure("100 MB header, ~1.2 M tensors (default cap)", blob)
    measure("100 MB header, ~1.2 M tensors (cap lifted)", blob, max_tensors=10_000_000)
    del blob
    measure("100 MB header, one tensor + 100 MB string", one_big_string())
    corpus()
