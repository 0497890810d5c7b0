"""A loopback double of an OpenAI-compatible server (`POST /v1/chat/completions`), the API that Ollama, the
llama.cpp server and vLLM speak, for the `openai` SDK unmodified: `AsyncOpenAI(base_url=f"{double.base_url}/v1")`.

Every request body is recorded (`requests`); `mode` chooses the answer (see `tests.fakes.llm_double.Mode`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.llm_double import LLMDouble, Mode, json_response


class FakeOpenAI(LLMDouble):
    """Answers chat completions like the real servers: one choice, or an error/refusal."""

    def history(self, index: int = -1) -> list[tuple[str, str]]:
        """The (role, content) messages of request `index` ("system" / "user" / "assistant")."""
        return [(m["role"], m.get("content") or "") for m in self.requests[index].body.get("messages", [])]

    def _answer(self, request: web.Request) -> web.StreamResponse:
        if request.path != "/v1/chat/completions":
            return json_response({"error": {"message": "not found", "type": "invalid_request_error"}}, 404)
        if self.mode is Mode.SERVER_ERROR:
            return json_response({"error": {"message": "internal error", "type": "server_error"}}, 500)
        model = self.requests[-1].body.get("model", "")
        if self.mode is Mode.SAFETY:
            return json_response(_completion(model, {"role": "assistant", "content": None}, "content_filter"))
        if self.mode is Mode.BLOCKED:
            message = {"role": "assistant", "content": None, "refusal": "I can't help with that."}
            return json_response(_completion(model, message, "stop"))
        return json_response(_completion(model, {"role": "assistant", "content": self.answer_text()}, "stop"))


def _completion(model: str, message: dict[str, Any], finish_reason: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1767225600,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
