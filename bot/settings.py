"""MoodMix's one settings object, read from the environment and `.env` (every field is listed in `.env.example`).

Nothing else in MoodMix reads environment variables: the composition root builds services from these settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Discord
    discord_token: SecretStr | None = None
    discord_api_base: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg/"
    discord_guild_id: int | None = None

    # Storage
    moodmix_db_path: Path = Path("moodmix.db")
    # Fernet key (urlsafe base64, 32 bytes) that encrypts Spotify tokens at rest.
    moodmix_secret_key: SecretStr | None = None

    # Music: a catalog of your own (our columns or a public Spotify dataset's) instead of the built-in one
    moodmix_catalog_path: Path | None = None
    moodmix_catalog_language: str = "und"  # for a catalog without a language column (ISO 639-1)

    # Inference
    max_image_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    max_image_pixels: int = Field(default=40_000_000, ge=1)
    inference_workers: int = Field(default=2, ge=1)
    inference_queue: int = Field(default=16, ge=1)

    # Spotify (optional: without it the bot shows listen links)
    spotify_client_id: str | None = None
    spotify_client_secret: SecretStr | None = None
    spotify_redirect_uri: str = "http://127.0.0.1:8765/spotify/callback"
    spotify_accounts_base: str = "https://accounts.spotify.com"
    spotify_api_base: str = "https://api.spotify.com/v1"
    oauth_server_host: str = "127.0.0.1"
    oauth_server_port: int = 8765

    # Conversation (optional: without a provider the built-in rules talk)
    llm_provider: Literal["auto", "gemini", "openai", "rules"] = "auto"
    gemini_api_key: SecretStr | None = None
    gemini_model: str = "gemini-2.5-flash"
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_model: str | None = None
    llm_timeout_seconds: float = Field(default=8.0, gt=0)

    @field_validator("moodmix_secret_key")
    @classmethod
    def _a_fernet_key(cls, key: SecretStr | None) -> SecretStr | None:
        # Checked here so that a bad key is one "invalid settings" line at start, not a traceback from setup_hook.
        # The message never repeats the value.
        if key is not None and key.get_secret_value():
            try:
                Fernet(key.get_secret_value().encode())
            except ValueError:  # binascii.Error (bad base64) is a ValueError too
                raise ValueError(
                    "must be a Fernet key (32 url-safe base64-encoded bytes); make one with: python -c "
                    '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
                ) from None
        return key

    @property
    def spotify_configured(self) -> bool:
        return not self.spotify_missing

    @property
    def spotify_missing(self) -> list[str]:
        """The names (never the values) of the settings Spotify still needs; empty when it is configured."""
        needed = {
            "SPOTIFY_CLIENT_ID": self.spotify_client_id,
            "SPOTIFY_CLIENT_SECRET": self.spotify_client_secret,
            "MOODMIX_SECRET_KEY": self.moodmix_secret_key,
        }
        return [name for name, value in needed.items() if not value]
