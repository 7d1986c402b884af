"""Bounded cost of validation: tensor count per safetensors header, chat template size."""

from __future__ import annotations

import io
import json
import struct
import tracemalloc
from contextlib import contextmanager

import pytest

from xerotier.errors import ValidationFailed
from xerotier.validation.documents import MAX_CHAT_TEMPLATE_BYTES
from xerotier.validation.inspect import FileRef, inspect_checkpoint


def header_file(count: int) -> bytes:
    entries = {f"t{i}": {"dtype": "U8", "shape": [1], "data_offsets": [i, i + 1]} for i in range(count)}
    raw = json.dumps(entries).encode()
    return struct.pack("<Q", len(raw)) + raw + b"\0" * count


def validate(files: dict[str, bytes], **kwargs) -> str:
    refs = [FileRef(path, len(raw), path) for path, raw in files.items()]

    @contextmanager
    def opener(ref: FileRef):  # type: ignore[no-untyped-def]
        yield io.BytesIO(files[ref.key])

    with pytest.raises(ValidationFailed) as failure:
        inspect_checkpoint(refs, opener, None, **kwargs)
    return failure.value.message


def test_a_header_with_too_many_tensors_is_refused_before_parsing_in_bounded_memory():
    """Refused on the raw bytes: parsing 50,001 tensor entries into objects would allocate many
    times the header's size; the refusal stays within a few copies of it (the time is a benchmark's)."""
    blob = header_file(50_001)
    tracemalloc.start()
    message = validate({"model.safetensors": blob}, max_tensors=50_000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "more than 50000 tensors (XEROTIER_MAX_SAFETENSORS_TENSORS)" in message
    assert peak < 3 * len(blob), peak


def test_a_header_at_the_limit_is_parsed():
    message = validate({"model.safetensors": header_file(100), "config.json": b"{"}, max_tensors=100)
    assert "more than" not in message  # refused for the broken config.json only


def test_an_oversized_chat_template_is_refused():
    template = "{{ x }}" * (MAX_CHAT_TEMPLATE_BYTES // 7 + 1)
    message = validate({"model.safetensors": header_file(1), "chat_template.jinja": template.encode()})
    assert "chat_template.jinja: chat template is" in message and "limit" in message
