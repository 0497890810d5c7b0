"""Errors of the inference layer. Each carries a stable `code` (used by `moodmix try --json`) and a short
sentence for the user that says what to do.

    ImageError
    ├── NotAnImage       code "not_an_image"
    ├── ImageTooLarge    code "too_large"     (bytes or pixels over the limit, decompression bombs)
    ├── UnreadableImage  code "unreadable"    (truncated or corrupt data of a known format)
    └── NoFaceFound      code "no_face"
    InferenceBusy        code "busy"          (the bounded executor's queue is full)
    ModelUnavailable     code "model_unavailable" (the emotion model is missing or cannot be loaded)
"""

from __future__ import annotations


class InferenceError(Exception):
    code = "inference_error"
    user_message = "Something went wrong reading that photo. Please try again."

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.user_message)
        self.detail = detail or self.user_message


class ImageError(InferenceError):
    code = "bad_image"


class NotAnImage(ImageError):
    code = "not_an_image"
    user_message = "That file isn't a photo I can read. Send a JPEG, PNG, WebP or HEIC selfie."


class ImageTooLarge(ImageError):
    code = "too_large"
    user_message = "That photo is too large for me. Send a smaller one: an ordinary phone photo is fine."


class UnreadableImage(ImageError):
    code = "unreadable"
    user_message = "I couldn't decode that photo; it may be corrupt or cut short. Try sending it again."


class NoFaceFound(ImageError):
    code = "no_face"
    user_message = "I couldn't find a face. Try a well-lit photo facing the camera."


class InferenceBusy(InferenceError):
    code = "busy"
    user_message = "I'm reading a lot of selfies right now. Try again in a few seconds."


class ModelUnavailable(InferenceError):
    code = "model_unavailable"
    user_message = "The emotion model isn't available on this bot right now."
