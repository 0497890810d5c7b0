"""Settings checks that turn a bad value into one clear line at start: the Fernet key, and what Spotify lacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError

from bot.cli import main
from bot.settings import Settings

SPOTIFY_APP = {"spotify_client_id": "app-id", "spotify_client_secret": SecretStr("app-secret")}


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize("bad_key", ["not-a-key", "c2hvcnQ=", "A" * 44])
def test_a_malformed_secret_key_is_refused_without_echoing_it(bad_key: str) -> None:
    with pytest.raises(ValidationError) as refused:
        _settings(moodmix_secret_key=bad_key)
    (error,) = refused.value.errors()
    assert error["loc"] == ("moodmix_secret_key",) and "Fernet key" in error["msg"]
    assert bad_key not in error["msg"]


def test_a_fernet_key_is_accepted_and_completes_the_spotify_settings() -> None:
    key = Fernet.generate_key().decode()
    settings = _settings(moodmix_secret_key=key, **SPOTIFY_APP)
    assert settings.moodmix_secret_key is not None and settings.moodmix_secret_key.get_secret_value() == key
    assert settings.spotify_configured and settings.spotify_missing == []


def test_spotify_missing_names_the_unset_settings() -> None:
    assert _settings().spotify_missing == ["SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "MOODMIX_SECRET_KEY"]
    assert _settings(**SPOTIFY_APP).spotify_missing == ["MOODMIX_SECRET_KEY"]
    assert not _settings(**SPOTIFY_APP).spotify_configured


def test_the_cli_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("MOODMIX_SECRET_KEY", "my-secret-passphrase")
    # No DISCORD_TOKEN: were the key let through, `run` would stop at the missing token, not connect anywhere.
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("moodmix: invalid settings: MOODMIX_SECRET_KEY") and "Fernet key" in err
    assert err.count("\n") == 1 and "my-secret-passphrase" not in err
