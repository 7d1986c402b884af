"""Format detection and the "format does not match the files" checks (pure)."""

from __future__ import annotations

import pytest

from xerotier.errors import InvalidInput
from xerotier.upload.formats import check_format, detect_format


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["config.json", "model.safetensors"], "safetensors"),
        (["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"], "safetensors"),
        (["pytorch_model.bin", "config.json"], "bin"),
        (["consolidated.pth"], "bin"),
        (["output.safetensors", "measurement.json", "config.json"], "exl2"),
        (["config.json", "model.safetensors", "1_Pooling/config.json"], "directory"),
        (["docs/readme.md", "README.md"], None),
        (["config.json"], None),
    ],
)
def test_detect_format(paths, expected):
    assert detect_format(paths) == expected


def test_complete_sharded_safetensors_pass():
    check_format(
        "safetensors",
        [
            "model-00001-of-00002.safetensors",
            "model-00002-of-00002.safetensors",
            "model.safetensors.index.json",
        ],
    )


@pytest.mark.parametrize(
    ("fmt", "paths", "message"),
    [
        ("safetensors", ["model.bin"], "Format is safetensors but no .safetensors file was uploaded"),
        ("bin", ["model.safetensors"], "Format is bin but no .bin, .pt or .pth file was uploaded"),
        ("exl2", ["measurement.json"], "Format is exl2 but no .safetensors file was uploaded"),
        ("directory", ["a/b.txt"], "Format is directory but the folder holds no"),
        (
            "safetensors",
            ["model-00001-of-00003.safetensors", "model.safetensors.index.json"],
            "Sharded safetensors are incomplete: missing model-00002-of-00003.safetensors, "
            "model-00003-of-00003.safetensors",
        ),
        (
            "safetensors",
            ["model-00001-of-00001.safetensors"],
            "Sharded safetensors need their index file (*.safetensors.index.json)",
        ),
        ("gguf", ["model.gguf"], "Invalid format 'gguf'"),
        ("safetensors", [], "Model has no files"),
    ],
)
def test_check_format_rejects_mismatches(fmt, paths, message):
    with pytest.raises(InvalidInput) as raised:
        check_format(fmt, paths)
    assert raised.value.message.startswith(message)
