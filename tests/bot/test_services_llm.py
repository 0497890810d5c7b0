"""Choosing the conversation engine from the settings (bot/services.py `build_engine`)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from bot.services import build_engine
from bot.settings import Settings
from mood.llm import LLMEngine
from mood.rules import RulesEngine
from music.catalog import Catalog
from tests.fakes.gemini_server import FakeGemini
from tests.fakes.openai_server import FakeOpenAI
from tests.helpers import track
from tests.mood.llm_harness import CONTEXT

_ENV = ("LLM_PROVIDER", "GEMINI_API_KEY", "GEMINI_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL")
CATALOG = Catalog([track(n) for n in range(5)])


def settings(monkeypatch: pytest.MonkeyPatch, **values: Any) -> Settings:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, None),
        ({"gemini_api_key": "g-key"}, "gemini"),
        ({"openai_base_url": "http://127.0.0.1:11434/v1", "openai_model": "llama3.2"}, "openai"),
        ({"openai_base_url": "http://127.0.0.1:11434/v1"}, None),  # no model named: nothing to ask
        ({"gemini_api_key": "g-key", "openai_base_url": "http://x/v1", "openai_model": "m"}, "gemini"),
        (
            {
                "llm_provider": "openai",
                "gemini_api_key": "g-key",
                "openai_base_url": "http://x/v1",
                "openai_model": "m",
            },
            "openai",
        ),
        ({"llm_provider": "rules", "gemini_api_key": "g-key"}, None),
    ],
)
async def test_the_settings_choose_the_engine(
    values: dict[str, Any], expected: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = build_engine(settings(monkeypatch, **values), CATALOG)
    if expected is None:
        assert isinstance(engine, RulesEngine)
    else:
        assert isinstance(engine, LLMEngine)
        assert engine.provider.name == expected
        await engine.aclose()


def test_a_provider_without_its_settings_warns_and_uses_the_rules(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.services"):
        engine = build_engine(settings(monkeypatch, llm_provider="gemini"), CATALOG)
    assert isinstance(engine, RulesEngine)
    assert "GEMINI_API_KEY" in caplog.text


async def test_the_built_gemini_engine_talks_through_the_sdk_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeGemini() as double:
        values = settings(monkeypatch, gemini_api_key="secret-key", gemini_model="gemini-pinned")
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", double.base_url)
        engine = build_engine(values, CATALOG)
        assert isinstance(engine, LLMEngine)
        turn = await engine.open(CONTEXT).start()
        await engine.aclose()
    assert turn.source == "gemini"
    assert double.models == ["gemini-pinned"]
    assert double.requests[0].headers["x-goog-api-key"] == "secret-key"
    sample = json.loads(double.history()[0][1])["catalog_sample"]
    assert len(sample) == len(CATALOG)  # MoodMix's own catalog is offered for song ideas


async def test_the_built_openai_engine_talks_to_the_configured_server(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeOpenAI() as double:
        values = settings(
            monkeypatch, openai_base_url=f"{double.base_url}/v1", openai_model="qwen-local", llm_timeout_seconds=0.5
        )
        engine = build_engine(values, CATALOG)
        assert isinstance(engine, LLMEngine)
        turn = await engine.open(CONTEXT).start()
        await engine.aclose()
    assert turn.source == "openai"
    assert double.requests[0].body["model"] == "qwen-local"
