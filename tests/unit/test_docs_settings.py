"""The configuration document's table lists every setting (the docs stay true)."""

from pathlib import Path

from xerotier.settings import Settings

CONFIGURATION = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_setting_is_documented():
    text = CONFIGURATION.read_text()
    missing = [
        f"XEROTIER_{name.upper()}"
        for name in Settings.model_fields
        if f"`XEROTIER_{name.upper()}`" not in text
    ]
    assert missing == []
