import unicodedata

import pytest

from xerotier.domain.paths import normalize_model_path
from xerotier.errors import InvalidInput


@pytest.mark.parametrize("path", ["model.safetensors", "1_Pooling/config.json", "a/b/c.bin"])
def test_relative_paths_are_kept(path):
    assert normalize_model_path(path) == path


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("", "empty"),
        ("../etc/passwd", "'..'"),
        ("a/../../b", "'..'"),
        ("/etc/passwd", "relative"),
        ("C:/x", "relative"),
        ("a\\..\\b", "backslash"),
        ("a\x00b", "NUL"),
        ("a//b", "empty"),
        ("./a", "'.'"),
        ("a\nb", "control"),
        ("x" * 1025, "longer"),
        ("a/" + "y" * 256, "longer"),
    ],
)
def test_unsafe_paths_are_refused_with_the_reason(path, why):
    with pytest.raises(InvalidInput) as err:
        normalize_model_path(path)
    assert why in err.value.message


@pytest.mark.parametrize(
    "raw",
    [
        "weights\u200b.bin",  # zero-width space
        "model\u200d.safetensors",  # zero-width joiner
        "\u202egpj.bin",  # right-to-left override
        "a/\u2066b\u2069.bin",  # bidirectional isolates
        "\ufeffconfig.json",  # BOM
        "line\u2028break.txt",
    ],
)
def test_invisible_and_bidirectional_characters_are_refused(raw):
    with pytest.raises(InvalidInput) as err:
        normalize_model_path(raw)
    assert "invisible, zero-width or bidirectional" in err.value.message


def test_paths_are_nfc():
    nfd = unicodedata.normalize("NFD", "café/modèle.bin")
    assert nfd != "café/modèle.bin"
    assert normalize_model_path(nfd) == unicodedata.normalize("NFC", "café/modèle.bin")


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("llama-3-8b", True),
        ("meta-llama/Llama-3.1-8B_instruct", True),
        ("../../etc/passwd", False),
        ("org/..", False),
        ("./x", False),
        ("a/b/c", False),
        ("/abs", False),
        ("name with space", False),
        ("zwsp\u200bname", False),
        ("café", False),
        ("x" * 201, False),
    ],
)
def test_model_names_follow_the_documented_rule(name, ok):
    from xerotier.domain.names import check_model_name

    if ok:
        assert check_model_name(f"  {name} ") == name
    else:
        with pytest.raises(InvalidInput) as err:
            check_model_name(name)
        assert "letters, digits" in err.value.message
