"""Logging for `moodmix run`: one line per event (a traceback is folded onto its line), and secrets masked."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def mask(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by `***`, longest first so that a secret containing another goes whole."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


class OneLineFormatter(logging.Formatter):
    """Formats a record on one line and replaces every known secret with `***`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__(_FORMAT)
        self._secrets = tuple(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record).replace("\r", "").replace("\n", " | "), self._secrets)


def setup_logging(secrets: Iterable[str] = (), level: int = logging.INFO) -> None:
    """Send every log record to stderr through `OneLineFormatter`: MoodMix's from `level` up, discord.py's warnings
    and errors (its info lines narrate its own internals: login, gateway sessions; MoodBot logs what matters)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("discord").setLevel(max(level, logging.WARNING))
