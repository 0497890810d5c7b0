"""Log lines: one line per event, tracebacks folded in, secrets masked."""

from __future__ import annotations

import logging
import sys

from bot.log import OneLineFormatter


def _record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("bad\nthing")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord("moodmix", logging.ERROR, __file__, 1, message, args, exc_info)


def test_a_traceback_stays_on_one_line() -> None:
    line = OneLineFormatter().format(_record("failed for user %s", 42, exc=True))
    assert "\n" not in line
    assert "failed for user 42" in line and "Traceback" in line and "ValueError: bad | thing" in line


def test_secrets_are_masked_wherever_they_appear() -> None:
    formatter = OneLineFormatter(["tok.en.value", "tok", ""])
    line = formatter.format(_record("sent %s then %s", "tok.en.value", "tok"))
    assert "tok" not in line
    assert line.endswith("sent *** then ***")
