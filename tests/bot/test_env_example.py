"""`.env.example` lists every setting and loads as it is."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_every_setting_is_listed() -> None:
    listed = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", EXAMPLE.read_text(encoding="utf-8"), flags=re.M))
    assert listed == {name.upper() for name in Settings.model_fields}


def test_the_example_loads_with_the_defaults() -> None:
    settings = Settings(_env_file=EXAMPLE)  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.model_dump(exclude={"discord_token"}) == defaults.model_dump(exclude={"discord_token"})
