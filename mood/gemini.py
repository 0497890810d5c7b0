"""Gemini through google-genai (the successor of the deprecated google-generativeai).

One `genai.Client` serves every conversation; each conversation gets its own `client.aio.chats` chat, which sends
the whole history with each message. The answer's schema is `mood.llm.LLMReply`, sent as structured output.

The endpoint is Google's unless the SDK's own `GOOGLE_GEMINI_BASE_URL` environment variable points elsewhere (a test
double, a proxy): no base URL is passed here, so that variable keeps working. SDK retries are off: a turn has a few
seconds, and the rules answer when Gemini cannot. Off takes explicit retry options: without them google-genai 3.x
does not retry HTTP errors, but it does retry a failed connection once after sleeping 1 to 10 seconds.
"""

from __future__ import annotations

from google import genai
from google.genai import chats, types

from mood.llm import ChatRefused, LLMReply, parse_reply

# Finish reasons that still carry a whole answer; anything else (SAFETY, RECITATION, ...) is a refusal.
_COMPLETE = {types.FinishReason.STOP, types.FinishReason.FINISH_REASON_UNSPECIFIED, None}


class GeminiProvider:
    """The `mood.llm.LLMProvider` for Gemini."""

    name = "gemini"

    def __init__(self, *, api_key: str, model: str, timeout: float) -> None:
        # The SDK's timeout (milliseconds) ends the HTTP request itself; mood.llm also bounds the whole turn.
        # One attempt: given retry options, the SDK leaves every retry (connection errors too) to them.
        options = types.HttpOptions(timeout=int(timeout * 1000), retry_options=types.HttpRetryOptions(attempts=1))
        self._client = genai.Client(api_key=api_key, http_options=options)
        self._model = model

    def open_chat(self, instruction: str) -> GeminiChat:
        """A new chat whose answers must follow the `LLMReply` schema."""
        config = types.GenerateContentConfig(
            system_instruction=instruction,
            response_mime_type="application/json",
            response_schema=LLMReply,
        )
        return GeminiChat(self._client, self._model, config)

    async def aclose(self) -> None:
        """Close the client's HTTP sessions."""
        await self._client.aio.aclose()


class GeminiChat:
    """One conversation's chat with Gemini (`mood.llm.ProviderChat`)."""

    def __init__(self, client: genai.Client, model: str, config: types.GenerateContentConfig) -> None:
        self._client = client
        self._model = model
        self._config = config
        self._chat = self._new_chat([])

    async def ask(self, message: str) -> LLMReply:
        """Send `message` with the history; return the validated answer, or raise and leave the history as it was."""
        before = list(self._chat.get_history(curated=True))
        try:
            response = await self._chat.send_message(message)
            return parse_reply(_answer_text(response))
        except BaseException:
            # The SDK keeps any answer with text in its history, valid for MoodMix or not: drop the failed exchange.
            self._chat = self._new_chat(before)
            raise

    def record(self, message: str, answer: str) -> None:
        """Append an exchange Gemini did not produce, so that later turns see what the user saw."""
        history = [
            *self._chat.get_history(curated=True),
            types.Content(role="user", parts=[types.Part(text=message)]),
            types.Content(role="model", parts=[types.Part(text=answer)]),
        ]
        self._chat = self._new_chat(history)

    def _new_chat(self, history: list[types.Content]) -> chats.AsyncChat:
        return self._client.aio.chats.create(model=self._model, config=self._config, history=list(history))


def _answer_text(response: types.GenerateContentResponse) -> str | None:
    """The answer's text; `ChatRefused` when the prompt was blocked or the answer stopped for safety."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        raise ChatRefused(f"prompt blocked: {feedback.block_reason}")
    if not response.candidates:
        raise ChatRefused("no candidates")
    reason = response.candidates[0].finish_reason
    if reason not in _COMPLETE:
        raise ChatRefused(f"answer stopped: {reason}")
    return response.text
