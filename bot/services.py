"""The one place MoodMix's services are built from the settings and handed to the cogs and the command line.

To add a service (Spotify, an LLM provider), add a field to `Services` and build it in `build_services`; the
conversation engine is chosen in `build_engine` and nowhere else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cryptography.fernet import Fernet

from bot.pipeline import MoodPipeline
from bot.settings import Settings
from inference.reader import EmotionReader
from mood.conversation import ConversationEngine
from mood.gemini import GeminiProvider
from mood.llm import LLMEngine, LLMProvider, catalog_near
from mood.openai_compat import OpenAICompatProvider
from mood.rules import RulesEngine
from music.catalog import Catalog
from music.recommender import Recommender
from music.spotify import SpotifyConfig, SpotifyService
from storage.db import Database
from storage.mixes import MixRepository
from storage.preferences import PreferencesRepository
from storage.spotify import (
    OAuthStateRepository,
    SavedPlaylistRepository,
    SpotifyForgotten,
    SpotifyLinkRepository,
    forget_spotify_user,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What `Services.forget_user` deleted about one user."""

    preferences: bool
    mixes: int  # with their ratings
    spotify: SpotifyForgotten
    conversations: int  # open /mood conversations, held in memory

    @property
    def anything(self) -> bool:
        spotify = self.spotify
        return bool(
            self.preferences
            or self.mixes
            or self.conversations
            or spotify.linked
            or spotify.saved_playlists
            or spotify.link_states
        )


@dataclass(slots=True)
class Services:
    """Everything the front doors use. `db`, `preferences` and `mixes` are None without a database (`moodmix try`)."""

    settings: Settings
    catalog: Catalog
    reader: EmotionReader
    pipeline: MoodPipeline
    db: Database | None = None
    preferences: PreferencesRepository | None = None
    mixes: MixRepository | None = None
    spotify: SpotifyService | None = None  # None without Spotify settings (or without a database)
    llm: LLMEngine | None = None  # None when the built-in rules talk alone

    async def forget_user(self, user_id: int) -> Forgotten:
        """Delete everything MoodMix keeps about a user (/forget-me): open conversations, preferences, mixes and
        their ratings, Spotify tokens, saved-playlist records and pending link states.

        Conversations go first, so that no later press of their buttons can store a new mix. The Spotify records go
        before the mixes, whose deletion would otherwise take the saved-playlist records along uncounted.
        """
        conversations = self.pipeline.forget_user(user_id)
        if self.db is None:
            return Forgotten(False, 0, SpotifyForgotten(False, 0, 0), conversations)
        spotify = await forget_spotify_user(self.db.conn, user_id)
        preferences = await self.preferences.clear(user_id) if self.preferences is not None else False
        mixes = await self.mixes.forget(user_id) if self.mixes is not None else 0
        return Forgotten(preferences, mixes, spotify, conversations)

    async def close(self) -> None:
        """Stop the inference workers and close the database."""
        self.reader.close()
        if self.spotify is not None:
            await self.spotify.close()
        if self.llm is not None:
            await self.llm.aclose()
        if self.db is not None:
            await self.db.close()


def build_engine(settings: Settings, catalog: Catalog) -> ConversationEngine:
    """The conversation engine the settings ask for: an LLM (with the rules taking any turn it fails) or the rules.

    LLM_PROVIDER=auto picks Gemini when GEMINI_API_KEY is set, else the OpenAI-compatible server when
    OPENAI_BASE_URL and OPENAI_MODEL are, else the rules.
    """
    provider = build_llm_provider(settings)
    if provider is None:
        return RulesEngine()
    return LLMEngine(
        provider, RulesEngine(), timeout=settings.llm_timeout_seconds, catalog_sample=catalog_near(catalog.tracks)
    )


def build_llm_provider(settings: Settings) -> LLMProvider | None:
    """The LLM provider `settings.llm_provider` names (resolving "auto"), or None for the rules."""
    choice = settings.llm_provider
    gemini_key = settings.gemini_api_key.get_secret_value() if settings.gemini_api_key else None
    if choice == "auto":
        choice = "gemini" if gemini_key else "openai" if settings.openai_base_url and settings.openai_model else "rules"
    if choice == "gemini":
        if gemini_key:
            return GeminiProvider(api_key=gemini_key, model=settings.gemini_model, timeout=settings.llm_timeout_seconds)
        log.warning("LLM_PROVIDER=gemini needs GEMINI_API_KEY; the built-in rules will talk instead")
    elif choice == "openai":
        if settings.openai_base_url and settings.openai_model:
            return OpenAICompatProvider(
                base_url=settings.openai_base_url,
                model=settings.openai_model,
                api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else None,
                timeout=settings.llm_timeout_seconds,
            )
        log.warning("LLM_PROVIDER=openai needs OPENAI_BASE_URL and OPENAI_MODEL; the built-in rules will talk instead")
    return None


def build_spotify(settings: Settings, db: Database | None) -> SpotifyService | None:
    """The Spotify service when the settings configure it (app id, secret, and the key that encrypts tokens)."""
    if db is None or not settings.spotify_configured:
        return None
    assert settings.spotify_client_id and settings.spotify_client_secret and settings.moodmix_secret_key
    config = SpotifyConfig(
        client_id=settings.spotify_client_id,
        client_secret=settings.spotify_client_secret.get_secret_value(),
        redirect_uri=settings.spotify_redirect_uri,
        accounts_base=settings.spotify_accounts_base,
        api_base=settings.spotify_api_base,
    )
    fernet = Fernet(settings.moodmix_secret_key.get_secret_value().encode())
    return SpotifyService(
        config,
        links=SpotifyLinkRepository(db.conn, fernet),
        states=OAuthStateRepository(db.conn),
        saved=SavedPlaylistRepository(db.conn),
    )


def load_catalog(settings: Settings) -> Catalog:
    """The catalog MOODMIX_CATALOG_PATH names (raising CatalogError for a bad file), else the built-in one."""
    if settings.moodmix_catalog_path is None:
        return Catalog.builtin()
    return Catalog.from_csv(settings.moodmix_catalog_path, default_language=settings.moodmix_catalog_language)


def build_services(settings: Settings, db: Database | None = None) -> Services:
    """Build every service once. With `db`, preferences and mixes are kept there; without, nothing is stored."""
    catalog = load_catalog(settings)
    reader = EmotionReader(
        max_bytes=settings.max_image_bytes,
        max_pixels=settings.max_image_pixels,
        workers=settings.inference_workers,
        queue=settings.inference_queue,
    )
    mixes = MixRepository(db.conn) if db is not None else None
    engine = build_engine(settings, catalog)
    pipeline = MoodPipeline(reader=reader, engine=engine, recommender=Recommender(catalog), mixes=mixes)
    return Services(
        settings=settings,
        catalog=catalog,
        reader=reader,
        pipeline=pipeline,
        db=db,
        preferences=PreferencesRepository(db.conn) if db is not None else None,
        mixes=mixes,
        spotify=build_spotify(settings, db),
        llm=engine if isinstance(engine, LLMEngine) else None,
    )
