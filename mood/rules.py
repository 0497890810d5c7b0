"""The built-in conversation: deterministic rules that stand in for an LLM (and take over any turn it fails).

How a `MoodContext` and the user's events become a `MoodProfile`:

1. Scores. The seven emotion probabilities from the selfie. "Not quite: I feel..." (`CorrectEmotion`) replaces them
   with 0.9 on the chosen emotion and the other 0.1 shared in proportion to what the face showed.
2. Where the listener is. `mood.circumplex.place(scores)`, then nudged by keyword cues in the user's words (the /mood
   note and every "Tell me more" text), each cue a (valence, arousal) shift, summed and capped at +-0.25 per axis:

       tired, exhausted, sleepy, drained        ( 0.00, -0.15)
       stressed, anxious, nervous, worried      (-0.10, +0.15)
       sad, lonely, heartbroken, crying, miss   (-0.15, -0.05)
       happy, great, excited, amazing, party    (+0.15, +0.10)
       angry, mad, furious, annoyed, frustrated (-0.10, +0.15)
       calm, relaxed, peaceful, chill           (+0.05, -0.10)
       bored                                    (-0.05, -0.10)
       hyped, pumped, energetic                 (+0.10, +0.20)

   A cue right after "not", "no", "never" or "n't" (within two words) counts the other way ("not happy").
3. Where to go. `mood.circumplex.target_for(goal, current)`: the goal from a button (`ChooseGoal`), or from words
   in "Tell me more" ("cheer me up" -> lift, "help me relax" -> calm, "workout" -> energize, "sit with it" -> stay).
   Until a goal is chosen the profile's goal is None and the target is the current point.
4. What the mix is made of. Genre words ("chill", "rock", "jazz", "hip hop", "k-pop"...) become `genres`; language
   words ("in Spanish", "japanese songs") go first in `languages`, then the preferred language from /prefs;
   favourite artists come from /prefs.
5. Care. Crisis language in the user's words (`mood.care.needs_care`) makes that turn a care turn: the reply points
   to help (in the user's language when MoodMix has it) and pitches no playlist. Later turns add a short line
   reminding where help is.
6. Words. The feeling phrase comes from the top emotion and how sure the face reading is (below 0.5, below 0.75,
   above): "a little down", "down", "really low". The title and one-line story come from the goal and the feeling.
   The opening line asks between two goals that suit the emotion (sad: stay or lift; angry: stay or calm; ...) and
   `suggested_goal` names the one MoodMix would pick (used by `moodmix try` without --goal).

Replies are in English except the care reply, which has Spanish, Portuguese, French and German versions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from mood.care import care_reply, needs_care
from mood.circumplex import EMOTION_POINTS, place, target_for
from mood.conversation import ChooseGoal, CorrectEmotion, MoodContext, TellMore, Turn, UserEvent
from mood.profile import Goal, MoodProfile
from music.types import MoodPoint, clamp, normalise

CORRECTED_MASS = 0.9
CUE_CAP = 0.25
HELP_REMINDER = "If you need someone to talk to, https://findahelpline.com lists helplines near you."

_FEELINGS: dict[str, tuple[str, str, str]] = {
    "angry": ("a bit tense", "fired up", "really angry"),
    "disgust": ("a bit put off", "fed up", "really fed up"),
    "fear": ("a little uneasy", "anxious", "really scared"),
    "happy": ("in a good mood", "happy", "on top of the world"),
    "sad": ("a little down", "down", "really low"),
    "surprise": ("a bit surprised", "surprised", "amazed"),
    "neutral": ("pretty even", "calm and steady", "completely calm"),
}

# The two goals the opening line offers for each emotion, and the one MoodMix suggests.
_CHOICES: dict[str, tuple[Goal, Goal]] = {
    "angry": (Goal.STAY, Goal.CALM),
    "disgust": (Goal.STAY, Goal.LIFT),
    "fear": (Goal.CALM, Goal.STAY),
    "happy": (Goal.STAY, Goal.ENERGIZE),
    "sad": (Goal.STAY, Goal.LIFT),
    "surprise": (Goal.ENERGIZE, Goal.CALM),
    "neutral": (Goal.LIFT, Goal.ENERGIZE),
}
_SUGGESTED: dict[str, Goal] = {
    "angry": Goal.CALM,
    "disgust": Goal.LIFT,
    "fear": Goal.CALM,
    "happy": Goal.STAY,
    "sad": Goal.LIFT,
    "surprise": Goal.ENERGIZE,
    "neutral": Goal.LIFT,
}

_OFFERS: dict[Goal, str] = {
    Goal.LIFT: "something to lift you",
    Goal.CALM: "something to calm you down",
    Goal.ENERGIZE: "something with more energy",
}

_GOAL_REPLIES: dict[Goal, str] = {
    Goal.STAY: "Here are songs that stay with you, right where you are.",
    Goal.LIFT: "Let's lift you up: we start where you are and get brighter step by step.",
    Goal.CALM: "Let's slow things down, one song at a time.",
    Goal.ENERGIZE: "Let's build some energy: we start easy and turn it up.",
}

_STAY_TITLES: dict[str, str] = {
    "angry": "Loud and honest",
    "disgust": "Had enough",
    "fear": "Holding steady",
    "happy": "Keep it going",
    "sad": "Sitting with the blues",
    "surprise": "What just happened",
    "neutral": "Steady as you go",
}
_TITLES: dict[Goal, str] = {Goal.LIFT: "Up from here", Goal.CALM: "Slow it down", Goal.ENERGIZE: "Turn it up"}
_STORIES: dict[Goal, str] = {
    Goal.STAY: "Songs that stay with you while you're {feeling}, no pressure to change it.",
    Goal.LIFT: "Starts {feeling} and climbs, song by song, toward something brighter.",
    Goal.CALM: "Starts {feeling} and eases down, song by song, to something gentle.",
    Goal.ENERGIZE: "Starts {feeling} and builds, song by song, to an upbeat finish.",
}

_MOOD_CUES: tuple[tuple[tuple[str, ...], float, float], ...] = (
    (("tired", "exhausted", "sleepy", "drained"), 0.0, -0.15),
    (("stressed", "anxious", "nervous", "worried"), -0.10, 0.15),
    (("sad", "lonely", "heartbroken", "crying", "miss"), -0.15, -0.05),
    (("happy", "great", "excited", "amazing", "party"), 0.15, 0.10),
    (("angry", "mad", "furious", "annoyed", "frustrated"), -0.10, 0.15),
    (("calm", "relaxed", "peaceful", "chill"), 0.05, -0.10),
    (("bored",), -0.05, -0.10),
    (("hyped", "pumped", "energetic"), 0.10, 0.20),
)
_NEGATIONS = frozenset({"not", "no", "never", "t"})  # "t" is what "n't" leaves after normalise ("don t")

_GENRES: dict[str, str] = {
    "chill": "chill",
    "lofi": "lo-fi",
    "lo fi": "lo-fi",
    "rock": "rock",
    "metal": "metal",
    "punk": "punk",
    "jazz": "jazz",
    "blues": "blues",
    "classical": "classical",
    "piano": "piano",
    "pop": "pop",
    "k pop": "k-pop",
    "kpop": "k-pop",
    "hip hop": "hip hop",
    "rap": "hip hop",
    "r b": "r&b",
    "rnb": "r&b",
    "soul": "soul",
    "funk": "funk",
    "folk": "folk",
    "acoustic": "acoustic",
    "country": "country",
    "electronic": "electronic",
    "edm": "electronic",
    "techno": "electronic",
    "dance": "dance",
    "ambient": "ambient",
    "reggae": "reggae",
    "reggaeton": "reggaeton",
    "latin": "latin",
    "bossa nova": "bossa nova",
    "indie": "indie",
}
_LANGUAGES: dict[str, str] = {
    "english": "en",
    "spanish": "es",
    "espanol": "es",
    "portuguese": "pt",
    "portugues": "pt",
    "french": "fr",
    "francais": "fr",
    "german": "de",
    "deutsch": "de",
    "italian": "it",
    "italiano": "it",
    "dutch": "nl",
    "swedish": "sv",
    "japanese": "ja",
    "korean": "ko",
    "hindi": "hi",
    "arabic": "ar",
    "turkish": "tr",
    "russian": "ru",
    "chinese": "zh",
    "mandarin": "zh",
    "indonesian": "id",
    "tagalog": "tl",
    "filipino": "tl",
    "polish": "pl",
    "greek": "el",
}
_GOAL_CUES: tuple[tuple[str, Goal], ...] = (
    (
        r"\b(?:cheer me up|pick me up|lift me|make me (?:feel )?(?:happy|better)|something (?:happy|uplifting))\b",
        Goal.LIFT,
    ),
    (r"\b(?:relax|calm (?:me )?down|unwind|wind down|de stress|sleep|focus)\b", Goal.CALM),
    (
        r"\b(?:pump me up|workout|work out|gym|go(?:ing)? for a run|jogging|get going|wake me up|hype me)\b",
        Goal.ENERGIZE,
    ),
    (r"\b(?:sit with|stay with|wallow|feel it|let it out)\b", Goal.STAY),
)


def _words_in(text: str, table: Mapping[str, str]) -> list[str]:
    """Values of `table` whose keys appear as whole words in `text` (normalised), in the order they appear."""
    hits = []
    for phrase, value in table.items():
        match = re.search(rf"\b{re.escape(phrase)}\b", text)
        if match:
            hits.append((match.start(), value))
    return list(dict.fromkeys(value for _, value in sorted(hits)))


def mood_shift(text: str) -> tuple[float, float]:
    """The (valence, arousal) nudge of the keyword cues in `text`, each axis capped at +-0.25."""
    words = normalise(text).split()
    dv = da = 0.0
    for i, word in enumerate(words):
        for cue_words, cue_v, cue_a in _MOOD_CUES:
            if word in cue_words:
                sign = -1.0 if _NEGATIONS.intersection(words[max(0, i - 2) : i]) else 1.0
                dv += sign * cue_v
                da += sign * cue_a
    return max(-CUE_CAP, min(CUE_CAP, dv)), max(-CUE_CAP, min(CUE_CAP, da))


def goal_hint(text: str | None) -> Goal | None:
    """The goal the user's words ask for, if any ("cheer me up" -> lift)."""
    folded = normalise(text or "")
    for pattern, goal in _GOAL_CUES:
        if re.search(pattern, folded):
            return goal
    return None


def top_emotion(scores: Mapping[str, float]) -> tuple[str, float]:
    """The most likely known emotion and its share of the mass (neutral when nothing is known)."""
    known = {label: max(0.0, float(p)) for label, p in scores.items() if label in EMOTION_POINTS}
    total = sum(known.values())
    if total <= 0.0:
        return "neutral", 1.0
    label = max(EMOTION_POINTS, key=lambda e: known.get(e, 0.0))  # EMOTION_POINTS order breaks ties
    return label, known[label] / total


def feeling_phrase(scores: Mapping[str, float]) -> str:
    """A few plain words for how the face reads: "a little down", "fired up", "on top of the world"."""
    label, confidence = top_emotion(scores)
    level = 0 if confidence < 0.5 else 1 if confidence < 0.75 else 2
    return _FEELINGS[label][level]


def suggested_goal(scores: Mapping[str, float], note: str | None = None) -> Goal:
    """The goal MoodMix would pick: the one the user's words ask for, else the usual choice for the emotion."""
    return goal_hint(note) or _SUGGESTED[top_emotion(scores)[0]]


def corrected_scores(scores: Mapping[str, float], emotion: str) -> dict[str, float]:
    """0.9 on `emotion`, the other 0.1 shared among the rest in proportion to the face's reading."""
    if emotion not in EMOTION_POINTS:
        raise ValueError(f"unknown emotion {emotion!r}")
    others = {label: max(0.0, float(scores.get(label, 0.0))) for label in EMOTION_POINTS if label != emotion}
    rest = sum(others.values())
    share = 1.0 - CORRECTED_MASS
    corrected = {label: share * (p / rest if rest > 0 else 1.0 / len(others)) for label, p in others.items()}
    corrected[emotion] = CORRECTED_MASS
    return {label: round(corrected[label], 6) for label in EMOTION_POINTS}


class RulesConversation:
    """One /mood conversation answered by the rules (see the module docstring). Holds only its own state."""

    def __init__(self, context: MoodContext) -> None:
        self.context = context
        self.scores: dict[str, float] = dict(context.scores)
        self.notes: list[str] = [context.note] if context.note and context.note.strip() else []
        self.goal: Goal | None = None
        self.events: list[UserEvent] = []
        self.cared = False

    async def start(self) -> Turn:
        """The first line: how the face reads and a choice between two goals (or care, if the note needs it)."""
        if needs_care(self.context.note):
            return self._care_turn()
        return self._turn(f"You look {feeling_phrase(self.scores)}. {self._question()}")

    async def send(self, event: UserEvent) -> Turn:
        """One more turn: a goal button, an emotion correction or more words."""
        self.events.append(event)
        match event:
            case ChooseGoal(goal=goal):
                self.goal = Goal(goal)
                return self._turn(_GOAL_REPLIES[self.goal])
            case CorrectEmotion(emotion=emotion):
                self.scores = corrected_scores(self.scores, emotion)
                follow = (
                    f"I've reshaped the mix around that. {_GOAL_REPLIES[self.goal]}" if self.goal else self._question()
                )
                return self._turn(f"Thanks for telling me: {feeling_phrase(self.scores)} it is. {follow}")
            case TellMore(text=text):
                return self._tell_more(text)
        raise TypeError(f"unknown event {event!r}")

    def _tell_more(self, text: str) -> Turn:
        if not text.strip():
            return self._turn(f"Tell me a little more whenever you like. {self._question()}")
        self.notes.append(text)
        if needs_care(text):
            return self._care_turn()
        heard = []
        genres = _words_in(normalise(text), _GENRES)
        if genres:
            heard.append(f"I'll lean toward {', '.join(genres)}.")
        hint = goal_hint(text)
        if hint:
            self.goal = hint
            heard.append(_GOAL_REPLIES[hint])
        else:
            heard.append(_GOAL_REPLIES[self.goal] if self.goal else self._question())
        return self._turn(" ".join(["Thanks for sharing.", *heard]))

    def _question(self) -> str:
        label = top_emotion(self.scores)[0]
        first, second = _CHOICES[label]
        hint = goal_hint(" ".join(self.notes))
        if hint:
            first, second = hint, second if second != hint else first
        stay = "songs that keep it going" if self.current().valence >= 0.5 else "songs that sit with that"
        offer = {**_OFFERS, Goal.STAY: stay}
        return f"Want {offer[first]}, or {offer[second]}?"

    def current(self) -> MoodPoint:
        """Where the listener is: the scores placed on the circumplex, nudged by their words."""
        point = place(self.scores)
        dv, da = mood_shift(" ".join(self.notes))
        return MoodPoint(round(clamp(point.valence + dv), 4), round(clamp(point.energy + da), 4))

    def profile(self) -> MoodProfile:
        """The profile so far (see the module docstring for each field)."""
        current = self.current()
        target = target_for(self.goal, current)
        label = top_emotion(self.scores)[0]
        feeling = feeling_phrase(self.scores)
        words = normalise(" ".join(self.notes))
        languages = _words_in(words, _LANGUAGES)
        if self.context.language:
            languages.append(self.context.language)
        goal = self.goal or Goal.STAY
        return MoodProfile(
            feeling=feeling,
            current_valence=current.valence,
            current_arousal=current.energy,
            target_valence=target.valence,
            target_arousal=target.energy,
            goal=self.goal,
            genres=_words_in(words, _GENRES)[:8],
            languages=list(dict.fromkeys(languages))[:4],
            artists=list(dict.fromkeys(self.context.artists))[:8],
            title=_STAY_TITLES[label] if goal is Goal.STAY else _TITLES[goal],
            story=_STORIES[goal].format(feeling=feeling),
        )

    def _turn(self, reply: str) -> Turn:
        if self.cared:
            reply = f"{reply} {HELP_REMINDER}"
        return Turn(reply=reply, profile=self.profile(), source="rules", events=tuple(self.events))

    def _care_turn(self) -> Turn:
        self.cared = True
        return Turn(
            reply=care_reply(self.context.locale),
            profile=self.profile(),
            care=True,
            source="rules",
            events=tuple(self.events),
        )


class RulesEngine:
    """The built-in conversation engine: no network, no keys, the same answer for the same input."""

    def open(self, context: MoodContext) -> RulesConversation:
        """Begin a new conversation for one /mood."""
        return RulesConversation(context)
