"""The /link-spotify replies kept for editing: the latest per user, only while Discord still accepts the edit."""

from __future__ import annotations

from unittest.mock import AsyncMock, MagicMock

from cogs.utils.spotify import LINKED_PROMPT, PROMPT_LIFETIME_SECONDS, LinkPrompts
from tests.helpers import Clock, mock_interaction


def prompt(user_id: int) -> MagicMock:
    interaction = mock_interaction(user_id)
    interaction.edit_original_response = AsyncMock()
    return interaction


async def test_a_completed_link_turns_the_reply_into_linked_without_its_button() -> None:
    prompts = LinkPrompts(clock=Clock(100.0))
    asked = prompt(1)
    prompts.remember(asked)
    assert await prompts.mark_linked(1) is True
    asked.edit_original_response.assert_awaited_once_with(content=LINKED_PROMPT, view=None)
    assert await prompts.mark_linked(1) is False  # edited once, then forgotten
    assert await prompts.mark_linked(2) is False  # never asked


async def test_only_the_latest_reply_of_a_user_is_edited() -> None:
    prompts = LinkPrompts(clock=Clock(100.0))
    older, newer = prompt(1), prompt(1)
    prompts.remember(older)
    prompts.remember(newer)
    assert await prompts.mark_linked(1)
    newer.edit_original_response.assert_awaited_once()
    older.edit_original_response.assert_not_awaited()


async def test_a_reply_past_its_interactions_lifetime_is_left_alone_and_forgotten() -> None:
    clock = Clock(100.0)
    prompts = LinkPrompts(clock=clock)
    stale = prompt(1)
    prompts.remember(stale)
    clock.now += PROMPT_LIFETIME_SECONDS
    assert await prompts.mark_linked(1) is False
    stale.edit_original_response.assert_not_awaited()
    prompts.remember(prompt(2))
    prompts.remember(prompt(3))
    clock.now += PROMPT_LIFETIME_SECONDS / 2
    prompts.remember(prompt(4))  # remembering drops the replies no one can edit any more
    clock.now += PROMPT_LIFETIME_SECONDS / 2
    prompts.remember(prompt(5))
    assert len(prompts) == 2  # 4 and 5
    assert PROMPT_LIFETIME_SECONDS < 15 * 60  # inside Discord's 15 minutes for an interaction token
