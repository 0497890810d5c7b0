"""Fixtures shared across the test tree."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.db import Database
from storage.mixes import MixRepository


@pytest.fixture
async def mixes() -> AsyncIterator[MixRepository]:
    """Mix storage on a fresh in-memory database."""
    async with await Database.open(":memory:") as db:
        yield MixRepository(db.conn)
