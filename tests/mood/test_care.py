"""Crisis language is caught in five languages, and music talk is not."""

from __future__ import annotations

import pytest

from mood.care import CARE_REPLY, care_reply, needs_care

CRISIS = [
    "I want to die",
    "honestly i just wanna die",
    "I'm thinking about killing myself",
    "I might kill myself tonight",
    "I feel suicidal",
    "I don't want to live anymore",
    "I dont want to be alive",
    "there's no reason to live",
    "I have nothing to live for",
    "I want to end it all",
    "I'm going to end my life",
    "I've been cutting myself again",
    "self-harm is all I think about",
    "I wish I was dead",
    "me quiero morir",
    "Quiero quitarme la vida",
    "no tengo razones para vivir",
    "eu quero morrer",
    "Não quero mais viver",
    "vou me matar",
    "je veux mourir",
    "J'ai envie d'en finir",
    "je pense à me suicider",
    "Ich will sterben",
    "ich möchte nicht mehr leben",
    "Ich denke an Selbstmord",
    "I WANT TO DIE!!!",
]

MUSIC_TALK = [
    None,
    "",
    "this song kills it",
    "I'm dying to hear the new album",
    "the drummer is killing it",
    "that chorus is to die for",
    "I could die laughing at this playlist",
    "play some Suicidal Tendencies",
    "Suicide Squad soundtrack please",
    "I don't want to live in this city anymore, but I love its music",
    "I cut myself shaving this morning, still a good day",
    "esta canción me mata",
    "me muero por escucharla",
    "cette chanson me tue",
    "je veux en finir avec ce projet ce soir",
    "Das Lied ist zum Sterben schön",
    "feeling down, want something sad",
    "my phone is dying",
]


@pytest.mark.parametrize("text", CRISIS)
def test_crisis_language_needs_care(text: str) -> None:
    assert needs_care(text)


@pytest.mark.parametrize("text", MUSIC_TALK)
def test_music_hyperbole_does_not(text: str | None) -> None:
    assert not needs_care(text)


def test_care_reply_points_to_help_and_pitches_no_playlist() -> None:
    assert "https://findahelpline.com" in CARE_REPLY
    assert "playlist" not in CARE_REPLY.lower() and "mix" not in CARE_REPLY.lower()


@pytest.mark.parametrize(
    ("locale", "word"), [("es-ES", "ayuda"), ("pt-BR", "apoio"), ("fr", "écoute"), ("de", "Notruf")]
)
def test_care_reply_speaks_the_users_language(locale: str, word: str) -> None:
    reply = care_reply(locale)
    assert word in reply and "https://findahelpline.com" in reply


def test_care_reply_falls_back_to_english() -> None:
    assert care_reply("ja") == CARE_REPLY
    assert care_reply(None) == CARE_REPLY
