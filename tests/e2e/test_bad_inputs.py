"""Bad input through /mood: each kind gets its short, ephemeral sentence, and nobody sees a traceback."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from inference.errors import ImageError, ImageTooLarge, NoFaceFound, NotAnImage, UnreadableImage
from tests import fixtures
from tests.e2e.conftest import StartBot
from tests.fakes.discord_server import DEFERRED_CHANNEL_MESSAGE, FakeDiscord

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("filename", "make", "error"),
    [
        ("notes.png", fixtures.not_an_image, NotAnImage),
        ("empty.jpg", fixtures.zero_bytes, NotAnImage),
        ("landscape.png", fixtures.no_face_png, NoFaceFound),
        ("corrupt.png", fixtures.corrupt_png, UnreadableImage),
        ("cut.jpg", fixtures.truncated_jpeg, UnreadableImage),
        ("bomb.png", fixtures.huge_dimension_png, ImageTooLarge),
    ],
)
async def test_bad_input_gets_an_ephemeral_error_and_no_traceback(
    discord_double: FakeDiscord,
    start_bot: StartBot,
    filename: str,
    make: Callable[[], bytes],
    error: type[ImageError],
) -> None:
    async with start_bot():
        sent = await discord_double.slash_command("mood", {"selfie": discord_double.upload(filename, make())})
        assert (await discord_double.wait_for_callback(sent.id)).type == DEFERRED_CHANNEL_MESSAGE

        reply = await discord_double.wait_for_followup(sent.token, within=30)

        assert reply.ephemeral and reply.flags & 64
        assert reply.content == error.user_message
        assert reply.embeds == [] and reply.components == [] and reply.files == []
        # The public "thinking..." message is gone: all that is left is the one private sentence.
        assert [m.id for m in discord_double.replies(sent.token)] == [reply.id]
        assert "Traceback" not in reply.text and 'File "' not in reply.text
