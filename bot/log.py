"""Logging for `moodmix run`: one line per event (a traceback is folded onto its line), and secrets masked."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OneLineFormatter(logging.Formatter):
    """Formats a record on one line and replaces every known secret with `***`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__(_FORMAT)
        # Longest first, so that a secret containing another is masked whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record).replace("\r", "").replace("\n", " | ")
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def setup_logging(secrets: Iterable[str] = (), level: int = logging.INFO) -> None:
    """Send every log record to stderr through `OneLineFormatter`: MoodMix's from `level` up, discord.py's warnings
    and errors (its info lines narrate its own internals: login, gateway sessions; MoodBot logs what matters)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("discord").setLevel(max(level, logging.WARNING))
