"""`moodmix run` as a user starts it, against the Discord double: a missing or wrong token, Discord out of reach or
an unusable database is one line and exit 2, with no traceback and no secret in it."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from tests.fakes.discord_server import FakeDiscord

pytestmark = pytest.mark.e2e

MOODMIX = Path(sys.executable).with_name("moodmix")  # the console script installed in the project's virtualenv
RUN_TIMEOUT = 90.0  # imports and the model load take a while on a busy machine; a hang still fails


async def moodmix_run(env: dict[str, str], cwd: Path) -> tuple[int, list[str]]:
    """Run `moodmix run`; return its exit status and its non-empty output lines (stdout and stderr together)."""
    process = await asyncio.create_subprocess_exec(
        str(MOODMIX), "run", env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"moodmix run did not exit within {RUN_TIMEOUT}s") from None
    assert process.returncode is not None
    return process.returncode, [line for line in output.decode().splitlines() if line.strip()]


def clean_env(double: FakeDiscord, tmp_path: Path) -> dict[str, str]:
    """The process environment without any MoodMix setting of the developer's, aimed at the double."""
    prefixes = ("DISCORD_", "MOODMIX_", "SPOTIFY_", "GEMINI_", "GOOGLE_", "OPENAI_", "LLM_")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(prefixes)}
    env |= {
        "DISCORD_API_BASE": double.api_base,
        "DISCORD_GATEWAY_URL": double.gateway_url,
        "MOODMIX_DB_PATH": str(tmp_path / "moodmix.db"),
        "LLM_PROVIDER": "rules",
    }
    return env


@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_moodmix_run_without_a_working_token_says_so_in_one_line_and_exits_2(
    tmp_path: Path, token: str | None
) -> None:
    async with FakeDiscord(token="the-right-token") as double:
        env = clean_env(double, tmp_path)
        if token is not None:
            env["DISCORD_TOKEN"] = token

        status, lines = await moodmix_run(env, cwd=tmp_path)  # tmp_path: no .env there to read a token from

        assert status == 2, lines
        assert len(lines) == 1, lines
        assert "token" in lines[0].lower()
        assert "Traceback" not in lines[0]
        if token is not None:
            assert token not in lines[0], "a secret never appears in output"
            assert [(r.path, r.status) for r in double.requests] == [("/api/v10/users/@me", 401)]
        else:
            assert double.requests == [], "without a token there is nothing to ask Discord"


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (the kernel's choice, released at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_moodmix_run_with_discord_out_of_reach_says_so_in_one_line_and_exits_2(tmp_path: Path) -> None:
    async with FakeDiscord(token="the-right-token") as double:
        env = clean_env(double, tmp_path)
        env["DISCORD_API_BASE"] = f"http://127.0.0.1:{closed_port()}/api/v10"
        env["DISCORD_TOKEN"] = "the-right-token"

        status, lines = await moodmix_run(env, cwd=tmp_path)

        assert status == 2, lines
        assert len(lines) == 1, lines
        assert lines[0].startswith("moodmix: cannot reach Discord at http://127.0.0.1:")
        assert "the-right-token" not in lines[0]
        assert double.requests == []


async def test_moodmix_run_with_a_directory_as_database_says_so_in_one_line_and_exits_2(tmp_path: Path) -> None:
    async with FakeDiscord(token="the-right-token") as double:
        env = clean_env(double, tmp_path)
        env["MOODMIX_DB_PATH"] = str(tmp_path)  # a directory: SQLite cannot open it as a database
        env["DISCORD_TOKEN"] = "the-right-token"

        status, lines = await moodmix_run(env, cwd=tmp_path)

        assert status == 2, lines
        assert lines == [f"moodmix: MOODMIX_DB_PATH {tmp_path} is a directory; give a file path such as moodmix.db"]
        assert double.requests == [], "refused before logging in"
