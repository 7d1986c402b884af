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
