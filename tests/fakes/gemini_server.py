"""A loopback double of the Gemini API (`POST /{v1,v1beta}/models/{model}:generateContent`) for google-genai,
unmodified: point the SDK at it with `GOOGLE_GEMINI_BASE_URL` or `HttpOptions(base_url=...)`.

Every request body is recorded (`requests`); `mode` chooses the answer (see `tests.fakes.llm_double.Mode`).
"""

from __future__ import annotations

import re

from aiohttp import web

from tests.fakes.llm_double import LLMDouble, Mode, json_response

_ROUTE = re.compile(r"^/(v1|v1beta)/models/(?P<model>[^/:]+):generateContent$")


class FakeGemini(LLMDouble):
    """Answers generateContent like the real service: candidates with one text part, or an error/refusal."""

    @property
    def models(self) -> list[str]:
        """The model named in each request, in order."""
        return [match["model"] for request in self.requests if (match := _ROUTE.match(request.path))]

    def history(self, index: int = -1) -> list[tuple[str, str]]:
        """The (role, text) contents of request `index` ("user" / "model"); the system instruction is not among them."""
        contents = self.requests[index].body.get("contents", [])
        return [(c["role"], "".join(p.get("text", "") for p in c.get("parts", []))) for c in contents]

    def _answer(self, request: web.Request) -> web.StreamResponse:
        if not _ROUTE.match(request.path):
            return json_response({"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}, 404)
        if self.mode is Mode.SERVER_ERROR:
            return json_response({"error": {"code": 500, "message": "internal error", "status": "INTERNAL"}}, 500)
        if self.mode is Mode.SAFETY:
            return json_response(
                {
                    "candidates": [
                        {
                            "finishReason": "SAFETY",
                            "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}],
                        }
                    ]
                }
            )
        if self.mode is Mode.BLOCKED:
            return json_response({"promptFeedback": {"blockReason": "SAFETY"}})
        return json_response(
            {
                "candidates": [
                    {"content": {"role": "model", "parts": [{"text": self.answer_text()}]}, "finishReason": "STOP"}
                ],
                "modelVersion": "fake-gemini",
            }
        )
