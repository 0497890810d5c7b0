"""`moodmix`: try (JSON shape, exit codes, every kind of bad input, the readable summary), run without a token,
catalog stats, eval-emotion, and the promise that none of it imports TensorFlow or Keras."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.cli import main
from bot.settings import Settings
from inference.classifier import EmotionClassifier
from inference.errors import ImageTooLarge
from inference.reader import EmotionReader
from inference.types import EMOTIONS
from mood.rules import suggested_goal
from music.catalog import Catalog
from tests import fixtures
from tests.fakes.discord_server import preserve_discord_endpoints

ASSETS = Path(__file__).resolve().parents[2] / "bot" / "assets"


def _json_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_try_sample_prints_the_documented_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["try", "--sample", "--json"]) == 0
    [result] = _json_lines(capsys)
    assert result["file"] == "astronaut.png"
    emotion = result["emotion"]
    assert isinstance(emotion, dict) and emotion["label"] == "happy"
    assert list(emotion["scores"]) == list(EMOTIONS)
    assert sum(emotion["scores"].values()) == pytest.approx(1.0, abs=1e-3)
    assert emotion["confidence"] == pytest.approx(max(emotion["scores"].values()), abs=1e-3)
    assert isinstance(result["faces"], int) and result["faces"] >= 1
    box = result["face_box"]
    assert isinstance(box, list) and len(box) == 4 and all(isinstance(v, int) for v in box)
    profile = result["profile"]
    assert isinstance(profile, dict) and profile["goal"] == suggested_goal(emotion["scores"]).value
    playlist = result["playlist"]
    assert isinstance(playlist, dict) and playlist["title"]
    assert 10 <= len(playlist["tracks"]) <= 20
    for track in playlist["tracks"]:
        assert {"title", "artist", "language", "valence", "energy", "link"} <= set(track)
        assert track["link"].startswith("https://open.spotify.com/search/")


def test_try_keeps_input_order_reports_each_bad_input_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = {
        "corrupt.png": fixtures.corrupt_png(),
        "truncated.jpg": fixtures.truncated_jpeg(),
        "empty.jpg": fixtures.zero_bytes(),
        "notes.txt": fixtures.not_an_image(),
        "huge.png": fixtures.huge_dimension_png(),
        "landscape.png": fixtures.no_face_png(),
    }
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    paths = [str(tmp_path / n) for n in bad] + [str(tmp_path / "missing.jpg"), str(ASSETS / "grace_hopper.jpg")]
    assert main(["try", *paths, "--json"]) == 2
    results = _json_lines(capsys)
    assert [r["file"] for r in results] == paths
    codes = [r["error"]["code"] if "error" in r else "ok" for r in results]  # type: ignore[index]
    assert codes == [
        "unreadable",
        "unreadable",
        "not_an_image",
        "not_an_image",
        "too_large",
        "no_face",
        "not_found",
        "ok",
    ]
    assert all(r["error"]["message"] for r in results[:-1])  # type: ignore[index]
    assert "Traceback" not in capsys.readouterr().err


def test_try_with_goal_artist_language_and_a_readable_summary(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["try", str(ASSETS / "grace_hopper.jpg"), "--goal", "calm", "--artist", "Adele", "--language", "FR"])
    assert status == 0
    out = capsys.readouterr().out
    assert "Goal: calm" in out
    assert "█" in out and "neutral" in out
    assert " #  Title" in out
    assert len([line for line in out.splitlines() if line[:4].strip().isdigit()]) >= 10
    main(["try", str(ASSETS / "grace_hopper.jpg"), "--goal", "calm", "--artist", "Adele", "--language", "fr", "--json"])
    [result] = _json_lines(capsys)
    profile = result["profile"]
    assert isinstance(profile, dict) and profile["goal"] == "calm"
    tracks = result["playlist"]["tracks"]  # type: ignore[index]
    assert sum(t["language"] == "fr" for t in tracks) > len(tracks) / 2


def test_try_refuses_what_is_not_a_photo_file_without_reading_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAX_IMAGE_BYTES", "100000")
    folder = tmp_path / "photos"
    folder.mkdir()
    pipe = tmp_path / "pipe.jpg"
    os.mkfifo(pipe)  # opening it to read would wait for a writer forever
    sparse = tmp_path / "huge.jpg"
    with sparse.open("wb") as file:
        file.truncate(2**30)  # 1 GiB that takes no disk: read whole, it would cost a gigabyte of memory
    paths = [str(folder), "/dev/zero", str(pipe), str(sparse)]
    assert main(["try", *paths, "--json"]) == 2
    results = _json_lines(capsys)
    assert [(r["file"], r["error"]["code"]) for r in results] == [  # type: ignore[index]
        (str(folder), "not_a_file"),
        ("/dev/zero", "not_a_file"),
        (str(pipe), "not_a_file"),
        (str(sparse), "too_large"),
    ]
    messages = [r["error"]["message"] for r in results]  # type: ignore[index]
    assert messages[0] == f"{folder} is a directory, not a photo"
    assert messages[1] == "/dev/zero is not a regular file"
    assert messages[3] == ImageTooLarge.user_message


def test_try_with_a_language_the_catalog_lacks_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["try", "--sample", "--language", "xx"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("moodmix: no songs in language 'xx'; --language takes one of en, ")
    languages = [code for code, _ in Catalog.builtin().languages()]
    assert captured.err.rstrip().endswith(", ".join(languages))


def test_try_without_a_loadable_model_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("inference.classifier.shipped_model_path", lambda: tmp_path / "emotion.tflite")
    assert main(["try", "--sample", str(ASSETS / "grace_hopper.jpg")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(
        "moodmix: The emotion model isn't available on this bot right now. (FileNotFoundError"
    )
    assert str(tmp_path / "emotion.json") in captured.err


def columns(text: str) -> int:
    """Terminal columns, counted here independently of bot.cli: wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in ("W", "F") else 1 for char in text)


@pytest.mark.parametrize("language", ["ja", "zh"])
def test_try_table_stays_aligned_with_wide_characters(language: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["try", "--sample", "--goal", "stay", "--language", language]) == 0
    out = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(out) if line.startswith("   #  Title"))
    table = [out[start], *(line for line in out[start + 1 :] if line[:4].strip().isdigit())]
    assert len(table) > 10
    assert any(columns(line) > len(line) for line in table[1:]), "the mix should hold songs in the language's script"
    # Every column has a fixed width, so a row that keeps its columns is exactly as wide as the header.
    assert [columns(line) for line in table] == [columns(table[0])] * len(table)


def test_try_with_words_of_crisis_answers_with_care_and_no_playlist(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["try", "--sample", "--note", "I want to die", "--json"]) == 0
    [result] = _json_lines(capsys)
    assert result["care"] is True and result["playlist"] is None
    assert "findahelpline.com" in str(result["reply"])


def test_try_needs_an_image(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["try"]) == 2
    assert capsys.readouterr().err.strip() == "moodmix: give at least one IMAGE, or --sample"


def test_run_without_a_token_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "DISCORD_TOKEN is not set" in err


def test_run_without_a_loadable_model_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # What MoodBot's start-up does once it checks the model (`await services.reader.ready()` after building the
    # services), on a bot whose model file is missing; the rest of `run` is real.
    async def serve_without_a_model(settings: Settings, token: str) -> None:
        reader = EmotionReader(max_bytes=1000, max_pixels=1000, model_path=tmp_path / "emotion.tflite")
        try:
            await reader.ready()
        finally:
            reader.close()

    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("DISCORD_TOKEN", "a-token-that-never-shows")
    monkeypatch.setattr("bot.cli._serve", serve_without_a_model)
    monkeypatch.setattr("bot.cli.setup_logging", lambda **_: None)  # keep pytest's log capture in place
    with preserve_discord_endpoints():
        assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("moodmix: The emotion model isn't available on this bot right now. (FileNotFoundError: ")


def test_run_with_a_database_sqlite_cannot_open_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A real sqlite3 error: SQLite cannot create a database under a path whose parent is a regular file. The stand-in
    # for the bot's start opens the database as MoodBot does once logged in, but with sqlite3 itself: aiosqlite's
    # worker thread, which storage/db.py leaves running after a failed open, would make the test racy.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    database = blocker / "moodmix.db"

    async def serve_with_an_unusable_database(settings: Settings, token: str) -> None:
        sqlite3.connect(settings.moodmix_db_path).close()

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", "a-token-that-never-shows")
    monkeypatch.setenv("MOODMIX_DB_PATH", str(database))
    monkeypatch.setattr("bot.cli._serve", serve_with_an_unusable_database)
    monkeypatch.setattr("bot.cli.setup_logging", lambda **_: None)
    with preserve_discord_endpoints():
        assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err == f"moodmix: cannot use the database {database}: unable to open database file\n"


def test_invalid_settings_are_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MAX_IMAGE_BYTES", "lots")
    assert main(["try", "--sample"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("moodmix: invalid settings: MAX_IMAGE_BYTES") and err.count("\n") == 1


def test_catalog_stats_json_is_the_catalogs_own(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(Catalog.builtin().stats().to_dict()))
    assert main(["catalog", "stats"]) == 0
    assert capsys.readouterr().out.strip()


def small_test_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A 12-face test file, every other face in PrivateTest; returns the PrivateTest faces and labels."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (12, 48, 48), dtype=np.uint8)
    labels = np.array([0, 1, 2, 3, 4, 5, 6, 0, 3, 3, 6, 5])
    usage = np.array([1, 2] * 6)
    np.savez(path, images=images, labels=labels, usage=usage, class_names=np.array(EMOTIONS))
    return images[usage == 2], labels[usage == 2]


def test_eval_emotion_on_a_small_npz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    faces, labels = small_test_npz(tmp_path / "fer2013_test.npz")
    # The folder holding the file, as for the real data.
    assert main(["eval-emotion", "--npz", str(tmp_path), "--split", "PrivateTest", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"split", "n", "accuracy", "macro_f1", "per_class", "confusion"}
    assert report["split"] == "PrivateTest" and report["n"] == 6
    confusion = np.array(report["confusion"])
    assert confusion.shape == (7, 7) and confusion.sum() == 6
    # Rows are the PrivateTest faces' true classes; columns what the shipped model, run directly, makes of them.
    assert confusion.sum(axis=1).tolist() == np.bincount(labels, minlength=7).tolist()
    predicted = EmotionClassifier().predict(faces).argmax(axis=1)
    assert confusion.sum(axis=0).tolist() == np.bincount(predicted, minlength=7).tolist()
    assert report["accuracy"] == pytest.approx(np.trace(confusion) / 6, abs=1e-4)
    assert report["accuracy"] == pytest.approx(float((predicted == labels).mean()), abs=1e-4)
    assert list(report["per_class"]) == list(EMOTIONS)
    recall = np.diag(confusion) / np.maximum(1, confusion.sum(axis=1))
    assert list(report["per_class"].values()) == pytest.approx(recall.tolist(), abs=1e-4)
    assert 0.0 <= report["macro_f1"] <= 1.0

    assert main(["eval-emotion", "--npz", str(tmp_path / "fer2013_test.npz"), "--split", "PrivateTest"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("PrivateTest: 6 faces\naccuracy  ")
    assert "confusion (rows: true, columns: predicted)" in text


def test_eval_emotion_with_a_missing_or_bad_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval-emotion", "--npz", str(tmp_path / "nope.npz"), "--split", "PublicTest"]) == 2
    assert capsys.readouterr().err == f"moodmix: no such file: {tmp_path / 'nope.npz'}\n"
    assert main(["eval-emotion", "--npz", str(tmp_path), "--split", "PublicTest"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"moodmix: cannot evaluate on {tmp_path / 'fer2013_test.npz'}: ") and err.count("\n") == 1
    junk = tmp_path / "junk.npz"
    small_test_npz(junk)
    whole = junk.read_bytes()
    for content in (b"not a zip", b"", whole[: len(whole) // 2], whole[:-30]):
        junk.write_bytes(content)
        assert main(["eval-emotion", "--npz", str(junk), "--split", "PublicTest"]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.startswith(f"moodmix: cannot evaluate on {junk}: ")
        assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    with pytest.raises(SystemExit) as exit_info:
        main(["eval-emotion", "--npz", str(junk), "--split", "Training"])
    assert exit_info.value.code == 2


FACES = np.zeros((6, 48, 48), np.uint8)


@pytest.mark.parametrize(
    ("arrays", "problem"),
    [
        ({"images": FACES, "labels": np.array([0, 1, 2, 3, 4, 9])}, "labels must be class indices 0-6, found 0 to 9"),
        ({"images": FACES, "labels": np.array([0, 1, 2, 3, 4, -1])}, "labels must be class indices 0-6, found -1 to 4"),
        ({"images": FACES, "labels": np.zeros(6)}, "labels must be integer class indices, not float64"),
        ({"images": FACES[:, 0], "labels": np.zeros(6, int)}, "images must have the shape (N, 48, 48), not (6, 48)"),
        ({"images": FACES.astype(np.int16) - 1, "labels": np.zeros(6, int)}, "images must be whole grey levels 0-255"),
        (
            {"images": FACES, "labels": np.zeros((6, 2), int)},
            "labels must have the shape (6,), one per image, not (6, 2)",
        ),
        ({"images": FACES, "labels": np.zeros(5, int)}, "labels must have the shape (6,), one per image, not (5,)"),
        (
            {"images": FACES, "labels": np.zeros(6, int), "usage": np.full(5, 2)},
            "usage must have the shape (6,), one per image, not (5,)",
        ),
        ({"images": FACES, "labels": np.zeros(6, int), "usage": np.full(6, 7)}, "usage codes must be 1 (PublicTest)"),
        ({"images": FACES, "labels": np.zeros(6, int), "usage": np.full(6, 1)}, "it holds no PrivateTest faces"),
        ({"images": FACES[:0], "labels": np.zeros(0, int)}, "it holds no PrivateTest faces"),
        (
            {"images": FACES, "labels": np.zeros(6, int), "class_names": np.array(sorted(EMOTIONS))},
            "its class_names ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise'] are not the model's",
        ),
        ({"labels": np.zeros(6, int)}, "it has no 'images' array"),
    ],
    ids=[
        "label-too-large",
        "label-negative",
        "label-float",
        "images-2d",
        "images-negative",
        "labels-2d",
        "labels-short",
        "usage-short",
        "usage-unknown",
        "no-private-faces",
        "empty",
        "class-order",
        "no-images",
    ],
)
def test_eval_emotion_on_data_that_do_not_fit_the_model_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arrays: dict[str, Any], problem: str
) -> None:
    npz = tmp_path / "fer2013_test.npz"
    images = arrays.get("images", FACES)
    np.savez(npz, **{"usage": np.full(len(images), 2), **arrays})  # 2: every face in PrivateTest
    assert main(["eval-emotion", "--npz", str(npz), "--split", "PrivateTest"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"moodmix: cannot evaluate on {npz}: {problem}")
    assert captured.err.count("\n") == 1


def test_eval_emotion_without_a_model_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    small_test_npz(tmp_path / "fer2013_test.npz")
    # The shipped model's path, as the classifier finds it, pointed at a folder without one.
    monkeypatch.setattr("inference.classifier.shipped_model_path", lambda: tmp_path / "emotion.tflite")
    assert main(["eval-emotion", "--npz", str(tmp_path), "--split", "PublicTest"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("moodmix: the emotion model cannot be loaded: FileNotFoundError") and err.count("\n") == 1


def test_neither_the_cli_nor_the_bot_imports_tensorflow_or_keras() -> None:
    code = (
        "import sys, bot.cli, bot.client, cogs.mood, cogs.prefs\n"
        "assert bot.cli.main(['try', '--sample', '--json']) == 0\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'tf_keras'})\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


KAGGLE_CSV = """track_id,artists,album_name,track_name,popularity,valence,energy,tempo,track_genre
1,Lena Raine,Celeste,Resurrections,50,0.35,0.62,140,video game
2,Lena Raine,Celeste,First Steps,48,0.55,0.30,0,video game
3,Kenji Yamamoto;Minako Hamano,Super Metroid,Brinstar,40,0.50,0.70,120,video game
"""


def test_an_imported_catalog_replaces_the_builtin_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = tmp_path / "dataset.csv"
    dataset.write_text(KAGGLE_CSV, encoding="utf-8")
    monkeypatch.setenv("MOODMIX_CATALOG_PATH", str(dataset))
    monkeypatch.setenv("MOODMIX_CATALOG_LANGUAGE", "en")
    assert main(["catalog", "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["total"] == 3
    assert stats["languages"] == {"en": 3}


def test_a_bad_imported_catalog_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = tmp_path / "bad.csv"
    dataset.write_text(KAGGLE_CSV.replace("0.35", "1.35"), encoding="utf-8")
    monkeypatch.setenv("MOODMIX_CATALOG_PATH", str(dataset))
    assert main(["catalog", "stats"]) == 2
    assert main(["try", "--sample"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert all("line 2" in line and "valence" in line for line in err)
