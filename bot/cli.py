"""The `moodmix` command line.

    moodmix try IMAGE [IMAGE ...] [--sample] [--note TEXT] [--goal stay|lift|calm|energize]
                [--artist NAME]... [--language CODE] [--json]
    moodmix run
    moodmix catalog stats [--json]
    moodmix eval-emotion --npz PATH --split PrivateTest|PublicTest [--json]

`try` runs the same MoodPipeline as /mood, in memory (no database, no Discord). Bad input is one line, never a
traceback: exit status 2 when any image was unusable or the command could not run. `run` likewise says in one line
why the bot could not start (a refused token, Discord out of reach, an unusable database, no emotion model).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import sqlite3
import stat
import sys
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import aiohttp
import discord
from pydantic import ValidationError

from bot.client import MoodBot, point_discord_at
from bot.log import mask, setup_logging
from bot.pipeline import MixResult, MoodPipeline
from bot.services import Services, build_services, load_catalog
from bot.settings import Settings
from inference.classifier import EmotionClassifier
from inference.errors import ImageTooLarge, InferenceError, ModelUnavailable
from inference.evaluate import evaluate
from inference.types import EmotionReading
from models.fer_data import load_split, split_file
from mood.conversation import ChooseGoal, Turn
from mood.profile import Goal
from mood.rules import suggested_goal
from music.catalog import CatalogError, format_stats
from music.links import spotify_search_url
from storage.preferences import MAX_ARTISTS, Preferences

EXIT_UNUSABLE = 2
SAMPLE = "astronaut.png"
CLI_USER = 0  # the command line has one user and stores nothing


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run one command; return the exit status."""
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moodmix", description="MoodMix: a selfie in, a playlist for the mood out.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    try_ = commands.add_parser("try", help="read selfies and make playlists, as /mood does")
    try_.add_argument("images", nargs="*", metavar="IMAGE", type=Path, help="photos to read (JPEG, PNG, WebP, HEIC)")
    try_.add_argument("--sample", action="store_true", help=f"also read the shipped sample photo ({SAMPLE})")
    try_.add_argument("--note", help="how you feel, in your own words (the /mood note)")
    try_.add_argument("--goal", choices=[g.value for g in Goal], help="what the music should do (default: suggested)")
    try_.add_argument("--artist", action="append", default=[], help="a favourite artist (repeat for more)")
    try_.add_argument("--language", help="preferred music language, an ISO 639-1 code such as en, es, ja")
    try_.add_argument("--json", action="store_true", help="one JSON object per image, one per line")
    try_.set_defaults(handler=_try)

    run = commands.add_parser("run", help="start the Discord bot (settings from the environment and .env)")
    run.set_defaults(handler=_run)

    catalog = commands.add_parser("catalog", help="the music catalog in use (built-in, or MOODMIX_CATALOG_PATH)")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True, metavar="COMMAND")
    stats = catalog_commands.add_parser("stats", help="tracks by language, genre and decade")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(handler=_catalog_stats)

    evaluate = commands.add_parser("eval-emotion", help="accuracy of the shipped emotion model on FER-2013")
    evaluate.add_argument("--npz", required=True, type=Path, help="fer2013_test.npz (or the folder holding it)")
    evaluate.add_argument("--split", required=True, choices=["PrivateTest", "PublicTest"])
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(handler=_eval_emotion)
    return parser


def _fail(message: str) -> int:
    """Print one line (whatever the message holds) to stderr; return the exit status for an unusable input."""
    print(f"moodmix: {' '.join(message.splitlines())}", file=sys.stderr)
    return EXIT_UNUSABLE


def _settings() -> Settings:
    return Settings()


# --- try ------------------------------------------------------------------------------------------------------------


class _InputError(Exception):
    """A photo file that cannot be read, with the code and sentence `try` reports for it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class _Input:
    name: str
    read: Callable[[int], bytes]  # the bytes, given the most that may be read; raises _InputError or ImageTooLarge


def _inputs(args: argparse.Namespace) -> Iterator[_Input]:
    for path in args.images:
        yield _Input(str(path), functools.partial(_read_photo, path))
    if args.sample:
        yield _Input(SAMPLE, lambda _limit: (resources.files("bot") / "assets" / SAMPLE).read_bytes())


def _read_photo(path: Path, max_bytes: int) -> bytes:
    """The bytes of a photo file: only of a regular file (not a directory, a device such as /dev/zero or a pipe,
    which could block or never end), and never more than `max_bytes` + 1 of them, so that a huge file costs no
    memory before it is refused."""
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise _InputError("not_a_file", f"{path} is a directory, not a photo")
        if not stat.S_ISREG(mode):
            raise _InputError("not_a_file", f"{path} is not a regular file")
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)
    except (FileNotFoundError, NotADirectoryError):
        raise _InputError("not_found", f"No such file: {path}") from None
    except OSError as error:
        raise _InputError("unreadable", f"Cannot read {path}: {error.strerror or error}") from None
    if len(data) > max_bytes:
        raise ImageTooLarge(f"{path} is over the limit of {max_bytes:,} bytes")
    return data


def _try(args: argparse.Namespace) -> int:
    if not args.images and not args.sample:
        return _fail("give at least one IMAGE, or --sample")
    if len(args.artist) > MAX_ARTISTS:
        return _fail(f"at most {MAX_ARTISTS} --artist")
    try:
        settings = _settings()
    except ValidationError as error:
        return _fail(f"invalid settings: {_first_error(error)}")
    return asyncio.run(_try_all(settings, args))


async def _try_all(settings: Settings, args: argparse.Namespace) -> int:
    try:
        services = build_services(settings)
    except CatalogError as error:
        return _fail(f"MOODMIX_CATALOG_PATH: {error}")
    try:
        language = args.language.strip().lower() if args.language else None
        languages = [code for code, _ in services.catalog.languages()]
        if language is not None and language not in languages:
            # As /prefs does: a language without songs would leave the preference without effect.
            return _fail(f"no songs in language {args.language!r}; --language takes one of {', '.join(languages)}")
        try:
            await services.reader.ready()
        except ModelUnavailable as error:
            return _fail(f"{error.user_message} ({error.detail})")
        return await _try_inputs(services, args, Preferences(artists=tuple(args.artist), language=language))
    finally:
        await services.close()


async def _try_inputs(services: Services, args: argparse.Namespace, prefs: Preferences) -> int:
    """Read each input in turn and print its result; exit status 2 when any was unusable."""
    status = 0
    for item in _inputs(args):
        result = await _try_one(services.pipeline, item, args, prefs, max_bytes=services.settings.max_image_bytes)
        if "error" in result:
            status = EXIT_UNUSABLE
        print(json.dumps(result, ensure_ascii=False) if args.json else _summary(result), flush=True)
    return status


async def _try_one(
    pipeline: MoodPipeline, item: _Input, args: argparse.Namespace, prefs: Preferences, *, max_bytes: int
) -> dict[str, Any]:
    """Everything /mood would show for one photo, as a JSON-ready dict (or its error)."""
    try:
        reading = await pipeline.read(await asyncio.to_thread(item.read, max_bytes))
    except _InputError as error:
        return {"file": item.name, "error": {"code": error.code, "message": error.message}}
    except InferenceError as error:
        return {"file": item.name, "error": {"code": error.code, "message": error.user_message}}
    session_id, turn = await pipeline.open(CLI_USER, reading, note=args.note, prefs=prefs)
    if not turn.care:  # words of crisis in the note: the care reply, no goal and no playlist
        goal = Goal(args.goal) if args.goal else suggested_goal(reading.scores, args.note)
        turn = await pipeline.answer(session_id, CLI_USER, ChooseGoal(goal))
    mix = None if turn.care else await pipeline.mix(session_id, CLI_USER)
    return {"file": item.name, **_reading_dict(reading), **_turn_dict(turn, mix)}


def _reading_dict(reading: EmotionReading) -> dict[str, Any]:
    return {
        "emotion": {"label": reading.label, "confidence": round(reading.confidence, 4), "scores": reading.scores},
        "faces": reading.faces,
        "face_box": reading.face_box.as_list() if reading.face_box else None,
    }


def _turn_dict(turn: Turn, mix: MixResult | None) -> dict[str, Any]:
    playlist = None
    if mix is not None:
        playlist = {
            "title": mix.playlist.title,
            "story": mix.playlist.story,
            "tracks": [
                {
                    "title": item.track.title,
                    "artist": item.track.artist,
                    "language": item.track.language,
                    "valence": item.track.valence,
                    "energy": item.track.energy,
                    "link": spotify_search_url(item.track),
                    "reason": item.reason,
                }
                for item in mix.playlist.tracks
            ],
        }
    return {
        "reply": turn.reply,
        "care": turn.care,
        "profile": turn.profile.model_dump(mode="json"),
        "playlist": playlist,
    }


def _summary(result: dict[str, Any]) -> str:
    """The readable form of one `_try_one` result: emotion bars, then the playlist as a table."""
    name = result["file"]
    if "error" in result:
        return f"{name}: {result['error']['message']} ({result['error']['code']})\n"
    emotion = result["emotion"]
    lines = [f"{name}: {emotion['label']} ({emotion['confidence']:.0%}), {result['faces']} face(s)"]
    for label, score in emotion["scores"].items():
        filled = round(score * 30)
        lines.append(f"  {label:<9} {'█' * filled}{'·' * (30 - filled)} {score:4.0%}")
    profile = result["profile"]
    lines += ["", f"  {result['reply']}", f"  Goal: {profile['goal']}"]
    playlist = result["playlist"]
    if playlist is not None:
        lines += ["", f"  {playlist['title']}: {playlist['story']}", ""]
        lines.append(f"  {'#':>2}  {'Title':<34} {'Artist':<24} {'Lang':<4} {'Val':>4} {'Nrg':>4}")
        for number, track in enumerate(playlist["tracks"], start=1):
            lines.append(
                f"  {number:>2}  {_fit(track['title'], 34)} {_fit(track['artist'], 24)} "
                f"{track['language']:<4} {track['valence']:>4.2f} {track['energy']:>4.2f}"
            )
    return "\n".join(lines) + "\n"


_WIDE = frozenset({"W", "F"})  # East Asian widths that take two columns
_ZERO_WIDTH = frozenset({"Mn", "Me", "Cf"})  # combining marks and format characters, drawn on their neighbour


def _columns(text: str) -> int:
    """How many terminal columns `text` takes: two for East Asian wide and full-width characters (kanji, kana,
    hangul), none for combining marks, one for the rest."""
    return sum(_char_columns(char) for char in text)


def _char_columns(char: str) -> int:
    if unicodedata.category(char) in _ZERO_WIDTH:
        return 0
    return 2 if unicodedata.east_asian_width(char) in _WIDE else 1


def _fit(text: str, width: int) -> str:
    """`text` in exactly `width` columns: cut with an ellipsis when longer, padded with spaces when shorter."""
    if _columns(text) > width:
        kept, used = [], 0
        for char in text:
            used += _char_columns(char)
            if used > width - 1:  # one column for the ellipsis
                break
            kept.append(char)
        text = "".join(kept) + "…"
    return text + " " * (width - _columns(text))


# --- run ------------------------------------------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    try:
        settings = _settings()
    except ValidationError as error:
        return _fail(f"invalid settings: {_first_error(error)}")
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        return _fail("DISCORD_TOKEN is not set. Put the bot token in the environment or in .env.")
    if settings.moodmix_db_path.is_dir():
        # Said before anything starts: SQLite's own word for it, "unable to open database file", names no cause.
        return _fail(f"MOODMIX_DB_PATH {settings.moodmix_db_path} is a directory; give a file path such as moodmix.db")
    secrets = _secrets(settings)
    setup_logging(secrets=secrets)
    point_discord_at(settings)
    try:
        asyncio.run(_serve(settings, token))
    except KeyboardInterrupt:
        return 0
    except discord.LoginFailure:
        return _fail("Discord refused DISCORD_TOKEN. Copy the bot token again from the Developer Portal.")
    except ModelUnavailable as error:
        return _fail(mask(f"{error.user_message} ({error.detail})", secrets))
    except CatalogError as error:
        return _fail(f"MOODMIX_CATALOG_PATH: {error}")
    # aiohttp's connection errors are OSErrors too: this clause must come first to name Discord.
    except aiohttp.ClientError as error:
        return _fail(mask(f"cannot reach Discord at {settings.discord_api_base}: {error}", secrets))
    except sqlite3.Error as error:
        return _fail(mask(f"cannot use the database {settings.moodmix_db_path}: {error}", secrets))
    except discord.DiscordException as error:
        return _fail(mask(f"Discord would not start the bot: {type(error).__name__}: {error}", secrets))
    except OSError as error:
        return _fail(mask(f"could not start: {type(error).__name__}: {error}", secrets))
    return 0


async def _serve(settings: Settings, token: str) -> None:
    async with MoodBot(settings) as bot:
        await bot.start(token)


def _secrets(settings: Settings) -> list[str]:
    """Every secret setting's value, so that the log formatter can mask them."""
    return [
        value.get_secret_value()
        for value in (
            settings.discord_token,
            settings.moodmix_secret_key,
            settings.spotify_client_secret,
            settings.gemini_api_key,
            settings.openai_api_key,
        )
        if value is not None
    ]


# --- catalog stats and eval-emotion ---------------------------------------------------------------------------------


def _catalog_stats(args: argparse.Namespace) -> int:
    try:
        stats = load_catalog(_settings()).stats()
    except ValidationError as error:
        return _fail(f"invalid settings: {_first_error(error)}")
    except CatalogError as error:
        return _fail(str(error))
    print(json.dumps(stats.to_dict(), ensure_ascii=False) if args.json else format_stats(stats))
    return 0


def _eval_emotion(args: argparse.Namespace) -> int:
    """Evaluate the shipped model on one FER-2013 split with the classifier the bot runs, as the issue asks."""
    if not args.npz.exists():
        return _fail(f"no such file: {args.npz}")
    try:
        # The model first: the split's labels are checked against its class order.
        model = EmotionClassifier()
    except Exception as error:  # as the reader does: whatever LiteRT raises for a broken file, say it in one line
        return _fail(f"the emotion model cannot be loaded: {type(error).__name__}: {error}")
    path = split_file(args.npz, args.split)
    try:
        images, labels = load_split(path, args.split, class_names=model.class_names)
        report = evaluate(model, images, labels, args.split)
    # What reading a damaged, cut-short or wrong file raises (models.fer_data says which), and the data checks.
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        return _fail(f"cannot evaluate on {path}: {error}")
    print(json.dumps(report.to_dict()) if args.json else report.format())
    return 0


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    return f"{'.'.join(str(p) for p in first['loc']).upper()}: {first['msg']}"


if __name__ == "__main__":
    sys.exit(main())
