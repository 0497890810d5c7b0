"""Any OpenAI-compatible chat server (Ollama, the llama.cpp server, vLLM, OpenAI itself) through the `openai` SDK.

Chat completions are stateless, so each conversation keeps its own message list here and sends it whole. The answer
must follow `mood.llm.LLMReply`, asked for with `response_format` "json_schema" (supported by Ollama >= 0.5, the
llama.cpp server and vLLM) and validated here whatever the server did with it. SDK retries are off: a turn has a
few seconds, and the rules answer when the server cannot.
"""

from __future__ import annotations

from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema

from mood.llm import ChatRefused, LLMReply, parse_reply

# Local servers ignore the key, but the SDK insists on one (and would otherwise read OPENAI_API_KEY itself).
_NO_KEY = "not-needed"

RESPONSE_FORMAT: ResponseFormatJSONSchema = {
    "type": "json_schema",
    # Not "strict": OpenAI's strict mode needs every field required, and MoodProfile has defaults.
    "json_schema": {"name": "moodmix_turn", "schema": LLMReply.model_json_schema(), "strict": False},
}


class OpenAICompatProvider:
    """The `mood.llm.LLMProvider` for an OpenAI-compatible server at `base_url` (e.g. http://127.0.0.1:11434/v1)."""

    name = "openai"

    def __init__(self, *, base_url: str, model: str, api_key: str | None, timeout: float) -> None:
        self._client = AsyncOpenAI(base_url=base_url, api_key=api_key or _NO_KEY, timeout=timeout, max_retries=0)
        self._model = model

    def open_chat(self, instruction: str) -> OpenAICompatChat:
        """A new chat that starts with `instruction` as its system message."""
        return OpenAICompatChat(self._client, self._model, instruction)

    async def aclose(self) -> None:
        """Close the client's HTTP connections."""
        await self._client.close()


class OpenAICompatChat:
    """One conversation's message list (`mood.llm.ProviderChat`)."""

    def __init__(self, client: AsyncOpenAI, model: str, instruction: str) -> None:
        self._client = client
        self._model = model
        self._messages: list[ChatCompletionMessageParam] = [{"role": "system", "content": instruction}]

    async def ask(self, message: str) -> LLMReply:
        """Send `message` with the history; return the validated answer, or raise and leave the history as it was."""
        messages: list[ChatCompletionMessageParam] = [*self._messages, {"role": "user", "content": message}]
        completion = await self._client.chat.completions.create(
            model=self._model,
            messages=messages,
            response_format=RESPONSE_FORMAT,
        )
        if not completion.choices:
            raise ChatRefused("no choices")
        choice = completion.choices[0]
        if choice.finish_reason == "content_filter" or choice.message.refusal:
            raise ChatRefused(f"refused ({choice.finish_reason})")
        reply = parse_reply(choice.message.content)
        self._messages = [*messages, {"role": "assistant", "content": choice.message.content}]
        return reply

    def record(self, message: str, answer: str) -> None:
        """Append an exchange the server did not produce, so that later turns see what the user saw."""
        self._messages = [
            *self._messages,
            {"role": "user", "content": message},
            {"role": "assistant", "content": answer},
        ]
