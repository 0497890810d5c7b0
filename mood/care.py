"""Crisis language in the user's own words, and the reply MoodMix gives instead of a playlist pitch.

`needs_care` looks for explicit phrases about suicide, self-harm or wanting to die, in English, Spanish, Portuguese,
French and German. It is conservative in the sense of precise: it matches first-person phrases ("I want to die",
"kill myself", "quiero morir", "ich will sterben"), not the everyday hyperbole of music talk ("this song kills it",
"I'm dying to hear it", "killing it", "to die for"). Text is compared after `music.types.normalise` (case, accents
and punctuation folded), so "Não" matches "nao" and "don't" reads as "don t".

It is a keyword screen, not a diagnosis: it cannot read tone or context, and it is there so that the bot answers
someone in pain with care and a way to reach help rather than with a song list.
"""

from __future__ import annotations

import re

from music.types import normalise

# Written for normalised text: lower case, no accents, punctuation replaced by spaces.
_NOT = r"(?:don t|dont|do not)"
_PATTERNS: tuple[str, ...] = (
    # English
    r"\bsuicid(?:e|al)\b",
    r"\bkill(?:ing)? my ?self\b",
    r"\bunalive my ?self\b",
    r"\b(?:want|wanna|wanted|wanting) (?:to )?die\b",
    r"\bwish (?:i|i d) (?:was|were|had) (?:dead|never been born)\b",
    r"\bbetter off dead\b",
    r"\bend (?:it all|my life)\b",
    r"\bending (?:it all|my life)\b",
    r"\btake my (?:own )?life\b",
    r"\bno (?:reason|point) (?:to|in) (?:live|living|go on|going on)\b",
    r"\bnothing (?:left )?to live for\b",
    rf"\b(?:{_NOT}|can t|cannot) (?:want to |wanna )?(?:live|be alive|go on) any ?more\b",
    # "I don't want to live in the city" is about a place, not about living.
    rf"\b{_NOT} (?:want to|wanna) (?:live|be alive|exist)\b(?! (?:in|with|there|here|like|near|at|on|by)\b)",
    r"\bself ?harm(?:ing)?\b",
    # Intent, not accidents: "I want to hurt myself", not "I cut myself shaving".
    r"\b(?:want to|wanna|urge to|thinking (?:about|of)|been|keep|started) "
    r"(?:hurt|hurting|cut|cutting|harm|harming) my ?self\b",
    # Spanish
    r"\b(?:quiero|quisiera) morir(?:me)?\b",
    r"\bme quiero morir\b",
    r"\bganas de morir(?:me)?\b",
    r"\bsuicid(?:arme|io)\b",
    r"\b(?:quiero|voy a|ganas de) matarme\b",
    r"\bquitarme la vida\b",
    r"\bno quiero (?:seguir )?vivi(?:r|endo)\b",
    r"\bacabar con (?:todo|mi vida)\b",
    r"\bno (?:tengo|hay) (?:ninguna )?razon(?:es)? para vivir\b",
    r"\bhacerme dano\b",
    # Portuguese
    r"\bquero morrer\b",
    r"\b(?:vou|quero|penso em) me matar\b",
    r"\bsuicid(?:ar|ar me)\b",
    r"\btirar a (?:minha )?(?:propria )?vida\b",
    r"\bnao quero (?:mais )?viver\b",
    r"\bacabar com tudo\b",
    r"\bsem (?:razao|motivo) para viver\b",
    r"\bautomutila\w*\b",
    # French
    r"\b(?:je veux|j ai envie de|envie de) mourir\b",
    r"\bme suicider\b",
    r"\b(?:je vais|je veux|envie de) me tuer\b",
    r"\b(?:en finir avec la vie|mettre fin a (?:mes jours|ma vie))\b",
    r"\bplus envie de vivre\b",
    r"\baucune raison de vivre\b",
    r"\b(?:je veux|envie de) me faire du mal\b",
    r"\b(?:je veux|envie d) en finir\b(?! avec (?!la vie))",
    # German
    r"\bich (?:will|moechte|mochte) sterben\b",
    r"\b(?:will|moechte|mochte) nicht mehr leben\b",
    r"\bmich (?:umbringen|toten|selbst verletzen)\b",
    r"\bselbstmord\b",
    r"\bsuizid\w*\b",
    r"\bmir das leben nehmen\b",
    r"\bkein(?:en)? grund (?:mehr )?zu leben\b",
)
_CRISIS = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))

# Names of works and bands that contain a crisis word without being about the speaker.
_TITLES = re.compile(r"\bsuicid(?:e squad|al tendencies|e blonde|e is painless)\b")

CARE_REPLY = (
    "I'm really sorry you're feeling this way. You don't have to carry it alone: please reach out to someone you "
    "trust, or to a helpline. https://findahelpline.com lists free, confidential helplines in your country. "
    "If you might act on these thoughts, call your local emergency number now."
)

_CARE_REPLIES: dict[str, str] = {
    "es": (
        "Siento mucho que te sientas así. No tienes que cargar con esto a solas: habla con alguien de confianza o con "
        "una línea de ayuda. En https://findahelpline.com hay líneas gratuitas y confidenciales de tu país. "
        "Si crees que puedes hacerte daño, llama ahora al número de emergencias local."
    ),
    "pt": (
        "Sinto muito que você esteja se sentindo assim. Você não precisa passar por isso sozinho: fale com alguém de "
        "confiança ou com uma linha de apoio. Em https://findahelpline.com há linhas gratuitas e confidenciais do seu "
        "país. Se você pode agir sobre esses pensamentos, ligue agora para o número de emergência local."
    ),
    "fr": (
        "Je suis vraiment désolé que tu te sentes comme ça. Tu n'as pas à porter ça seul : parle à quelqu'un de "
        "confiance ou à une ligne d'écoute. https://findahelpline.com recense des lignes gratuites et confidentielles "
        "dans ton pays. Si tu risques de passer à l'acte, appelle maintenant le numéro d'urgence local."
    ),
    "de": (
        "Es tut mir sehr leid, dass es dir so geht. Du musst das nicht allein tragen: Sprich mit jemandem, dem du "
        "vertraust, oder mit einem Krisentelefon. Unter https://findahelpline.com findest du kostenlose, vertrauliche "
        "Hilfsangebote in deinem Land. Wenn du fürchtest, dir etwas anzutun, ruf jetzt den örtlichen Notruf an."
    ),
}


def needs_care(text: str | None) -> bool:
    """True when `text` contains explicit crisis language (suicide, self-harm, wanting to die)."""
    if not text:
        return False
    folded = normalise(text)
    return _CRISIS.search(_TITLES.sub(" ", folded)) is not None


def care_reply(locale: str | None) -> str:
    """`CARE_REPLY` in the user's Discord language when MoodMix has it (es, pt-BR, fr, de), else in English."""
    language = (locale or "en").split("-")[0].lower()
    return _CARE_REPLIES.get(language, CARE_REPLY)
