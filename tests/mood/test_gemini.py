"""Gemini on the wire: google-genai, unmodified, reaches the double through the SDK's own GOOGLE_GEMINI_BASE_URL and
sends the whole chat, the system instruction and the answer schema with every request."""

from __future__ import annotations

import json

import pytest
from google.genai.errors import ServerError
from pydantic import ValidationError

from mood.conversation import ChooseGoal, TellMore
from mood.llm import SYSTEM_INSTRUCTION, ChatRefused, start_message
from mood.profile import Goal
from tests.fakes.gemini_server import FakeGemini
from tests.fakes.llm_double import GOOD_ANSWER, Mode
from tests.mood.llm_harness import CONTEXT, llm_double, llm_engine


async def test_the_second_request_carries_the_first_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    async with llm_engine("gemini", monkeypatch) as (double, engine):
        conversation = engine.open(CONTEXT)
        await conversation.start()
        await conversation.send(ChooseGoal(Goal.STAY))

    assert isinstance(double, FakeGemini)
    assert double.models == ["gemini-test", "gemini-test"]
    assert double.history(0) == [("user", start_message(CONTEXT))]
    assert double.history(1) == [
        ("user", start_message(CONTEXT)),
        ("model", json.dumps(GOOD_ANSWER)),
        ("user", json.dumps({"event": "choose_goal", "goal": "stay"})),
    ]
    for request in double.requests:
        assert request.headers["x-goog-api-key"] == "test-gemini-key"
        assert request.body["systemInstruction"]["parts"] == [{"text": SYSTEM_INSTRUCTION}]


async def test_the_answer_schema_is_sent_with_every_request(monkeypatch: pytest.MonkeyPatch) -> None:
    async with llm_engine("gemini", monkeypatch) as (double, engine):
        await engine.open(CONTEXT).start()

    config = double.requests[0].body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    schema = config.get("responseSchema") or config["responseJsonSchema"]
    assert set(schema["required"]) == {"reply", "profile"}
    profile = schema["properties"]["profile"]
    assert {"current_valence", "target_arousal", "goal", "song_ideas"} <= set(profile["properties"])
    assert profile["properties"]["song_ideas"]["items"]["required"] == ["title", "artist"]


@pytest.mark.parametrize("mode", [Mode.SAFETY, Mode.BLOCKED])
async def test_a_safety_stop_is_a_refusal(mode: Mode, monkeypatch: pytest.MonkeyPatch) -> None:
    async with llm_double("gemini", monkeypatch) as (double, provider):
        double.mode = mode
        chat = provider.open_chat("be brief")
        with pytest.raises(ChatRefused):
            await chat.ask("hello")
        double.mode = Mode.GOOD
        await chat.ask("hello again")
    # The refused exchange left nothing behind in the chat.
    assert double.history() == [("user", "hello again")]


async def test_a_refused_exchange_is_replaced_by_what_the_user_saw(monkeypatch: pytest.MonkeyPatch) -> None:
    async with llm_double("gemini", monkeypatch) as (double, provider):
        chat = provider.open_chat("be brief")
        double.mode = Mode.MALFORMED
        with pytest.raises(ValidationError):
            await chat.ask("first")
        chat.record("first", '{"reply": "from the rules"}')
        double.mode = Mode.GOOD
        await chat.ask(json.dumps({"event": "tell_more", "text": "second"}))
    assert double.history()[:2] == [("user", "first"), ("model", '{"reply": "from the rules"}')]


async def test_tell_more_text_reaches_gemini_verbatim(monkeypatch: pytest.MonkeyPatch) -> None:
    async with llm_engine("gemini", monkeypatch) as (double, engine):
        conversation = engine.open(CONTEXT)
        await conversation.start()
        await conversation.send(TellMore("Quiero algo en español, por favor"))
    assert json.loads(double.history()[-1][1]) == {"event": "tell_more", "text": "Quiero algo en español, por favor"}


async def test_a_server_error_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """A turn has seconds: a retry would only delay the rules' answer, so the SDK's retries stay off."""
    async with llm_double("gemini", monkeypatch) as (double, provider):
        double.mode = Mode.SERVER_ERROR
        with pytest.raises(ServerError):
            await provider.open_chat("be brief").ask("hello")
    assert len(double.requests) == 1
