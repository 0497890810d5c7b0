"""The recommender: a playlist that meets the listener where they are and travels to where they want to be.

It follows the iso principle of music therapy (Altshuler 1948; PLATFORM.md): start with music that matches the
current mood, then shift gradually toward the target. A mix is built in four steps:

1. The target. With a `Taste`, the target is moved to `current + push * (target - current)`: users who turn down
   journeys get gentler ones.
2. The path: one planned point per position. Moving mixes ease from current to target along smoothstep
   `s(t) = 3t^2 - 2t^3` (the first and last steps are the smallest, so the mix lingers where the listener is before
   it moves, and arrives softly). A "stay" mix (target within 0.05 of current) makes a small figure-eight of radius
   0.06 around the point instead, so it does not play the same shade fifteen times.
3. Fixed places. Song ideas from the conversation that the catalog holds go to the position whose planned point is
   nearest to their catalog values; ideas it does not hold are spread over the free positions with the planned point
   as their estimated valence/energy (`in_catalog=False`, the bot shows search links). Then one track of each
   favourite artist, where it fits the path: the artist's track and free position with the lowest distance to the
   planned point plus step cost to any fixed neighbour (the step term below), among those within 0.15 of the planned
   point. A favourite with no track that close to the journey gets no fixed place: a song far from the mood would be
   a jarring jump. Its tracks still get the favourite bonus below, so they come wherever they fit. Ideas and
   favourites together take at most half of the mix, so the journey stays the recommender's.
4. The rest, position by position, choosing the track with the lowest cost
       distance(track, planned point)                        how well it sits on the path
     + 1.0 * max(0, step from the previous track - (planned step + 0.10))     no jarring jumps
     + preferences: +0.15 not in a preferred language (+0.05 for a later preferred one), -0.10 favourite artist,
       -0.04 a requested genre, -0.04 liked artist, -0.03 liked track, +0.03 artist of a skipped mix,
       +0.30 disliked track, +10 a track in `avoid` or in a recently skipped mix, or by a disliked artist (so they
       come only when the catalog runs out)
     + seeded noise in [0, 0.04) per track when `seed` is given (variety for "new mix"; none without a seed),
   with one step of lookahead: each of the 8 best candidates is scored together with the best track that could follow
   it, so a choice that looks good now but strands the next position is passed over.
   Genres match by `music.catalog.genre_key`: exactly, up to spelling ("synthpop" is "synth-pop", "rnb" is "r&b"),
   so "k-pop" does not favour every "pop" track.
   Hard rules: no track twice, at most 2 tracks per artist (relaxed only when the catalog runs out), and at least
   60 % of the mix in the first preferred language when the catalog has that many (the last positions are reserved
   for it when the share is still short).

Each track carries a one-line reason for the embed, and the playlist a title and story: the request's when given,
otherwise made from the path.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from music.catalog import UNDETERMINED_LANGUAGE, genre_key
from music.taste import Taste
from music.types import MoodPoint, Playlist, PlaylistTrack, SongIdea, Track, clamp, normalise

MIN_SIZE, MAX_SIZE = 10, 20
MAX_PER_ARTIST = 2
FIRST_LANGUAGE_SHARE = 0.6
STAY_RADIUS = 0.05  # a target this close to the start is a "stay" mix
LOOP_RADIUS = 0.06
STEP_SLACK = 0.10
STEP_WEIGHT = 1.0
OTHER_LANGUAGE = 0.15
LATER_LANGUAGE = 0.05
FAVOURITE_BONUS = 0.10
FAVOURITE_FIT = 0.15  # how far from its planned point a favourite's track may be given a fixed place
GENRE_BONUS = 0.04
LIKED_ARTIST_BONUS = 0.04
LIKED_TRACK_BONUS = 0.03
SKIPPED_ARTIST = 0.03
DISLIKED_TRACK = 0.30
OUT = 10.0
NOISE = 0.04
LOOKAHEAD = 8  # candidates weighed with their best follower
POOL = 48  # candidates looked at per position (ranked by their cost without the step term)


class TrackSource(Protocol):
    """What the recommender needs from `music.catalog.Catalog`."""

    @property
    def tracks(self) -> tuple[Track, ...]: ...

    def find(self, title: str, artist: str) -> Track | None: ...


@dataclass(frozen=True)
class MixRequest:
    """What to build: where the listener is and wants to go, what they like, how long, and optional words."""

    current: MoodPoint
    target: MoodPoint
    languages: tuple[str, ...] = ()
    artists: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()
    song_ideas: tuple[SongIdea, ...] = ()
    size: int = 15
    title: str = ""
    story: str = ""

    def __post_init__(self) -> None:
        if not MIN_SIZE <= self.size <= MAX_SIZE:
            raise ValueError(f"a mix has {MIN_SIZE} to {MAX_SIZE} tracks, not {self.size}")


def describe(point: MoodPoint) -> str:
    """Two plain words for a point, the stronger one first: "slow and wistful", "bright and upbeat"."""
    valence = _band(point.valence, ("dark", "wistful", "mellow", "warm", "bright"))
    energy = _band(point.energy, ("slow", "gentle", "steady", "upbeat", "intense"))
    if abs(point.valence - 0.5) > abs(point.energy - 0.5):
        return f"{valence} and {energy}"
    return f"{energy} and {valence}"


def _band(value: float, words: tuple[str, str, str, str, str]) -> str:
    return words[min(4, max(0, int(value * 5)))]


def plan_path(current: MoodPoint, target: MoodPoint, size: int, *, turn: int = 1) -> list[MoodPoint]:
    """The planned point of each position (see step 2 of the module docstring). `turn` (+1/-1) mirrors the loop."""
    points = []
    stay = current.distance(target) < STAY_RADIUS
    for i in range(size):
        t = i / (size - 1)
        if stay:
            v = current.valence + turn * LOOP_RADIUS * math.sin(2 * math.pi * t)
            e = current.energy + LOOP_RADIUS * math.sin(4 * math.pi * t) / 2
        else:
            s = t * t * (3 - 2 * t)
            v = current.valence + s * (target.valence - current.valence)
            e = current.energy + s * (target.energy - current.energy)
        points.append(MoodPoint(round(clamp(v), 4), round(clamp(e), 4)))
    return points


def _off(track: Track, point: MoodPoint) -> float:
    """How far a track sits from a point (`MoodPoint.distance` without building a point: this runs ~10^4 times)."""
    return math.hypot(track.valence - point.valence, track.energy - point.energy)


def _genre_match(track: Track, wanted: frozenset[str]) -> str | None:
    """The first of the track's genres whose `genre_key` is in `wanted`, as the catalog spells it."""
    return next((genre for genre in track.genres if genre_key(genre) in wanted), None)


@dataclass(slots=True)
class _Placed:
    track: Track
    reason: str | None  # fixed reason (idea, favourite); None: decided from the position
    in_catalog: bool = True


class _Builder:
    """The state of one build: the path, the fixed places, what is used, and the cost of each track."""

    def __init__(
        self,
        identities: Mapping[Track, tuple[str, str]],
        request: MixRequest,
        path: list[MoodPoint],
        taste: Taste,
        avoid: frozenset[str],
    ) -> None:
        self.identities = identities
        self.request = request
        self.path = path
        self.taste = taste
        self.avoid = avoid
        self.placed: dict[int, _Placed] = {}
        self.used: set[str] = set()
        self.per_artist: Counter[str] = Counter()
        # In the request's order, so that the first favourites get the fixed places when they run short.
        self.favourites = tuple(dict.fromkeys(normalise(a) for a in request.artists if normalise(a)))
        self.genres = frozenset(genre_key(g) for g in request.genres if genre_key(g))
        self.first_language = request.languages[0] if request.languages else None

    def ident(self, track: Track) -> tuple[str, str]:
        """The track's key and normalised artist (cached for catalog tracks: normalising is the costly part)."""
        return self.identities.get(track) or (track.key, normalise(track.artist))

    def is_out(self, track: Track) -> bool:
        """Tracks that come only when the catalog runs out: recently played, or by an artist the user turned down."""
        key, artist = self.ident(track)
        return key in self.avoid or (artist in self.taste.disliked_artists and artist not in self.favourites)

    def preference(self, track: Track, noise: float) -> float:
        cost = noise + (OUT if self.is_out(track) else 0.0)
        languages = self.request.languages
        if languages and track.language != languages[0]:
            cost += LATER_LANGUAGE if track.language in languages else OTHER_LANGUAGE
        key, artist = self.ident(track)
        if artist in self.favourites:
            cost -= FAVOURITE_BONUS
        if self.genres and _genre_match(track, self.genres):
            cost -= GENRE_BONUS
        if artist in self.taste.liked_artists:
            cost -= LIKED_ARTIST_BONUS
        if artist in self.taste.skipped_artists:
            cost += SKIPPED_ARTIST
        if key in self.taste.liked_tracks:
            cost -= LIKED_TRACK_BONUS
        if key in self.taste.disliked_tracks:
            cost += DISLIKED_TRACK
        return cost

    def place(self, position: int, placed: _Placed) -> None:
        self.placed[position] = placed
        key, artist = self.ident(placed.track)
        self.used.add(key)
        self.per_artist[artist] += 1

    def free_positions(self) -> list[int]:
        return [i for i in range(len(self.path)) if i not in self.placed]

    def room_for(self, track: Track, cap: int | None) -> bool:
        key, artist = self.ident(track)
        return key not in self.used and (cap is None or self.per_artist[artist] < cap)


class Recommender:
    """Builds playlists from a catalog (`music.catalog.Catalog`); see the module docstring for how."""

    def __init__(self, catalog: TrackSource) -> None:
        self.catalog = catalog
        self._tracks = tuple(catalog.tracks)
        self._identities = {track: (track.key, normalise(track.artist)) for track in self._tracks}

    def build(
        self,
        request: MixRequest,
        *,
        taste: Taste | None = None,
        avoid: frozenset[str] = frozenset(),
        seed: int | None = None,
    ) -> Playlist:
        """A playlist of `request.size` tracks (fewer only if the catalog holds fewer) in trajectory order.

        `avoid` holds track keys from recent mixes (the taste's recently skipped tracks join them); `seed` varies the
        mix while keeping it reproducible.
        """
        taste = taste or Taste()
        avoid = avoid | taste.skipped_tracks
        rng = random.Random(seed) if seed is not None else None
        target = self._pushed_target(request.current, request.target, taste.push)
        path = plan_path(request.current, target, request.size, turn=rng.choice((1, -1)) if rng else 1)
        builder = _Builder(self._identities, request, path, taste, avoid)
        self._place_ideas(builder)
        self._place_favourites(builder)
        noise = [rng.random() * NOISE if rng else 0.0 for _ in self._tracks]
        prefs = [builder.preference(track, noise[i]) for i, track in enumerate(self._tracks)]
        self._fill(builder, prefs)

        positions = sorted(builder.placed)
        moving = request.current.distance(target) >= STAY_RADIUS
        playlist_tracks: list[PlaylistTrack] = []
        for rank, position in enumerate(positions):
            placed = builder.placed[position]
            previous = builder.placed[positions[rank - 1]].track if rank else None
            reason = placed.reason or self._reason(builder, rank, len(positions), placed.track, previous, moving)
            playlist_tracks.append(PlaylistTrack(placed.track, reason, placed.in_catalog))
        title, story = self._words(request, path, moving)
        return Playlist(title, story, playlist_tracks, [path[i] for i in positions])

    @staticmethod
    def _pushed_target(current: MoodPoint, target: MoodPoint, push: float) -> MoodPoint:
        return MoodPoint(
            round(clamp(current.valence + push * (target.valence - current.valence)), 4),
            round(clamp(current.energy + push * (target.energy - current.energy)), 4),
        )

    def _place_ideas(self, builder: _Builder) -> None:
        limit = len(builder.path) // 2
        chosen: list[tuple[Track, bool]] = []
        keys: set[str] = set()
        artists: Counter[str] = Counter()
        for idea in builder.request.song_ideas:
            found = self.catalog.find(idea.title, idea.artist)
            # An idea the catalog lacks gets its valence/energy from the position it is given, below.
            track = found or Track(idea.title, idea.artist, UNDETERMINED_LANGUAGE, (), 0, 0.5, 0.5)
            artist = normalise(track.artist)
            if track.key in builder.avoid or track.key in keys or artists[artist] >= MAX_PER_ARTIST:
                continue
            keys.add(track.key)
            artists[artist] += 1
            chosen.append((track, found is not None))
            if len(chosen) >= limit:
                break
        for track, in_catalog in chosen:
            if in_catalog:
                free = builder.free_positions()
                position = min((track.point.distance(builder.path[i]), i) for i in free)[1]
                builder.place(position, _Placed(track, "From our conversation"))
        missing = [track for track, in_catalog in chosen if not in_catalog]
        free = builder.free_positions()
        for n, track in enumerate(missing):
            # Spread evenly over the free positions, in the order the conversation gave them.
            position = free[(2 * n + 1) * len(free) // (2 * len(missing))]
            point = builder.path[position]
            estimated = Track(track.title, track.artist, UNDETERMINED_LANGUAGE, (), 0, point.valence, point.energy)
            builder.place(position, _Placed(estimated, "From our conversation (not in the catalog)", in_catalog=False))

    def _place_favourites(self, builder: _Builder) -> None:
        """One track of each favourite artist, where it fits the path (step 3 of the module docstring)."""
        limit = len(builder.path) // 2
        present = {builder.ident(p.track)[1] for p in builder.placed.values()}
        for favourite in builder.favourites:
            if len(builder.placed) >= limit:
                return
            if favourite in present:
                continue
            own = [t for t in self._tracks if builder.ident(t)[1] == favourite and builder.room_for(t, MAX_PER_ARTIST)]
            fresh = [t for t in own if builder.ident(t)[0] not in builder.avoid] or own
            fits = [
                (off + self._fixed_steps(builder, i, track), i, track.key, track)
                for i in builder.free_positions()
                for track in fresh
                if (off := _off(track, builder.path[i])) <= FAVOURITE_FIT
            ]
            if fits:
                _, position, _, track = min(fits)
                builder.place(position, _Placed(track, "Your favourite artist"))

    @classmethod
    def _fixed_steps(cls, builder: _Builder, i: int, track: Track) -> float:
        """The step cost between a track at position i and the tracks already fixed just before and after it."""
        cost = 0.0
        before, after = builder.placed.get(i - 1), builder.placed.get(i + 1)
        if before is not None:
            cost += cls._step_cost(builder, i, before.track, track)
        if after is not None:
            cost += cls._step_cost(builder, i + 1, track, after.track)
        return cost

    def _fill(self, builder: _Builder, prefs: list[float]) -> None:
        path = builder.path

        def by_cost(i: int) -> list[int]:
            """Every track index, cheapest first for position i, before the step term."""
            return sorted(range(len(self._tracks)), key=lambda k: (_off(self._tracks[k], path[i]) + prefs[k], k))

        ranked = {i: by_cost(i) for i in builder.free_positions()}
        quota = self._first_language_quota(builder)
        for i in range(len(path)):
            if i in builder.placed:
                continue
            previous = self._track_at(builder, i - 1)
            forced = self._language_forced(builder, i, quota)
            candidates = self._candidates(builder, ranked[i], prefs, i, previous, forced, extra=None)
            if not candidates:
                continue  # the catalog ran out: the mix is shorter
            best = min(
                candidates[:LOOKAHEAD],
                key=lambda c: (c[0] + self._follow_cost(builder, ranked, prefs, i + 1, c[1], quota), c[1]),
            )
            builder.place(i, _Placed(self._tracks[best[1]], None))

    def _follow_cost(
        self, builder: _Builder, ranked: dict[int, list[int]], prefs: list[float], j: int, k: int, quota: int
    ) -> float:
        """The cost of the best track at position j if track k is chosen just before it."""
        if j >= len(builder.path):
            return 0.0
        chosen = self._tracks[k]
        if j in builder.placed:
            return self._step_cost(builder, j, chosen, builder.placed[j].track)
        forced = self._language_forced(builder, j, quota, extra=chosen)
        follow = self._candidates(builder, ranked[j], prefs, j, chosen, forced, extra=chosen)
        return follow[0][0] if follow else 0.0

    def _candidates(
        self,
        builder: _Builder,
        order: list[int],
        prefs: list[float],
        i: int,
        previous: Track | None,
        forced: bool,
        extra: Track | None,
    ) -> list[tuple[float, int]]:
        """The best (cost, track index) pairs for position i, cheapest first; `extra` counts as already chosen."""
        for cap in (MAX_PER_ARTIST, None):  # the cap is relaxed only when no track fits under it
            found: list[tuple[float, int]] = []
            for k in order:
                track = self._tracks[k]
                if not builder.room_for(track, cap) or (
                    extra is not None and self._clashes(track, extra, cap, builder)
                ):
                    continue
                if forced and track.language != builder.first_language:
                    continue
                cost = _off(track, builder.path[i]) + prefs[k]
                if previous is not None:
                    cost += self._step_cost(builder, i, previous, track)
                found.append((cost, k))
                if len(found) >= POOL:
                    break
            if found:
                return sorted(found)
            if forced:
                return self._candidates(builder, order, prefs, i, previous, False, extra)
        return []

    @staticmethod
    def _clashes(track: Track, extra: Track, cap: int | None, builder: _Builder) -> bool:
        (key, artist), (extra_key, extra_artist) = builder.ident(track), builder.ident(extra)
        if key == extra_key:
            return True
        return cap is not None and artist == extra_artist and builder.per_artist[artist] + 1 >= cap

    @staticmethod
    def _step_cost(builder: _Builder, i: int, previous: Track, track: Track) -> float:
        planned = builder.path[i].distance(builder.path[i - 1]) if i else 0.0
        step = math.hypot(track.valence - previous.valence, track.energy - previous.energy)
        return STEP_WEIGHT * max(0.0, step - (planned + STEP_SLACK))

    @staticmethod
    def _track_at(builder: _Builder, i: int) -> Track | None:
        placed = builder.placed.get(i)
        return placed.track if placed else None

    def _first_language_quota(self, builder: _Builder) -> int:
        """How many tracks must be in the first preferred language: 60 % of the mix, or all the catalog can give."""
        if builder.first_language is None:
            return 0
        per_artist: Counter[str] = Counter(
            builder.ident(t)[1]
            for t in self._tracks
            if t.language == builder.first_language and not builder.is_out(t) and builder.room_for(t, None)
        )
        available = sum(min(MAX_PER_ARTIST, n) for n in per_artist.values())
        placed = sum(1 for p in builder.placed.values() if p.track.language == builder.first_language)
        return min(math.ceil(FIRST_LANGUAGE_SHARE * len(builder.path)), placed + available)

    @staticmethod
    def _language_forced(builder: _Builder, i: int, quota: int, extra: Track | None = None) -> bool:
        """True when every free position from i on must take the first language for the share to be reached."""
        if not quota:
            return False
        have = sum(1 for p in builder.placed.values() if p.track.language == builder.first_language)
        if extra is not None and extra.language == builder.first_language:
            have += 1
        left = sum(1 for j in range(i, len(builder.path)) if j not in builder.placed)
        return quota - have >= left > 0

    def _reason(
        self, builder: _Builder, rank: int, count: int, track: Track, previous: Track | None, moving: bool
    ) -> str:
        words = describe(track.point)
        if builder.ident(track)[1] in builder.favourites:
            return "Your favourite artist"
        if rank == 0:
            return f"Meets you where you are: {words}"
        if rank == count - 1 and moving:
            return f"Where we're heading: {words}"
        if builder.taste.likes_artist(track.artist):
            return "An artist you liked before"
        genre = _genre_match(track, builder.genres) if builder.genres else None
        if genre:
            return f"Some {genre}, as you asked"
        if not moving or previous is None:
            return f"Stays with the feeling: {words}"
        dv = track.valence - previous.valence
        de = track.energy - previous.energy
        if max(abs(dv), abs(de)) < 0.03:
            return f"Holds the mood: {words}"
        if abs(dv) >= abs(de):
            return "A step brighter" if dv > 0 else "A step darker"
        return "A step more upbeat" if de > 0 else "A step calmer"

    @staticmethod
    def _words(request: MixRequest, path: list[MoodPoint], moving: bool) -> tuple[str, str]:
        start, end = path[0], path[-1]
        if not moving:
            title = describe(start).capitalize()
            story = f"Stays {describe(start)} the whole way, turning gently around how you feel."
        else:
            dv, de = end.valence - start.valence, end.energy - start.energy
            if abs(dv) >= abs(de):
                title = "Brighter by the song" if dv > 0 else "Into the blue"
            else:
                title = "Turning it up" if de > 0 else "Slowing down"
            story = f"Starts {describe(start)} and moves, one step at a time, to {describe(end)}."
        return request.title or title, request.story or story
