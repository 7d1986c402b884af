"""The README's configuration table lists every setting (the README stays true)."""

from pathlib import Path

from xerotier.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented():
    text = README.read_text()
    missing = [
        f"XEROTIER_{name.upper()}"
        for name in Settings.model_fields
        if f"`XEROTIER_{name.upper()}`" not in text
    ]
    assert missing == []
