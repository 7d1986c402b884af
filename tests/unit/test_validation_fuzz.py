"""Fuzz: random bytes, mutated headers and random configs only ever give a clean ValidationFailed."""

from __future__ import annotations

import io
import json
import struct
from contextlib import contextmanager

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import pickles
from xerotier.checkpoint.safetensors_header import read_header
from xerotier.errors import ValidationFailed
from xerotier.validation.file_scan import scan_file
from xerotier.validation.inspect import FileRef, inspect_checkpoint
from xerotier.validation.pickle_scan import scan_checkpoint

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def valid_file() -> bytes:
    header = {
        "__metadata__": {"format": "pt"},
        "a": {"dtype": "F16", "shape": [2, 3], "data_offsets": [0, 12]},
        "b": {"dtype": "I64", "shape": [1], "data_offsets": [12, 20]},
    }
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + b"\0" * 20


def parse(blob: bytes) -> None:
    try:
        read_header(io.BytesIO(blob), len(blob), "f.safetensors")
    except ValidationFailed as failure:
        assert failure.message.startswith("f.safetensors: ") and "\n" not in failure.message


@FUZZ
@given(st.binary(max_size=512))
def test_random_bytes(blob):
    parse(blob)


@FUZZ
@given(st.data())
def test_mutated_valid_files(data):
    blob = bytearray(valid_file())
    for _ in range(data.draw(st.integers(1, 6))):
        kind = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        at = data.draw(st.integers(0, len(blob) - 1)) if blob else 0
        if kind == "flip" and blob:
            blob[at] = data.draw(st.integers(0, 255))
        elif kind == "insert":
            blob[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete" and blob:
            del blob[at]
        else:
            del blob[at:]
    parse(bytes(blob))


@FUZZ
@given(json_values, st.integers(0, 64))
def test_random_json_headers(doc, data_size):
    raw = json.dumps(doc).encode()
    parse(struct.pack("<Q", len(raw)) + raw + b"\0" * data_size)


@FUZZ
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6), st.integers(0, 64))
def test_random_tensor_entries(entries, data_size):
    raw = json.dumps({name: value for name, value in entries.items()}).encode()
    parse(struct.pack("<Q", len(raw)) + raw + b"\0" * data_size)


@FUZZ
@given(st.binary(max_size=256))
def test_random_bytes_to_the_pickle_scanner(blob):
    for candidate in (blob, b"\x80\x02" + blob, pickles.zip_checkpoint(blob)):
        try:
            scan_checkpoint(io.BytesIO(candidate), len(candidate), "p.bin")
        except ValidationFailed as failure:
            assert failure.message.startswith("p.bin") and "\n" not in failure.message


@FUZZ
@given(
    st.binary(max_size=512),
    st.sampled_from(
        [b"", b"x", b"ZF" + b"0" * 19, b"\x1f\x8b", b"BZh", b"]\x00", b"\x82", b"(", b"\x93NUMPY\x01\x00"]
    ),
)
def test_random_bytes_to_the_sniff_of_any_file(blob, prefix):
    """Any file, any first bytes (compressed, numpy, opcode-like): a clean refusal or a verdict."""
    candidate = prefix + blob
    try:
        scan_file(io.BytesIO(candidate), len(candidate), "weights.dat", checkpoint=False)
    except ValidationFailed as failure:
        assert failure.message.startswith("weights.dat") and "\n" not in failure.message


@FUZZ
@given(st.data())
def test_mutated_pickles(data):
    blob = bytearray(pickles.torch_state_dict({"w": (2, 2)}, pickles.call("os", "system", "id")))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(blob) - 1))
        blob[at] = data.draw(st.integers(0, 255))
    try:
        result = scan_checkpoint(io.BytesIO(bytes(blob)), len(blob), "p.bin")
    except ValidationFailed:
        return
    assert ("os", "system") not in result.globals  # whatever got through imports nothing dangerous


DOCS = [
    "config.json",
    "generation_config.json",
    "tokenizer_config.json",
    "quantize_config.json",
    "model.safetensors.index.json",
    "sentence_bert_config.json",
    "hf_quant_config.json",
    "chat_template.json",
]


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(DOCS), st.dictionaries(st.text(max_size=24), json_values, max_size=8), min_size=1
    ),
    st.dictionaries(
        st.sampled_from(
            ["rope_scaling", "quantization_config", "text_config", "architectures", "model_type"]
        ),
        json_values,
    ),
)
def test_random_documents_never_crash_the_extractor(docs, config_keys):
    docs.setdefault("config.json", {}).update(config_keys)
    files = {name: json.dumps(doc).encode() for name, doc in docs.items()}
    files["model.safetensors"] = valid_file()
    refs = [FileRef(name, len(raw), name) for name, raw in files.items()]

    @contextmanager
    def opener(ref):
        yield io.BytesIO(files[ref.key])

    try:
        found = inspect_checkpoint(refs, opener, None, "fuzz").metadata
    except ValidationFailed as failure:
        assert "Traceback" not in failure.message
        return
    json.dumps(found.as_values(set_workload_type=True), default=str)  # storable
