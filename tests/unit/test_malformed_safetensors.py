"""The malformed-safetensors suite: each broken file gets one precise line naming file, tensor and rule."""

from __future__ import annotations

import io
import json
import struct

import pytest

from support.sparse import file_refs, open_local, write_checkpoint, write_safetensors
from xerotier.checkpoint.safetensors_header import read_header
from xerotier.errors import ValidationFailed
from xerotier.validation.inspect import MAX_PROBLEMS, inspect_checkpoint


def raw_file(header: bytes, data: bytes = b"") -> bytes:
    return struct.pack("<Q", len(header)) + header + data


def entry(dtype="F32", shape=(1,), offsets=(0, 4)) -> dict:
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


def refuse(blob: bytes, name: str = "m.safetensors") -> str:
    with pytest.raises(ValidationFailed) as err:
        read_header(io.BytesIO(blob), len(blob), name)
    message = err.value.message
    assert message.startswith(f"{name}: ") and "\n" not in message
    return message


@pytest.mark.parametrize(
    ("blob", "rule"),
    [
        (b"\x01\x00", "shorter than the 8-byte header length"),
        (struct.pack("<Q", 200_000_000) + b"{}", "exceeds the 100000000-byte cap"),
        (struct.pack("<Q", 64) + b"{}", "runs past the end of the file"),
        (raw_file(b"[]"), "does not start with '{'"),
        (raw_file(b" {}"), "does not start with '{'"),
        (raw_file(b'{"a": 1'), "not valid JSON"),
        (
            raw_file(
                b'{"t": ' + json.dumps(entry()).encode() + b', "t": ' + json.dumps(entry()).encode() + b"}",
                b"\0" * 4,
            ),
            "repeats the key 't'",
        ),
        (raw_file(b'{"__metadata__": {"k": ["v"]}}'), "__metadata__ must map strings to strings"),
        (raw_file(b'{"t": 5}'), "tensor 't': entry is not an object"),
        (
            raw_file(json.dumps({"t": entry(dtype="F128")}).encode(), b"\0" * 4),
            "tensor 't': unknown dtype 'F128'",
        ),
        (raw_file(json.dumps({"t": entry(shape=(1.0,))}).encode(), b"\0" * 4), "non-negative integers"),
        (raw_file(json.dumps({"t": entry(shape=(True,))}).encode(), b"\0" * 4), "non-negative integers"),
        (raw_file(json.dumps({"t": entry(shape=[1] * 17)}).encode(), b"\0" * 4), "17 dimensions"),
        (
            raw_file(json.dumps({"t": entry(offsets=(0, 4, 8))}).encode(), b"\0" * 4),
            "data_offsets must be two",
        ),
        (raw_file(json.dumps({"t": entry(offsets=(4, 0))}).encode(), b"\0" * 4), "begin <= end"),
        (
            raw_file(json.dumps({"t": entry(offsets=(0, "4"))}).encode(), b"\0" * 4),
            "data_offsets must be two",
        ),
        (
            raw_file(json.dumps({"t": entry(shape=(2,))}).encode(), b"\0" * 4),
            "span 4 bytes but shape × dtype size is 8",
        ),
        (
            raw_file(json.dumps({"t": entry(dtype="F4", shape=(3,), offsets=(0, 2))}).encode(), b"\0" * 2),
            "12 bits",
        ),
        (raw_file(json.dumps({"t": entry(shape=(1 << 40, 1 << 40))}).encode()), "overflows"),
        (
            raw_file(json.dumps({"t": entry(offsets=(4, 8))}).encode(), b"\0" * 8),
            "tensor 't': data_offsets leaves a gap at byte 0",
        ),
        (
            raw_file(
                json.dumps({"a": entry(shape=(2,), offsets=(0, 8)), "b": entry(offsets=(4, 8))}).encode(),
                b"\0" * 8,
            ),
            "data_offsets overlaps the previous tensor",
        ),
        (
            raw_file(json.dumps({"t": entry()}).encode(), b"\0" * 12),
            "cover 4 bytes but the data region holds 12",
        ),
        (
            raw_file(json.dumps({"t": entry()}).encode(), b"\0" * 2),
            "cover 4 bytes but the data region holds 2",
        ),
        (raw_file(b"{\xff}"), "not valid UTF-8"),
    ],
)
def test_malformed_headers(blob, rule):
    assert rule in refuse(blob)


def test_empty_and_scalar_tensors_are_allowed():
    header = {"empty": entry(shape=(0, 4), offsets=(0, 0)), "scalar": entry(shape=(), offsets=(0, 4))}
    blob = raw_file(json.dumps(header).encode(), b"\0" * 4)
    parsed = read_header(io.BytesIO(blob), len(blob), "m.safetensors")
    assert parsed.tensors["scalar"].numel == 1 and parsed.tensors["empty"].numel == 0


def check(folder) -> str:
    with pytest.raises(ValidationFailed) as err:
        inspect_checkpoint(file_refs(folder), open_local, None, "")
    assert "Traceback" not in err.value.message
    return err.value.message


def sharded(tmp_path, mutate) -> str:
    tensors = {f"t{i}": ("F32", (2,)) for i in range(4)}
    folder = write_checkpoint(tmp_path / "m", {"model_type": "llama"}, tensors, shards=2)
    index_path = folder / "model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    mutate(folder, index)
    index_path.write_text(json.dumps(index))
    return check(folder)


def test_index_names_a_shard_that_was_not_uploaded(tmp_path):
    def mutate(folder, index):
        (folder / "model-00002-of-00002.safetensors").unlink()

    message = sharded(tmp_path, mutate)
    assert message == (
        "model.safetensors.index.json: names shard 'model-00002-of-00002.safetensors', which was not uploaded"
    )


def test_index_puts_a_tensor_in_the_wrong_shard(tmp_path):
    def mutate(folder, index):
        index["weight_map"]["t0"] = "model-00002-of-00002.safetensors"

    message = sharded(tmp_path, mutate)
    assert message == (
        "model.safetensors.index.json: tensor 't0' is not in model-00002-of-00002.safetensors "
        "(it is in model-00001-of-00002.safetensors)"
    )


def test_a_tensor_in_two_shards(tmp_path):
    def mutate(folder, index):
        write_safetensors(
            folder / "model-00002-of-00002.safetensors",
            {"t0": ("F32", (2,)), "t2": ("F32", (2,)), "t3": ("F32", (2,))},
        )

    assert (
        "model-00002-of-00002.safetensors: tensor 't0' is also in model-00001-of-00002.safetensors"
        in sharded(tmp_path, mutate)
    )


def test_a_tensor_missing_from_the_index(tmp_path):
    def mutate(folder, index):
        del index["weight_map"]["t3"]

    assert sharded(tmp_path, mutate) == (
        "model-00002-of-00002.safetensors: tensor 't3' is not listed in model.safetensors.index.json"
    )


def test_a_weight_map_that_is_not_a_map(tmp_path):
    def mutate(folder, index):
        index["weight_map"] = ["t0"]

    assert "weight_map must map tensor names to shard file names" in sharded(tmp_path, mutate)


def test_problems_are_one_a_line_and_bounded(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(MAX_PROBLEMS + 5):
        (folder / f"part{i:02d}.safetensors").write_bytes(raw_file(b"[]"))
    lines = check(folder).split("\n")
    assert len(lines) == MAX_PROBLEMS + 1
    assert lines[0] == "part00.safetensors: header does not start with '{'"
    assert lines[-1] == "… and 5 more problems"


def test_gguf_is_rejected_by_name_and_by_content(tmp_path):
    folder = tmp_path / "gguf"
    folder.mkdir()
    (folder / "model-Q4_K_M.gguf").write_bytes(b"GGUF\x03\x00\x00\x00")
    (folder / "weights.dat").write_bytes(b"GGUF\x03\x00\x00\x00")
    lines = check(folder).split("\n")
    assert lines == [
        "model-Q4_K_M.gguf: GGUF files are not a supported format (upload safetensors, bin or exl2)",
        "weights.dat: GGUF files are not a supported format (upload safetensors, bin or exl2)",
    ]


def test_a_pickle_without_a_known_suffix_is_still_scanned(tmp_path):
    from support import pickles

    folder = write_checkpoint(tmp_path / "m", {"model_type": "llama"}, {"w": ("F32", (2,))})
    (folder / "optimizer.state").write_bytes(pickles.payload("os", "system", "id"))
    assert check(folder) == "optimizer.state: pickle imports os.system, which is not allowed in a checkpoint"


def test_a_bin_only_checkpoint_passes_the_scan(tmp_path):
    from support import pickles

    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "llama", "max_position_embeddings": 2048}))
    (folder / "pytorch_model.bin").write_bytes(
        pickles.zip_checkpoint(pickles.torch_state_dict({"w": (2, 2)}))
    )
    meta = inspect_checkpoint(file_refs(folder), open_local, "bin", "").metadata
    assert (meta.format, meta.architecture, meta.context_length) == ("bin", "llama", 2048)
    assert meta.parameter_count == 4  # from the _rebuild_tensor_v2 call, without unpickling
    assert "torch._utils._rebuild_tensor_v2" in meta.extra["pickleImports"]


def test_invalid_chat_template_is_a_clear_error(tmp_path):
    folder = write_checkpoint(
        tmp_path / "m",
        {"model_type": "llama"},
        {"w": ("F32", (2,))},
        files={"chat_template.jinja": "{% for m in messages %}{{ m }"},
    )
    message = check(folder)
    assert message.startswith("chat_template.jinja: chat template is not valid Jinja2 (")
    assert "at line 1)" in message


def test_chat_template_jinja_file_wins_over_tokenizer_config(tmp_path):
    folder = write_checkpoint(
        tmp_path / "m",
        {"model_type": "llama"},
        {"w": ("F32", (2,))},
        files={
            "chat_template.jinja": "{% generation %}{{ messages[0].content }}{% endgeneration %}",
            "tokenizer_config.json": {"chat_template": [{"name": "default", "template": "{{ x }}"}]},
        },
    )
    meta = inspect_checkpoint(file_refs(folder), open_local, None, "").metadata
    assert meta.chat_template.startswith("{% generation %}")
    assert meta.extra["chatTemplateSource"] == "chat_template.jinja"


@pytest.mark.parametrize(
    ("doc", "rule"),
    [
        ({"temperature": "hot"}, "generation_config.json: temperature must be a number, not str"),
        ({"temperature": -1}, "generation_config.json: temperature must be non-negative, not -1"),
        ({"top_p": 1.5}, "generation_config.json: top_p must be in (0, 1], not 1.5"),
    ],
)
def test_bad_generation_defaults(tmp_path, doc, rule):
    folder = write_checkpoint(
        tmp_path / "m", {"model_type": "llama"}, {"w": ("F32", (2,))}, files={"generation_config.json": doc}
    )
    assert check(folder) == rule


def test_config_that_is_not_json(tmp_path):
    folder = write_checkpoint(tmp_path / "m", None, {"w": ("F32", (2,))}, files={"config.json": "{not json"})
    assert check(folder).startswith("config.json: not valid JSON")


def test_headers_are_checked_in_bounded_batches(tmp_path, monkeypatch):
    from support.sparse import decoder_parameters, decoder_tensors
    from xerotier.validation import inspect as inspect_module

    dims = {"layers": 2, "hidden": 64, "inter": 128, "vocab": 256, "heads": 4, "kv_heads": 2}
    folder = write_checkpoint(tmp_path / "m", {"model_type": "llama"}, decoder_tensors(**dims), shards=4)
    (folder / "model-00003-of-00004.safetensors").write_bytes(raw_file(b"[]"))
    monkeypatch.setattr(inspect_module, "MAX_HELD_HEADER_BYTES", 1)  # check after every shard
    assert check(folder) == "model-00003-of-00004.safetensors: header does not start with '{'"
    write_checkpoint(tmp_path / "ok", {"model_type": "llama"}, decoder_tensors(**dims), shards=4)
    meta = inspect_checkpoint(file_refs(tmp_path / "ok"), open_local, None, "").metadata
    assert meta.parameter_count == decoder_parameters(**dims)


def test_shards_cannot_compensate_for_each_other(tmp_path):
    """One shard runs 4 bytes past its data region, the next leaves a 4-byte gap: both are named."""
    folder = tmp_path / "m"
    folder.mkdir()
    first = {"a": entry(shape=(3,), offsets=(0, 12))}
    second = {"b": entry(shape=(1,), offsets=(4, 8))}
    (folder / "a.safetensors").write_bytes(raw_file(json.dumps(first).encode(), b"\0" * 8))
    (folder / "b.safetensors").write_bytes(raw_file(json.dumps(second).encode(), b"\0" * 8))
    assert check(folder).split("\n") == [
        "a.safetensors: tensors cover 12 bytes but the data region holds 8",
        "b.safetensors: tensor 'b': data_offsets leaves a gap at byte 0",
    ]
