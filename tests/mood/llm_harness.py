"""Shared set-up of the LLM conversation tests: an `LLMEngine` on each provider, talking to its loopback double
through the unmodified SDK, with the real rules behind it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from mood.conversation import MoodContext
from mood.gemini import GeminiProvider
from mood.llm import CatalogSample, LLMEngine, LLMProvider
from mood.openai_compat import OpenAICompatProvider
from mood.rules import RulesEngine
from tests.fakes.gemini_server import FakeGemini
from tests.fakes.llm_double import LLMDouble
from tests.fakes.openai_server import FakeOpenAI

TIMEOUT = 0.5  # seconds: long enough for a loopback answer, short enough to keep the SLOW cases fast
PROVIDERS = ("gemini", "openai")

CONTEXT = MoodContext(
    scores={"angry": 0.02, "disgust": 0.01, "fear": 0.05, "happy": 0.04, "sad": 0.7, "surprise": 0.03, "neutral": 0.15},
    note="long day at work, feeling flat",
    artists=("Nick Drake",),
    language="en",
    locale="en-US",
)


def provider_at(name: str, base_url: str, monkeypatch: pytest.MonkeyPatch, *, timeout: float = TIMEOUT) -> LLMProvider:
    """Provider `name` pointed at `base_url` the way the bot is configured: Gemini through the SDK's own
    `GOOGLE_GEMINI_BASE_URL`, the OpenAI-compatible server through its base URL."""
    if name == "gemini":
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", base_url)
        return GeminiProvider(api_key="test-gemini-key", model="gemini-test", timeout=timeout)
    return OpenAICompatProvider(base_url=f"{base_url}/v1", model="llama-test", api_key=None, timeout=timeout)


@asynccontextmanager
async def llm_double(name: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[LLMDouble, LLMProvider]]:
    """A running double for provider `name` and a provider pointed at it (see `provider_at`)."""
    double: LLMDouble = FakeGemini() if name == "gemini" else FakeOpenAI()
    async with double:
        provider = provider_at(name, double.base_url, monkeypatch)
        try:
            yield double, provider
        finally:
            await provider.aclose()


@asynccontextmanager
async def llm_engine(
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    catalog_sample: CatalogSample | None = None,
    clock: Callable[[], float] = time.monotonic,
    max_turns: int = 12,
) -> AsyncIterator[tuple[LLMDouble, LLMEngine]]:
    """An `LLMEngine` on provider `name`, with the rules behind it, and the double it talks to."""
    async with llm_double(name, monkeypatch) as (double, provider):
        engine = LLMEngine(
            provider, RulesEngine(), timeout=TIMEOUT, catalog_sample=catalog_sample, max_turns=max_turns, clock=clock
        )
        yield double, engine
