from pathlib import Path

from xerotier.settings import Settings


def test_defaults_are_embedded(monkeypatch, tmp_path):
    for key in list(__import__("os").environ):
        if key.startswith("XEROTIER_"):
            monkeypatch.delenv(key)
    settings = Settings(data_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'xerotier.db').resolve()}"
    assert settings.is_embedded_broker
    assert settings.resolved_blob_dir == (tmp_path / "blobs").resolve()


def test_environment_selects_production(monkeypatch):
    monkeypatch.setenv("XEROTIER_DATABASE_URL", "postgresql+psycopg://db/x")
    monkeypatch.setenv("XEROTIER_BROKER_URL", "redis://redis:6379/0")
    monkeypatch.setenv("XEROTIER_DATA_DIR", "/srv/x")
    settings = Settings()
    assert settings.resolved_database_url == "postgresql+psycopg://db/x"
    assert not settings.is_embedded_broker
    assert settings.data_dir == Path("/srv/x")


def clean_env(monkeypatch):
    for key in list(__import__("os").environ):
        if key.startswith("XEROTIER_"):
            monkeypatch.delenv(key)


def test_precedence_is_flag_then_environment_then_default(monkeypatch):
    from xerotier.settings import load_settings

    clean_env(monkeypatch)
    assert load_settings(port=None).port == 8000
    monkeypatch.setenv("XEROTIER_PORT", "9001")
    assert load_settings(port=None).port == 9001
    assert load_settings(port=9002).port == 9002


def test_a_bad_environment_value_is_refused_naming_the_variable(monkeypatch):
    import pytest

    from xerotier.settings import InvalidSettings, get_settings, load_settings

    clean_env(monkeypatch)
    monkeypatch.setenv("XEROTIER_PORT", "abc")
    with pytest.raises(InvalidSettings, match=r"XEROTIER_PORT='abc'"):
        load_settings()
    get_settings.cache_clear()
    with pytest.raises(InvalidSettings, match=r"XEROTIER_PORT"):
        get_settings()
    get_settings.cache_clear()
    monkeypatch.setenv("XEROTIER_PORT", "70000")
    with pytest.raises(InvalidSettings, match=r"XEROTIER_PORT=.*70000"):
        load_settings()


def test_a_bad_flag_is_named_as_the_flag(monkeypatch):
    import pytest

    from xerotier.settings import InvalidSettings, load_settings

    clean_env(monkeypatch)
    with pytest.raises(InvalidSettings, match=r"--port=0"):
        load_settings(port=0)


def test_apply_overrides_exports_given_flags_only(monkeypatch, tmp_path):
    import os

    from xerotier.settings import apply_overrides, get_settings

    clean_env(monkeypatch)
    monkeypatch.setenv("XEROTIER_DATA_DIR", "restored-after-the-test")
    monkeypatch.setenv("XEROTIER_HOST", "0.0.0.0")
    settings = apply_overrides(data_dir=tmp_path, host=None)
    assert settings.data_dir == tmp_path and settings.host == "0.0.0.0"
    assert os.environ["XEROTIER_DATA_DIR"] == str(tmp_path)
    assert get_settings().data_dir == tmp_path
    get_settings.cache_clear()
