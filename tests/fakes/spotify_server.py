"""A loopback test double of Spotify's accounts service and Web API, speaking the real wire protocol, so that
spotipy runs unmodified against it.

Accounts: `GET /authorize` (approves at once as `user_id`, or declines when `decline` is set, and redirects to the
redirect URI like Spotify does) and `POST /api/token` (grants `authorization_code` and `refresh_token`, with HTTP
Basic client authentication). Web API under `/v1`: `GET /me`, `GET /search` (tracks, at most 10 a page),
`POST /me/playlists`, `POST /playlists/{id}/items` (append), `PUT /playlists/{id}/items` (replace).

Search is deliberately not MoodMix's own `normalise()`: like Spotify's, it folds case and accents but not punctuation,
so a query whose words were mangled ("p nk", "don t") finds nothing, as it would on Spotify.

Failure modes, switched per route (`"GET /v1/search"`, `"POST /v1/me/playlists"`, `"POST /api/token"`, ...):
`fail(route, status, times=..., retry_after=..., message=...)` answers the next calls with 401 (expired token), 403
(user not registered in the Developer Dashboard, unless `message` words it otherwise), 429 (with `Retry-After`) or a
5xx; `slow(route, seconds)` delays them; `lose_answer(route, 504)` handles them, then answers 504 anyway (a gateway
that gave up while the request went through).
`expire_access_tokens()` and `revoke_refresh_tokens()` make every token issued so far stop working.
Everything the double saw is recorded (`requests`, `token_requests`, `playlists`) for tests to assert on.
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
import socket
import time
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from cryptography.fernet import Fernet

from music.spotify import SpotifyConfig, SpotifyService
from storage.db import Database
from storage.spotify import OAuthStateRepository, SavedPlaylistRepository, SpotifyLinkRepository

SEARCH_MAX_LIMIT = 10
_MESSAGES = {
    401: "The access token expired",
    403: "User not registered in the Developer Dashboard",
    429: "API rate limit exceeded",
}


@dataclass(frozen=True, slots=True)
class FakeTrack:
    """A track in the double's catalog."""

    id: str
    name: str
    artists: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "uri": f"spotify:track:{self.id}",
            "type": "track",
            "name": self.name,
            "artists": [{"name": name, "type": "artist"} for name in self.artists],
        }


@dataclass(slots=True)
class _Fault:
    status: int | None  # None: answer normally (after the delay)
    times: int
    retry_after: int | None = None
    delay: float = 0.0
    message: str | None = None
    after_handling: bool = False  # run the handler, then answer `status` anyway


@dataclass(slots=True)
class FakePlaylist:
    id: str
    owner: str
    name: str
    public: bool
    description: str
    items: list[str] = field(default_factory=list)


class SpotifyDouble:
    """Spotify on 127.0.0.1. Use `async with SpotifyDouble.running(...) as spotify:`."""

    def __init__(
        self,
        *,
        tracks: list[FakeTrack] | None = None,
        client_id: str = "moodmix-test-client",
        client_secret: str = "moodmix-test-secret",
        user_id: str = "listener1",
    ) -> None:
        self.tracks = list(tracks or [])
        self.client_id = client_id
        self.client_secret = client_secret
        self.user_id = user_id
        self.decline = False
        self.rotate_refresh_tokens = False
        self.requests: list[str] = []  # "METHOD /path" of every request, in order
        self.token_requests: list[dict[str, str]] = []  # the form of every POST /api/token
        self.playlists: dict[str, FakePlaylist] = {}
        self._codes: dict[str, tuple[str, str]] = {}  # code -> (redirect_uri, scope)
        self._access: dict[str, float] = {}  # access token -> expiry (Unix seconds)
        self._refresh: set[str] = set()
        self._faults: dict[str, list[_Fault]] = {}
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    @classmethod
    @asynccontextmanager
    async def running(cls, **kwargs: Any) -> AsyncIterator[SpotifyDouble]:
        double = cls(**kwargs)
        await double.start()
        try:
            yield double
        finally:
            await double.stop()

    @property
    def accounts_base(self) -> str:
        return self.base_url

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/v1"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._record_and_fault])
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/api/token", self._token)
        app.router.add_get("/v1/me", self._me)
        app.router.add_get("/v1/me/", self._me)  # spotipy asks for "me/"
        app.router.add_get("/v1/search", self._search)
        app.router.add_post("/v1/me/playlists", self._create_playlist)
        app.router.add_post("/v1/playlists/{playlist_id}/items", self._add_items)
        app.router.add_put("/v1/playlists/{playlist_id}/items", self._replace_items)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- switches -----------------------------------------------------------------------------------------------

    def fail(
        self, route: str, status: int, *, times: int = 1, retry_after: int | None = None, message: str | None = None
    ) -> None:
        """Answer the next `times` calls of `route` ("GET /v1/search") with `status` (and `message`, if given)."""
        self._faults.setdefault(route, []).append(_Fault(status, times, retry_after, message=message))

    def slow(self, route: str, seconds: float, *, times: int = 1) -> None:
        """Delay the next `times` calls of `route` by `seconds` before answering normally."""
        self._faults.setdefault(route, []).append(_Fault(None, times, delay=seconds))

    def lose_answer(self, route: str, status: int = 504, *, times: int = 1) -> None:
        """Handle the next `times` calls of `route` as usual, then answer `status` instead of the result: a gateway
        that timed out while the request went through (the playlist exists, the client is told 504)."""
        self._faults.setdefault(route, []).append(_Fault(status, times, after_handling=True))

    def expire_access_tokens(self) -> None:
        self._access = dict.fromkeys(self._access, 0.0)

    def revoke_refresh_tokens(self) -> None:
        self._refresh.clear()

    def issue_code(self, redirect_uri: str, scope: str) -> str:
        """An authorization code, as `/authorize` hands out after the user approves (for tests without a browser)."""
        code = secrets.token_urlsafe(16)
        self._codes[code] = (redirect_uri, scope)
        return code

    def refresh_token_valid(self, refresh_token: str) -> bool:
        return refresh_token in self._refresh

    def count(self, route: str) -> int:
        """How many requests `route` ("POST /v1/me/playlists") received."""
        return self.requests.count(route)

    # --- plumbing -----------------------------------------------------------------------------------------------

    @web.middleware
    async def _record_and_fault(self, request: web.Request, handler: Any) -> web.StreamResponse:
        route = f"{request.method} {_route_of(request.path)}"
        self.requests.append(route)
        queue = self._faults.get(route)
        if queue:
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status is not None:
                if fault.after_handling:
                    await handler(request)
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
                message = fault.message or _MESSAGES.get(fault.status, "Server error")
                return _error(fault.status, message, headers=headers)
        response: web.StreamResponse = await handler(request)
        return response

    def _user(self, request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        if not auth.startswith("Bearer ") or self._access.get(token, 0.0) <= time.time():
            return None
        return self.user_id

    def _new_tokens(self, scope: str, refresh_token: str | None = None) -> dict[str, Any]:
        access = secrets.token_urlsafe(24)
        self._access[access] = time.time() + 3600
        if refresh_token is None or self.rotate_refresh_tokens:
            self._refresh.discard(refresh_token or "")
            refresh_token = secrets.token_urlsafe(24)
            self._refresh.add(refresh_token)
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": refresh_token,
            "scope": scope,
        }

    # --- accounts -----------------------------------------------------------------------------------------------

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return web.Response(status=400, text="INVALID_CLIENT: Invalid client")
        redirect_uri = query.get("redirect_uri", "")
        answer = {"state": query.get("state", "")}
        if self.decline:
            answer = {"error": "access_denied", **answer}
        else:
            answer = {"code": self.issue_code(redirect_uri, query.get("scope", "")), **answer}
        raise web.HTTPFound(f"{redirect_uri}?{urlencode(answer)}")

    async def _token(self, request: web.Request) -> web.StreamResponse:
        form = {key: str(value) for key, value in (await request.post()).items()}
        self.token_requests.append(form)
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return web.json_response({"error": "invalid_client", "error_description": "Invalid client"}, status=400)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            issued = self._codes.pop(form.get("code", ""), None)
            if issued is None or issued[0] != form.get("redirect_uri"):
                return web.json_response(
                    {"error": "invalid_grant", "error_description": "Invalid authorization code"}, status=400
                )
            return web.json_response(self._new_tokens(issued[1]))
        if grant == "refresh_token":
            refresh_token = form.get("refresh_token", "")
            if refresh_token not in self._refresh:
                return web.json_response(
                    {"error": "invalid_grant", "error_description": "Refresh token revoked"}, status=400
                )
            return web.json_response(self._new_tokens("playlist-modify-private playlist-modify-public", refresh_token))
        return web.json_response({"error": "unsupported_grant_type"}, status=400)

    # --- Web API ------------------------------------------------------------------------------------------------

    async def _me(self, request: web.Request) -> web.StreamResponse:
        user = self._user(request)
        if user is None:
            return _error(401, _MESSAGES[401])
        return web.json_response({"id": user, "display_name": "Test Listener", "type": "user"})

    async def _search(self, request: web.Request) -> web.StreamResponse:
        if self._user(request) is None:
            return _error(401, _MESSAGES[401])
        limit = int(request.query.get("limit", "5"))
        if not 1 <= limit <= SEARCH_MAX_LIMIT or request.query.get("type") != "track":
            return _error(400, "Invalid limit")
        offset = int(request.query.get("offset", "0"))
        found = [t for t in self.tracks if _matches(request.query.get("q", ""), t)]
        page = found[offset : offset + limit]
        return web.json_response(
            {"tracks": {"items": [t.as_json() for t in page], "limit": limit, "offset": offset, "total": len(found)}}
        )

    async def _create_playlist(self, request: web.Request) -> web.StreamResponse:
        user = self._user(request)
        if user is None:
            return _error(401, _MESSAGES[401])
        body = await request.json()
        if not str(body.get("name", "")).strip():
            return _error(400, "Missing required field: name")
        playlist = FakePlaylist(
            id=secrets.token_hex(11),
            owner=user,
            name=body["name"],
            public=bool(body.get("public", True)),
            description=str(body.get("description", "")),
        )
        self.playlists[playlist.id] = playlist
        return web.json_response(
            {
                "id": playlist.id,
                "name": playlist.name,
                "public": playlist.public,
                "uri": f"spotify:playlist:{playlist.id}",
                "external_urls": {"spotify": f"https://open.spotify.com/playlist/{playlist.id}"},
                "owner": {"id": user},
            },
            status=201,
        )

    async def _add_items(self, request: web.Request) -> web.StreamResponse:
        return await self._change_items(request, replace=False)

    async def _replace_items(self, request: web.Request) -> web.StreamResponse:
        return await self._change_items(request, replace=True)

    async def _change_items(self, request: web.Request, *, replace: bool) -> web.StreamResponse:
        user = self._user(request)
        if user is None:
            return _error(401, _MESSAGES[401])
        playlist = self.playlists.get(request.match_info["playlist_id"])
        if playlist is None:
            return _error(404, "Not found.")
        if playlist.owner != user:
            return _error(403, "You cannot add items to a playlist you don't own.")
        body = await request.json()
        uris = body if isinstance(body, list) else body.get("uris", [])
        if len(uris) > 100 or not all(re.fullmatch(r"spotify:track:[0-9A-Za-z]+", str(u)) for u in uris):
            return _error(400, "Invalid base62 id")
        if replace:
            playlist.items[:] = uris
        else:
            playlist.items.extend(uris)
        # Spotify answers a replace with 200 and an append with 201, both with the new snapshot.
        return web.json_response({"snapshot_id": secrets.token_hex(8)}, status=200 if replace else 201)


def _route_of(path: str) -> str:
    return re.sub(r"^/v1/playlists/[^/]+/items$", "/v1/playlists/{id}/items", path.rstrip("/") or "/")


def _error(status: int, message: str, *, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"status": status, "message": message}}, status=status, headers=headers)


_FILTER = re.compile(r'(track|artist):"([^"]*)"')


def _fold(text: str) -> str:
    """Case and accents folded, punctuation kept: "Señorita" ~ "senorita", but "P!nk" is not "p nk"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _matches(query: str, track: FakeTrack) -> bool:
    """Loose like Spotify's search: field filters must each be contained in the raw (folded) field; free words must
    each begin a word of the title or of an artist ("don" finds "Don't", a stray "t" finds nothing)."""
    title, artists = _fold(track.name), [_fold(a) for a in track.artists]
    for key, value in _FILTER.findall(query):
        wanted = _fold(value)
        if key == "track" and wanted not in title:
            return False
        if key == "artist" and not any(wanted in artist for artist in artists):
            return False
    words = " ".join([title, *artists]).split()
    return all(any(word.startswith(free) for word in words) for free in _fold(_FILTER.sub(" ", query)).split())


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now: the redirect URI must name the callback's port before it listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raw_database_bytes(db_path: Path) -> bytes:
    """Every byte of a SQLite database on disk, its WAL and shared-memory files included (checkpoint first)."""
    return b"".join(p.read_bytes() for p in sorted(db_path.parent.iterdir()) if p.name.startswith(db_path.name))


@dataclass(slots=True)
class SpotifyStack:
    """The real service and repositories on a database file, pointed at a running double."""

    db: Database
    links: SpotifyLinkRepository
    states: OAuthStateRepository
    saved: SavedPlaylistRepository
    service: SpotifyService

    async def add_mix(self, mix_id: str, user_id: int) -> None:
        """A row in `mixes` for `saved_playlists` to refer to (the pipeline writes these in the bot)."""
        await self.db.conn.execute(
            "INSERT INTO mixes (id, user_id, created_at, emotion, scores, current_valence, current_arousal, "
            "target_valence, target_arousal, title, story, tracks) VALUES (?, ?, 0, 'sad', '{}', .2, .3, .7, .6, "
            "'t', 's', '[]')",
            (mix_id, user_id),
        )
        await self.db.conn.commit()


@asynccontextmanager
async def spotify_stack(
    db_path: Path, double: SpotifyDouble, *, redirect_uri: str = "http://127.0.0.1:8765/spotify/callback", **tuning: Any
) -> AsyncIterator[SpotifyStack]:
    """Open a database at `db_path` and build the Spotify service on it, with short timeouts for tests."""
    settings: dict[str, Any] = {"request_timeout": 0.5, "backoff": 0.01, "max_wait": 2.0} | tuning
    config = SpotifyConfig(
        client_id=double.client_id,
        client_secret=double.client_secret,
        redirect_uri=redirect_uri,
        accounts_base=double.accounts_base,
        api_base=double.api_base,
        **settings,
    )
    async with await Database.open(db_path) as db:
        links = SpotifyLinkRepository(db.conn, Fernet(Fernet.generate_key()))
        states = OAuthStateRepository(db.conn)
        saved = SavedPlaylistRepository(db.conn)
        service = SpotifyService(config, links=links, states=states, saved=saved)
        try:
            yield SpotifyStack(db, links, states, saved, service)
        finally:
            await service.close()
