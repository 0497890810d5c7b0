"""`moodmix`: try (JSON shape, exit codes, every kind of bad input, the readable summary), run without a token,
catalog stats, eval-emotion, and the promise that none of it imports TensorFlow or Keras."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from inference.types import EMOTIONS
from mood.rules import suggested_goal
from music.catalog import Catalog
from tests import fixtures

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


def test_eval_emotion_on_a_small_npz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    npz = tmp_path / "fer2013_test.npz"
    np.savez(
        npz,
        images=rng.integers(0, 255, (12, 48, 48), dtype=np.uint8),
        labels=np.arange(12) % 7,
        usage=np.array([1, 2] * 6),
    )
    assert main(["eval-emotion", "--npz", str(npz), "--split", "PrivateTest", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["split"] == "PrivateTest"


def test_eval_emotion_with_a_missing_or_bad_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval-emotion", "--npz", str(tmp_path / "nope.npz"), "--split", "PublicTest"]) == 2
    assert capsys.readouterr().err == f"moodmix: no such file: {tmp_path / 'nope.npz'}\n"
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    assert main(["eval-emotion", "--npz", str(junk), "--split", "PublicTest"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    with pytest.raises(SystemExit) as exit_info:
        main(["eval-emotion", "--npz", str(junk), "--split", "Training"])
    assert exit_info.value.code == 2


def test_neither_the_cli_nor_the_bot_imports_tensorflow_or_keras() -> None:
    code = (
        "import sys, bot.cli, bot.client, cogs.mood, cogs.prefs\n"
        "assert bot.cli.main(['try', '--sample', '--json']) == 0\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'tf_keras'})\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
