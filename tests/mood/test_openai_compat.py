"""An OpenAI-compatible server on the wire: the `openai` SDK, unmodified, sends the system prompt, the whole
history kept by MoodMix and the answer's JSON schema with every request."""

from __future__ import annotations

import json

import pytest
from openai import InternalServerError
from pydantic import ValidationError

from mood.conversation import ChooseGoal
from mood.llm import SYSTEM_INSTRUCTION, ChatRefused, LLMReply, start_message
from mood.openai_compat import OpenAICompatProvider
from mood.profile import Goal
from tests.fakes.llm_double import GOOD_ANSWER, Mode
from tests.fakes.openai_server import FakeOpenAI
from tests.mood.llm_harness import CONTEXT, llm_double, llm_engine


async def test_the_second_request_carries_the_first_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    async with llm_engine("openai", monkeypatch) as (double, engine):
        conversation = engine.open(CONTEXT)
        await conversation.start()
        await conversation.send(ChooseGoal(Goal.ENERGIZE))

    assert [request.path for request in double.requests] == ["/v1/chat/completions"] * 2
    assert double.history(1) == [
        ("system", SYSTEM_INSTRUCTION),
        ("user", start_message(CONTEXT)),
        ("assistant", json.dumps(GOOD_ANSWER)),
        ("user", json.dumps({"event": "choose_goal", "goal": "energize"})),
    ]
    for request in double.requests:
        assert request.body["model"] == "llama-test"
        # No key configured (a local server): the SDK still gets a placeholder, never the environment's key.
        assert request.headers["Authorization"] == "Bearer not-needed"


async def test_the_answer_schema_is_sent_with_every_request(monkeypatch: pytest.MonkeyPatch) -> None:
    async with llm_engine("openai", monkeypatch) as (double, engine):
        await engine.open(CONTEXT).start()
    response_format = double.requests[0].body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["schema"] == LLMReply.model_json_schema()


async def test_a_configured_key_is_sent_as_a_bearer_token() -> None:
    async with FakeOpenAI() as double:
        provider = OpenAICompatProvider(base_url=f"{double.base_url}/v1", model="m", api_key="sk-test", timeout=0.5)
        try:
            await provider.open_chat("be brief").ask("hello")
        finally:
            await provider.aclose()
    assert double.requests[0].headers["Authorization"] == "Bearer sk-test"


@pytest.mark.parametrize(
    ("mode", "error"), [(Mode.SAFETY, ChatRefused), (Mode.BLOCKED, ChatRefused), (Mode.MALFORMED, ValidationError)]
)
async def test_a_refused_or_invalid_answer_leaves_the_history_as_it_was(
    mode: Mode, error: type[Exception], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with llm_double("openai", monkeypatch) as (double, provider):
        chat = provider.open_chat("be brief")
        double.mode = mode
        with pytest.raises(error):
            await chat.ask("hello")
        double.mode = Mode.GOOD
        await chat.ask("hello again")
    assert double.history() == [("system", "be brief"), ("user", "hello again")]


async def test_a_server_error_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """A turn has seconds: a retry would only delay the rules' answer, so the SDK's retries are off."""
    async with llm_double("openai", monkeypatch) as (double, provider):
        double.mode = Mode.SERVER_ERROR
        with pytest.raises(InternalServerError):
            await provider.open_chat("be brief").ask("hello")
    assert len(double.requests) == 1
