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
