import io
import json
import struct

import numpy as np
import pytest
from safetensors.numpy import save

from xerotier.checkpoint.safetensors_header import read_header
from xerotier.errors import ValidationFailed


def _file(header: dict, data: bytes) -> tuple[io.BytesIO, int]:
    raw = json.dumps(header).encode()
    blob = struct.pack("<Q", len(raw)) + raw + data
    return io.BytesIO(blob), len(blob)


def test_reads_a_real_safetensors_file():
    blob = save(
        {"w": np.zeros((3, 4), dtype=np.float16), "b": np.ones(5, dtype=np.int64)}, metadata={"format": "pt"}
    )
    header = read_header(io.BytesIO(blob), len(blob), "model.safetensors")
    assert header.tensors["w"].shape == (3, 4) and header.tensors["w"].dtype == "F16"
    assert header.tensors["b"].numel == 5
    assert header.metadata == {"format": "pt"}


@pytest.mark.parametrize(
    ("header", "data", "rule"),
    [
        ({"t": {"dtype": "F99", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4, "unknown dtype"),
        ({"t": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4, "non-negative"),
        ({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4, "shape × dtype"),
        ({"t": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8, "gap"),
        (
            {
                "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
            },
            b"\0" * 8,
            "overlaps",
        ),
        ({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 8, "data region holds 8"),
        ({"__metadata__": {"k": 1}}, b"", "__metadata__"),
    ],
)
def test_malformed_headers_name_file_tensor_and_rule(header, data, rule):
    stream, size = _file(header, data)
    with pytest.raises(ValidationFailed) as err:
        read_header(stream, size, "x.safetensors")
    assert err.value.message.startswith("x.safetensors")
    assert rule in err.value.message


def test_header_length_beyond_the_file_is_refused():
    blob = struct.pack("<Q", 10_000) + b"{}"
    with pytest.raises(ValidationFailed, match="runs past the end"):
        read_header(io.BytesIO(blob), len(blob), "x.safetensors")


def test_non_json_header():
    blob = struct.pack("<Q", 3) + b"\xff\xfe{"
    with pytest.raises(ValidationFailed, match="UTF-8"):
        read_header(io.BytesIO(blob), len(blob), "x.safetensors")
