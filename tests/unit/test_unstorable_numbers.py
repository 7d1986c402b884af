"""Numbers that cannot be stored end validation with a message naming the file and the field."""

from __future__ import annotations

import io
import json
import struct
from contextlib import contextmanager

import pytest

from xerotier.domain import storable
from xerotier.errors import ValidationFailed
from xerotier.validation.inspect import FileRef, inspect_checkpoint

CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 8,
    "num_attention_heads": 2,
    "num_hidden_layers": 1,
    "max_position_embeddings": 4096,
}
HUGE = "9" * 5000  # past Python's int/str digit limit


def weights(extra_header: str = "") -> bytes:
    header = '{"w": {"dtype": "F16", "shape": [2, 2], "data_offsets": [0, 8]}' + extra_header + "}"
    raw = header.encode()
    return struct.pack("<Q", len(raw)) + raw + b"\0" * 8


def validate(files: dict[str, bytes]) -> str:
    refs = [FileRef(path, len(raw), path) for path, raw in files.items()]

    @contextmanager
    def opener(ref: FileRef):  # type: ignore[no-untyped-def]
        yield io.BytesIO(files[ref.key])

    with pytest.raises(ValidationFailed) as failure:
        inspect_checkpoint(refs, opener, None)
    return failure.value.message


def config_text(**overrides: str) -> bytes:
    """config.json with raw JSON text for some values (what json.dumps cannot write)."""
    text = json.dumps(CONFIG)[:-1]
    for key, raw in overrides.items():
        text += f', "{key}": {raw}'
    return (text + "}").encode()


CASES = [
    ("generation_config.json", b'{"temperature": 1e400}', "generation_config.json: field temperature"),
    ("generation_config.json", b'{"temperature": NaN}', "generation_config.json: field temperature"),
    ("generation_config.json", b'{"top_p": Infinity}', "generation_config.json: field top_p"),
    ("generation_config.json", b'{"top_p": -Infinity}', "generation_config.json: field top_p"),
    (
        "config.json",
        config_text(rope_scaling='{"type": "linear", "factor": NaN}'),
        "field rope_scaling.factor",
    ),
    (
        "config.json",
        config_text(rope_scaling='{"type": "linear", "factor": 1e999}'),
        "field rope_scaling.factor",
    ),
    (
        "config.json",
        config_text(rope_scaling='{"type": "linear", "factor": 1e308}'),
        "field rope_scaling.factor",
    ),
    ("config.json", config_text(max_position_embeddings=str(2**31)), "field context_length"),
    ("config.json", config_text(max_position_embeddings=str(2**63)), "field max_position_embeddings"),
    ("config.json", config_text(num_local_experts=str(2**31), num_experts_per_tok="2"), "field num_experts"),
    ("config.json", config_text(num_local_experts=str(2**64)), "field num_local_experts"),
    ("config.json", config_text(max_position_embeddings=HUGE), "an integer of 5000 digits"),
    ("config.json", config_text(hidden_size=HUGE), "field hidden_size"),
    (
        "tokenizer_config.json",
        ('{"model_max_length": ' + HUGE + "}").encode(),
        "tokenizer_config.json: field",
    ),
    ("quantize_config.json", b'{"bits": Infinity}', "quantize_config.json: field bits"),
]


@pytest.mark.parametrize(("name", "raw", "expected"), CASES, ids=[c[2] + " " + c[0] for c in CASES])
def test_each_value_is_a_validation_error_naming_file_and_field(name, raw, expected):
    files = {"model.safetensors": weights(), name: raw}
    if name != "config.json":
        files["config.json"] = json.dumps(CONFIG).encode()
    message = validate(files)
    assert expected in message, message
    assert "Traceback" not in message


def test_a_huge_integer_in_a_safetensors_header_is_a_validation_error():
    message = validate({"model.safetensors": weights(f', "__metadata__": {{"n": {HUGE}}}')})
    assert message.startswith("model.safetensors: ") and "cannot be read" in message


def test_storable_loads_names_the_path():
    with pytest.raises(storable.NotStorable) as err:
        storable.loads(b'{"a": {"b": [1, 2, NaN]}}')
    assert err.value.where == "a.b[2]"
    assert storable.loads(b'{"a": [1, 2.5, 9223372036854775807]}') == {"a": [1, 2.5, 2**63 - 1]}


def test_stored_values_are_served_without_non_finite_floats():
    assert storable.sanitized({"a": [float("inf"), 1.0, {"b": float("nan")}]}) == {
        "a": [None, 1.0, {"b": None}]
    }
