"""The README's configuration table (or a page under docs/) lists every setting (the docs stay true)."""

from pathlib import Path

from xerotier.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def test_every_setting_is_documented():
    text = README.read_text() + "".join(p.read_text() for p in sorted((ROOT / "docs").glob("*.md")))
    missing = [
        f"XEROTIER_{name.upper()}"
        for name in Settings.model_fields
        if f"`XEROTIER_{name.upper()}`" not in text
    ]
    assert missing == []
