"""Spotify for MoodMix: link a user's account (OAuth Authorization Code flow) and save a mix as a playlist in it.

    SpotifyError                 anything Spotify-related the user should hear about; `user_message` says what to do
    ├── SpotifyNotConfigured     the bot has no Spotify app settings
    ├── SpotifyNotLinked         the user never ran /link-spotify (or unlinked)
    ├── SpotifyRelinkNeeded      the refresh token was refused: the stored tokens are dropped
    ├── SpotifyLinkRejected      an OAuth callback with a state that is unknown, used or expired (no code exchange)
    ├── SpotifyLinkFailed        the user declined on Spotify's page, or Spotify refused the code
    ├── SpotifyUserNotRegistered 403 "User not registered in the Developer Dashboard" (development-mode app), or any
    │                            403 from GET /me right after linking
    ├── SpotifyRateLimited       429 beyond what MoodMix is willing to wait (`max_wait`)
    ├── SpotifyUnavailable       5xx, timeouts, connection errors, after retries
    └── SpotifyNoMatches         none of the mix's songs could be found on Spotify

Threading: spotipy is synchronous and not thread-safe. Each operation (a code exchange, a save) runs whole in one
worker thread of a small pool, with its own requests session, `SpotifyOAuth` and `Spotify` client; the event loop
only awaits it. Tokens travel explicitly: decrypted before the operation, handed to the thread, and stored back
after it when the thread refreshed them (Spotify may rotate the refresh token, so a refresh must never be lost).

Retries: spotipy's own retry (urllib3 `Retry` with `retries=3, status_retries=3, backoff_factor=0.3` on 429 and 5xx,
POST included) is deliberately switched off by handing spotipy a plain `requests.Session`: it sleeps for whatever
`Retry-After` says, resends POSTs that create playlists, and turns an exhausted retry into a 429 without its
headers. MoodMix retries itself instead (`_Connection.call`): 401 -> one refresh; 429 -> wait `Retry-After` while the
operation's total wait stays under `max_wait`; 5xx and timeouts -> back off and retry up to `attempts` tries, except
that a POST that creates something is not resent after a timeout or a 5xx (a 502 or 504 from a gateway may come
after the playlist was made). `requests_timeout` bounds each request.

Saving never makes two playlists for one mix: the playlist is recorded (unfilled) as soon as Spotify creates it, and
filled with a replace (`PUT /playlists/{id}/items`, safe to repeat); a save that failed after the create fills the
recorded playlist on the next press. Saves of one mix are serialised by a per-mix lock.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import requests
import spotipy
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyOauthError

from music.spotify_match import Song, best_match, search_queries
from storage.spotify import OAuthStateRejected, SavedPlaylist, TokenInfo

log = logging.getLogger(__name__)

# Creating and filling the user's playlists, and nothing more.
SCOPES = ("playlist-modify-private", "playlist-modify-public")
SEARCH_PAGE = 10  # the most items a search page returns since February 2026
ITEMS_PER_REQUEST = 100  # the most URIs one request to /playlists/{id}/items takes
# Spotify's wordings of "this account may not use a development-mode app" (they have changed over time).
_NOT_REGISTERED = re.compile(r"not (?:be )?registered|not approved", re.IGNORECASE)

T = TypeVar("T")


class SpotifyError(Exception):
    """Base of the Spotify errors; `code` is stable, `user_message` is the sentence the user sees."""

    code = "spotify_error"
    user_message = "Spotify didn't answer as expected. The listen links still work."

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.user_message)
        self.detail = detail or self.user_message


class SpotifyNotConfigured(SpotifyError):
    code = "not_configured"
    user_message = "Saving to Spotify isn't set up on this bot."


class SpotifyNotLinked(SpotifyError):
    code = "not_linked"
    user_message = "Link your Spotify account first with /link-spotify, then press Save again."


class SpotifyRelinkNeeded(SpotifyError):
    code = "relink"
    user_message = "I lost access to your Spotify account. Run /link-spotify again."


class SpotifyLinkRejected(SpotifyError):
    code = "link_rejected"
    user_message = "This link has expired or was already used. Run /link-spotify again in Discord for a fresh one."


class SpotifyLinkFailed(SpotifyError):
    code = "link_failed"
    user_message = "Spotify wasn't linked: access was not granted. Run /link-spotify again to retry."


class SpotifyUserNotRegistered(SpotifyError):
    code = "not_registered"
    user_message = (
        "This bot's Spotify app is in development mode, and Spotify only lets the few accounts its owner has "
        "added use it. Ask the bot's owner to add your Spotify account; the listen links work meanwhile."
    )


class SpotifyRateLimited(SpotifyError):
    code = "rate_limited"
    user_message = "Spotify is asking me to slow down. Try saving again in a minute; the listen links work meanwhile."


class SpotifyUnavailable(SpotifyError):
    code = "unavailable"
    user_message = "Spotify isn't answering right now. Use the listen links, and try saving again later."


class SpotifyNoMatches(SpotifyError):
    code = "no_matches"
    user_message = "Spotify couldn't find any of these songs, so I didn't make a playlist. The listen links still work."


@dataclass(frozen=True, slots=True)
class SpotifyConfig:
    """The Spotify app and how patiently MoodMix talks to it."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    accounts_base: str = "https://accounts.spotify.com"
    api_base: str = "https://api.spotify.com/v1"
    request_timeout: float = 5.0  # seconds for each HTTP request
    attempts: int = 3  # tries of one call on 429, 5xx and timeouts
    backoff: float = 0.5  # pause before the second try; doubles each time
    max_wait: float = 10.0  # seconds one operation may spend waiting (Retry-After and backoff together)
    workers: int = 2  # worker threads: also caps concurrent Spotify operations, which helps with rate limits


@dataclass(frozen=True, slots=True)
class SaveResult:
    """A mix saved to the user's Spotify: the playlist's link and how many songs Spotify could not find."""

    url: str
    playlist_id: str
    missing: int
    already_saved: bool = False


class TokenStore(Protocol):
    """What the service needs of `storage.spotify.SpotifyLinkRepository`."""

    async def save(self, user_id: int, token_info: TokenInfo) -> None: ...
    async def load(self, user_id: int) -> TokenInfo | None: ...
    async def delete(self, user_id: int) -> bool: ...


class StateStore(Protocol):
    """What the service needs of `storage.spotify.OAuthStateRepository` (`consume` raises `OAuthStateRejected`)."""

    async def create(self, user_id: int) -> str: ...
    async def consume(self, state: str) -> int: ...


class SavedPlaylistStore(Protocol):
    """What the service needs of `storage.spotify.SavedPlaylistRepository`."""

    async def get(self, mix_id: str) -> SavedPlaylist | None: ...
    async def add(self, saved: SavedPlaylist) -> SavedPlaylist: ...
    async def mark_filled(self, mix_id: str, missing: int) -> None: ...


def _quiet_spotipy() -> None:
    # spotipy logs request headers and token-request bodies at DEBUG: bearer tokens, the client secret (Basic auth),
    # codes and refresh tokens. Secrets never go to MoodMix's logs, whatever level the root logger is set to.
    # Its client also logs every 401, 429 and 5xx at ERROR, which MoodMix expects, handles and logs itself.
    for name, level in (("spotipy.client", logging.CRITICAL), ("spotipy.oauth2", logging.INFO)):
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.level, level))  # its own level: a DEBUG root must not reach it


def _oauth(config: SpotifyConfig, session: requests.Session | bool, cache: MemoryCacheHandler) -> spotipy.SpotifyOAuth:
    # Always a memory cache handler: spotipy's default writes tokens to a `.cache` file.
    oauth = spotipy.SpotifyOAuth(
        client_id=config.client_id,
        client_secret=config.client_secret,
        redirect_uri=config.redirect_uri,
        scope=list(SCOPES),
        requests_session=session,
        requests_timeout=config.request_timeout,
        open_browser=False,
        cache_handler=cache,
    )
    oauth.OAUTH_AUTHORIZE_URL = f"{config.accounts_base.rstrip('/')}/authorize"
    oauth.OAUTH_TOKEN_URL = f"{config.accounts_base.rstrip('/')}/api/token"
    return oauth


class _TokenBox:
    """One operation's state across its steps: the user's token info (refreshed or not) and the seconds waited so
    far. Shared between the event loop and one worker thread at a time, never both at once."""

    def __init__(self, token_info: TokenInfo) -> None:
        self.token_info = token_info
        self.changed = False
        self.waited = 0.0  # the whole operation's waits count against `max_wait`, whatever step they were in


def _retry_after(exc: spotipy.SpotifyException) -> float:
    try:
        return max(0.0, float(exc.headers.get("Retry-After", 1)))
    except (TypeError, ValueError):  # an HTTP-date or garbage: wait a moment, as for a missing header
        return 1.0


class _Connection:
    """One step's link to Spotify, used by a single worker thread: a session, the OAuth manager and the client, with
    the operation's token and retry budget in `box`."""

    def __init__(self, config: SpotifyConfig, box: _TokenBox) -> None:
        self._config = config
        self._box = box
        # A plain session: no urllib3 retries behind our back (see the module docstring).
        self._session = requests.Session()
        self._oauth = _oauth(config, self._session, MemoryCacheHandler())
        self._client = spotipy.Spotify(
            auth=box.token_info["access_token"],
            requests_session=self._session,
            requests_timeout=config.request_timeout,
        )
        self._client.prefix = f"{config.api_base.rstrip('/')}/"

    def close(self) -> None:
        self._session.close()

    def ensure_fresh(self) -> None:
        """Refresh the access token first when it has expired (or is about to)."""
        if self._oauth.is_token_expired(self._box.token_info):
            self._refresh()

    def _refresh(self) -> None:
        refresh_token = self._box.token_info.get("refresh_token")
        if not refresh_token:
            raise SpotifyRelinkNeeded("no refresh token stored")
        try:
            token_info = self._oauth.refresh_access_token(refresh_token)
        except SpotifyOauthError as exc:
            # invalid_grant: the refresh token was revoked or has expired; only a new link helps.
            if exc.error == "invalid_grant":
                raise SpotifyRelinkNeeded("refresh token refused") from exc
            raise SpotifyUnavailable(f"token refresh failed: {exc.error}") from exc
        except requests.RequestException as exc:
            raise SpotifyUnavailable("token refresh did not complete") from exc
        self._box.token_info = token_info
        self._box.changed = True
        self._client.set_auth(token_info["access_token"])

    def _pause(self, seconds: float, attempt: int, error: SpotifyError) -> None:
        if attempt >= self._config.attempts or self._box.waited + seconds > self._config.max_wait:
            raise error
        time.sleep(seconds)  # a worker thread: the event loop is not blocked
        self._box.waited += seconds

    def call(self, request: Callable[[spotipy.Spotify], T], *, resend_safe: bool = True) -> T:
        """Run one Web API request with MoodMix's error mapping and retry policy (see the module docstring)."""
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                return request(self._client)
            except spotipy.SpotifyException as exc:
                status = exc.http_status
                if status == 401 and not refreshed:
                    self._refresh()
                    refreshed = True
                    attempt -= 1  # a refresh is not a failed try
                elif status == 401:
                    raise SpotifyRelinkNeeded("access token refused after a refresh") from exc
                elif status == 403 and _NOT_REGISTERED.search(str(exc.msg)):
                    raise SpotifyUserNotRegistered() from exc
                elif status == 429:
                    self._pause(_retry_after(exc), attempt, SpotifyRateLimited())
                elif status >= 500 and not resend_safe:
                    # Like a timeout: a gateway's 502 or 504 may come after the request did its work.
                    raise SpotifyUnavailable(f"{status} to a request that changes data") from exc
                elif status >= 500:
                    self._pause(self._config.backoff * 2 ** (attempt - 1), attempt, SpotifyUnavailable(f"{status}"))
                else:
                    raise SpotifyError(f"Spotify answered {status}") from exc
            except requests.ReadTimeout as exc:
                if not resend_safe:
                    raise SpotifyUnavailable("no answer to a request that changes data") from exc
                self._pause(self._config.backoff * 2 ** (attempt - 1), attempt, SpotifyUnavailable("timeout"))
            except requests.RequestException:
                # Connection refused or reset, connect timeout: the request never reached Spotify.
                self._pause(self._config.backoff * 2 ** (attempt - 1), attempt, SpotifyUnavailable("connection"))


def _search_tracks(sp: spotipy.Spotify, query: str) -> Any:
    # market=from_token: only tracks the user can play in their country.
    return sp.search(q=query, limit=SEARCH_PAGE, type="track", market="from_token")


def _replace_items(sp: spotipy.Spotify, playlist_id: str, uris: list[str]) -> Any:
    return sp.playlist_replace_items(playlist_id, uris)


def _add_items(sp: spotipy.Spotify, playlist_id: str, uris: list[str]) -> Any:
    return sp.playlist_add_items(playlist_id, uris)


def _find_track(conn: _Connection, track: Song) -> str | None:
    for query in search_queries(track):
        found = conn.call(functools.partial(_search_tracks, query=query))
        items = ((found or {}).get("tracks") or {}).get("items") or []
        uri = best_match(track, items)
        if uri is not None:
            return uri
    return None


def _in_connection(config: SpotifyConfig, box: _TokenBox, work: Callable[[_Connection], T]) -> T:
    """Run one step of an operation in this worker thread, on a fresh connection whose token is fresh first."""
    conn = _Connection(config, box)
    try:
        conn.ensure_fresh()
        return work(conn)
    finally:
        conn.close()


def _resolve(conn: _Connection, songs: Sequence[Song]) -> list[str]:
    """The Spotify URIs of the songs it can find, in order and without repeats."""
    uris: list[str] = []
    for song in songs:
        uri = _find_track(conn, song)
        if uri is not None and uri not in uris:
            uris.append(uri)
    return uris


def _create(conn: _Connection, title: str, story: str) -> tuple[str, str]:
    """Create an empty private playlist; return its id and link. Never resent: a resend could make a second one."""
    description = f"{story} Made by MoodMix.".strip()[:300]
    created = conn.call(
        lambda sp: sp.current_user_playlist_create((title or "MoodMix")[:100], False, False, description),
        resend_safe=False,
    )
    playlist_id = str(created["id"])
    url = (created.get("external_urls") or {}).get("spotify") or f"https://open.spotify.com/playlist/{playlist_id}"
    return playlist_id, str(url)


def _fill(conn: _Connection, playlist_id: str, uris: list[str]) -> None:
    """Make the playlist hold exactly `uris`: the first page replaces whatever is there (so filling again after a
    failure neither doubles nor loses songs, and a replace may be resent), the rest is appended."""
    first = uris[:ITEMS_PER_REQUEST]
    conn.call(functools.partial(_replace_items, playlist_id=playlist_id, uris=first))
    for start in range(ITEMS_PER_REQUEST, len(uris), ITEMS_PER_REQUEST):
        chunk = uris[start : start + ITEMS_PER_REQUEST]
        conn.call(functools.partial(_add_items, playlist_id=playlist_id, uris=chunk), resend_safe=False)


def _check_account(sp: spotipy.Spotify) -> Any:
    try:
        return sp.me()
    except spotipy.SpotifyException as exc:
        # Right after Spotify granted tokens, a 403 from /me means this account may not use the app, however
        # Spotify words it ("User not registered in the Developer Dashboard", "User not approved for app", ...).
        if exc.http_status == 403:
            raise SpotifyUserNotRegistered(f"403 from /me: {exc.msg}") from exc
        raise


def _exchange_sync(config: SpotifyConfig, code: str) -> TokenInfo:
    """Trade an authorization code for tokens, then check the account may use this app. Runs in a worker thread."""
    cache = MemoryCacheHandler()
    session = requests.Session()
    try:
        try:
            _oauth(config, session, cache).get_access_token(code, as_dict=False, check_cache=False)
        except SpotifyOauthError as exc:
            raise SpotifyLinkFailed(f"code exchange refused: {exc.error}") from exc
        except requests.RequestException as exc:
            raise SpotifyUnavailable("code exchange did not complete") from exc
    finally:
        session.close()
    token_info: TokenInfo = cache.get_cached_token()
    # A development-mode app hands tokens to anyone but answers 403 to accounts its owner has not added: say so now
    # rather than at the first save. Other trouble here does not undo a good link.
    box = _TokenBox(token_info)
    conn = _Connection(config, box)
    try:
        conn.call(_check_account)
    except (SpotifyUnavailable, SpotifyRateLimited) as exc:
        log.warning("Spotify /me check skipped after linking: %s", exc.code)
    finally:
        conn.close()
    return box.token_info


class KeyedLocks:
    """One `asyncio.Lock` per key, kept while anyone holds or waits for it and dropped after.

    Counting users (not asking `lock.locked()`) matters: between a release and the next waiter's wake-up the lock
    looks free, and dropping it then would let a newcomer take a fresh lock beside the waiter.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Hold the key's lock for the block."""
        lock, users = self._entries.get(key) or (asyncio.Lock(), 0)
        self._entries[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._entries[key]
            if users == 1:
                del self._entries[key]
            else:
                self._entries[key] = (lock, users - 1)


class SpotifyService:
    """Links Discord users to their Spotify accounts and saves mixes as playlists in them.

    Every method is a coroutine that never blocks the event loop; Spotify is only reached from worker threads.
    """

    def __init__(
        self, config: SpotifyConfig, *, links: TokenStore, states: StateStore, saved: SavedPlaylistStore
    ) -> None:
        _quiet_spotipy()
        self._config = config
        self._links = links
        self._states = states
        self._saved = saved
        self._executor = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="spotify")
        self._locks = KeyedLocks()

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, functools.partial(fn, *args))

    async def authorize_url(self, user_id: int) -> str:
        """Spotify's authorize page for this user, carrying a fresh single-use state bound to them."""
        state = await self._states.create(user_id)
        # Building the URL is string work only: no request is made, so it may run on the loop.
        return str(_oauth(self._config, False, MemoryCacheHandler()).get_authorize_url(state))

    async def complete_link(self, state: str, code: str) -> int:
        """Handle the OAuth callback: use up the state, trade the code for tokens, store them; return the user id.

        A state that is unknown, used or expired raises `SpotifyLinkRejected` before any request to Spotify.
        """
        user_id = await self._consume(state)
        token_info = await self._run(_exchange_sync, self._config, code)
        await self._links.save(user_id, token_info)
        log.info("Spotify linked for user %s", user_id)
        return user_id

    async def decline_link(self, state: str) -> int:
        """The user said no on Spotify's page: use up the state (no exchange) and return whose it was."""
        return await self._consume(state)

    async def _consume(self, state: str) -> int:
        try:
            return await self._states.consume(state)
        except OAuthStateRejected as exc:
            log.warning("OAuth callback rejected: %s state", exc.reason)
            raise SpotifyLinkRejected(exc.reason) from exc

    async def is_linked(self, user_id: int) -> bool:
        """Whether MoodMix holds tokens for this user."""
        return await self._links.load(user_id) is not None

    async def unlink(self, user_id: int) -> bool:
        """Forget the user's tokens; True when there were any."""
        return await self._links.delete(user_id)

    async def save_playlist(
        self, user_id: int, mix_id: str, *, title: str, story: str, songs: Sequence[Song]
    ) -> SaveResult:
        """Save a mix (its title, one-line story and songs in order) to the user's Spotify, or return the playlist
        it was already saved as. A playlist an earlier save created but could not fill is filled, not made again.

        Raises a `SpotifyError`; `SpotifyRelinkNeeded` also drops the dead tokens.
        """
        async with self._locks.hold(mix_id):  # a double click must not make two playlists
            recorded = await self._saved.get(mix_id)
            if recorded is not None and recorded.filled:
                return SaveResult(recorded.url, recorded.playlist_id, recorded.missing, already_saved=True)
            return await self._save(user_id, mix_id, title, story, songs, recorded)

    async def _save(
        self, user_id: int, mix_id: str, title: str, story: str, songs: Sequence[Song], recorded: SavedPlaylist | None
    ) -> SaveResult:
        token_info = await self._links.load(user_id)
        if token_info is None:
            raise SpotifyNotLinked()
        box = _TokenBox(token_info)
        try:
            uris = await self._run(_in_connection, self._config, box, functools.partial(_resolve, songs=list(songs)))
            if not uris:
                raise SpotifyNoMatches()
            missing = len(songs) - len(uris)
            if recorded is None:
                playlist_id, url = await self._run(
                    _in_connection, self._config, box, functools.partial(_create, title=title, story=story)
                )
                # Recorded before it is filled: should filling fail, the next press fills this playlist.
                recorded = await self._saved.add(SavedPlaylist(mix_id, user_id, playlist_id, url, missing, False))
            else:
                log.info("Mix %s: filling the playlist an earlier save created", mix_id)
            fill = functools.partial(_fill, playlist_id=recorded.playlist_id, uris=uris)
            await self._run(_in_connection, self._config, box, fill)
        except SpotifyRelinkNeeded:
            await self._links.delete(user_id)
            log.info("Spotify access lost for user %s; tokens dropped", user_id)
            raise
        finally:
            if box.changed and await self._links.load(user_id) is not None:
                await self._links.save(user_id, box.token_info)
        await self._saved.mark_filled(mix_id, missing)
        log.info("Mix %s saved to Spotify for user %s (%s not found)", mix_id, user_id, missing)
        return SaveResult(recorded.url, recorded.playlist_id, missing)

    async def close(self) -> None:
        """Stop the worker threads (an operation in flight finishes on its own)."""
        self._executor.shutdown(wait=False, cancel_futures=True)
