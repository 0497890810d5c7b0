"""A loopback test double of Discord: the REST API, the gateway and the CDN, on 127.0.0.1 at a random free port.

It speaks enough of the real wire protocol for an unmodified discord.py 2.7 bot to log in, sync its slash commands
and serve interactions, so end-to-end tests drive the real bot and assert on what it sent back:

    async with FakeDiscord(token="t") as discord_double:
        # point the bot at discord_double.api_base / discord_double.gateway_url, start it, then
        await discord_double.wait_until_identified()
        photo = discord_double.upload("selfie.png", png_bytes)
        sent = await discord_double.slash_command("mood", {"selfie": photo})
        callback = await discord_double.wait_for_callback(sent.id)       # type 5: deferred
        reply = await discord_double.wait_for_followup(sent.token)        # the embed, files and buttons

Behaviours of the real Discord it keeps, because bots get them wrong:
- JSON answers carry `Content-Type: application/json` exactly (discord.py parses nothing else).
- A wrong bot token gets 401 on REST and close code 4004 on the gateway.
- An interaction must be acknowledged once (a second callback gets 400, code 40060) and within `ack_deadline`
  seconds (later gets 404, code 10062).
- The first followup after a deferred "thinking" response resolves the loading message: it becomes the original
  response and keeps the deferral's ephemerality, whatever flags the followup asks for (discord-api-docs #2866).
- `attachment://name` in an embed is resolved to the uploaded file's CDN URL in the message Discord answers with.

Besides interactions, the bot can look users up, open DMs with them and post there (`wait_for_dm`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import mimetypes
import secrets
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import BodyPartReader, WSMsgType, web

T = TypeVar("T")

DISCORD_EPOCH_MS = 1_420_070_400_000
EPHEMERAL = 1 << 6
LOADING = 1 << 7

# Interaction types (what the double dispatches) and callback types (what the bot answers).
APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9

# Gateway opcodes.
OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_RESUME, OP_HELLO, OP_HEARTBEAT_ACK = 0, 1, 2, 6, 10, 11
CLOSE_AUTHENTICATION_FAILED = 4004

_OPTION_TYPES: tuple[tuple[type, int], ...] = ((bool, 5), (int, 4), (float, 10), (str, 3))
_ATTACHMENT_OPTION = 11


class _Snowflakes:
    """Discord-shaped ids: milliseconds since the Discord epoch, shifted, plus a counter (so created_at is right)."""

    def __init__(self) -> None:
        self._counter = itertools.count()

    def next(self) -> str:
        millis = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return str((millis << 22) | (next(self._counter) & 0x3FFFFF))


def _json(data: Any, status: int = 200) -> web.Response:
    # Not web.json_response: it sends "application/json; charset=utf-8", which discord.py does not parse as JSON.
    return web.Response(status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"})


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"message": message, "code": code}, status=status)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class SentFile:
    """A file the bot attached to a message (or a callback), as the double received it."""

    id: str
    filename: str
    content_type: str
    data: bytes
    url: str

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
        }


@dataclass(slots=True)
class SentMessage:
    """A message the bot sent, with its latest edit: an interaction's original response or followup (`token` is
    the interaction's), or a plain channel message such as a DM (`token` is None)."""

    id: str
    token: str | None
    channel_id: str
    content: str
    embeds: list[dict[str, Any]]
    components: list[dict[str, Any]]
    flags: int
    files: list[SentFile]
    is_original: bool
    edits: int = 0
    deleted: bool = False

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)

    @property
    def text(self) -> str:
        """Every word a user sees: the content and each embed's title, description, fields and footer."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [embed.get("title", ""), embed.get("description", ""), embed.get("footer", {}).get("text", "")]
            parts += [f"{f.get('name', '')}\n{f.get('value', '')}" for f in embed.get("fields", [])]
        return "\n".join(p for p in parts if p)

    def file(self, filename: str) -> SentFile:
        """The attached file with this name (AssertionError listing the names there are, if none)."""
        for sent in self.files:
            if sent.filename == filename:
                return sent
        raise AssertionError(
            f"no attachment {filename!r} on message {self.id}; have {[f.filename for f in self.files]}"
        )

    def find_component(self, custom_id: str) -> dict[str, Any]:
        """The button, select or other component with this custom_id, wherever it sits in the layout."""
        for component in _walk_components(self.components):
            if component.get("custom_id") == custom_id:
                return component
        raise AssertionError(f"no component {custom_id!r} on message {self.id}; have {self.custom_ids()}")

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in _walk_components(self.components) if "custom_id" in c]


@dataclass(frozen=True, slots=True)
class Callback:
    """The bot's answer to one interaction (POST /interactions/{id}/{token}/callback)."""

    interaction_id: str
    token: str
    type: int
    data: dict[str, Any]
    received_after: float  # seconds since the double dispatched the interaction

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.data.get("flags") or 0) & EPHEMERAL)


@dataclass(frozen=True, slots=True)
class SentInteraction:
    """An interaction the double dispatched to the bot."""

    id: str
    token: str
    type: int
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    status: int


@dataclass(slots=True)
class _GatewaySession:
    ws: web.WebSocketResponse
    compressor: Any  # zlib.compressobj when the bot asked for zlib-stream, else None
    session_id: str = ""
    seq: int = 0
    identified: bool = False


def _walk_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for component in components:
        yield component
        yield from _walk_components(component.get("components", []))
        if "component" in component:  # a Label (type 18) wraps one component
            yield from _walk_components([component["component"]])
        if "accessory" in component:  # a Section (type 9) may carry a button
            yield from _walk_components([component["accessory"]])


@dataclass(slots=True)
class _InteractionState:
    sent: SentInteraction
    dispatched_at: float
    channel_id: str
    callback: Callback | None = None
    original_id: str | None = None
    followup_ids: list[str] = field(default_factory=list)


class FakeDiscord:
    """Discord on 127.0.0.1. Start it with `async with` (or `start()` / `stop()`)."""

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        guild_id: int = 700_000_000_000_000_001,
        channel_id: int = 700_000_000_000_000_002,
        ack_deadline: float = 3.0,
    ) -> None:
        self.token = token
        self.guild_id = str(guild_id)
        self.channel_id = str(channel_id)
        self.ack_deadline = ack_deadline
        self._ids = _Snowflakes()
        self.application_id = self._ids.next()
        self.bot_user: dict[str, Any] = {
            "id": self.application_id,
            "username": "MoodMix",
            "global_name": None,
            "discriminator": "0",
            "avatar": None,
            "bot": True,
            "public_flags": 0,
            "flags": 0,
            "verified": True,
            "mfa_enabled": False,
        }
        self.users: dict[str, dict[str, Any]] = {self.application_id: self.bot_user}  # what GET /users/{id} knows
        self.default_user = self.make_user("tester")
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[RecordedRequest] = []
        self.identify_payloads: list[dict[str, Any]] = []
        self.gateway_queries: list[dict[str, str]] = []
        self.messages: dict[str, SentMessage] = {}
        self._interactions: dict[str, _InteractionState] = {}  # by token
        self._dm_channels: dict[str, str] = {}  # user id -> DM channel id
        self._channel_messages: dict[str, list[str]] = {}  # channel id -> ids of the bot's plain messages there
        self._interaction_tokens: dict[str, str] = {}  # interaction id -> token
        self._cdn: dict[str, tuple[bytes, str]] = {}  # path -> (bytes, content type)
        self._sessions: list[_GatewaySession] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----------------------------------------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Listen on a random free port of 127.0.0.1."""
        app = web.Application(middlewares=[self._record_request], client_max_size=64 * 1024 * 1024)
        app.router.add_routes(
            [
                web.get("/gateway", self._gateway),
                web.get("/api/v10/users/@me", self._users_me),
                web.get("/api/v10/oauth2/applications/@me", self._application),
                web.post("/api/v10/users/@me/channels", self._open_dm),
                web.get("/api/v10/users/{user_id}", self._get_user),
                web.post("/api/v10/channels/{channel_id}/messages", self._create_channel_message),
                web.get("/api/v10/applications/{app_id}/commands", self._get_commands),
                web.put("/api/v10/applications/{app_id}/commands", self._put_commands),
                web.get("/api/v10/applications/{app_id}/guilds/{guild_id}/commands", self._get_commands),
                web.put("/api/v10/applications/{app_id}/guilds/{guild_id}/commands", self._put_commands),
                web.post("/api/v10/interactions/{interaction_id}/{token}/callback", self._callback),
                web.post("/api/v10/webhooks/{app_id}/{token}", self._create_followup),
                web.get("/api/v10/webhooks/{app_id}/{token}/messages/{message_id}", self._get_message),
                web.patch("/api/v10/webhooks/{app_id}/{token}/messages/{message_id}", self._edit_message),
                web.delete("/api/v10/webhooks/{app_id}/{token}/messages/{message_id}", self._delete_message),
                web.get("/attachments/{path:.+}", self._serve_attachment),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Close every gateway connection and stop listening."""
        for session in self._sessions:
            await session.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """What discord.py's `Route.BASE` must be set to."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """What discord.py's `DiscordWebSocket.DEFAULT_GATEWAY` must be set to."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ------------------------------------------------------------------------------------------ test-side helpers

    def make_user(self, username: str, user_id: str | None = None) -> dict[str, Any]:
        """A user object for interactions (a fresh id unless given), known to the API from then on."""
        user: dict[str, Any] = {
            "id": user_id or self._ids.next(),
            "username": username,
            "global_name": username.title(),
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
        }
        self.users[user["id"]] = user
        return user

    def upload(self, filename: str, data: bytes, content_type: str | None = None) -> dict[str, Any]:
        """Put a user's file on the CDN and return its attachment object, for a slash command option.

        `content_type` is what the client claims (it can lie, as real clients' can); by default it is guessed
        from the file name.
        """
        attachment_id = self._ids.next()
        path = f"{self.channel_id}/{attachment_id}/{filename}"
        claimed = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        self._cdn[path] = (data, claimed)
        url = f"{self.base_url}/attachments/{path}"
        return {
            "id": attachment_id,
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": claimed,
        }

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send one gateway DISPATCH to the bot's live, identified connection."""
        session = self._live_session()
        session.seq += 1
        await self._send(session, {"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data})

    async def slash_command(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: dict[str, Any] | None = None,
        locale: str = "en-US",
        in_guild: bool = True,
    ) -> SentInteraction:
        """Invoke a slash command as a user would. An option whose value is an `upload()` result is an attachment.

        Option types come from the command the bot registered when there is one, else from the Python values.
        """
        data = self._command_data(name, options or {}, in_guild, focused=None)
        return await self._interact(APPLICATION_COMMAND, data, user=user, locale=locale, in_guild=in_guild)

    async def autocomplete(
        self,
        name: str,
        options: Mapping[str, Any],
        focused: str,
        *,
        user: dict[str, Any] | None = None,
        in_guild: bool = True,
    ) -> SentInteraction:
        """Ask the bot for choices while the user types option `focused` of command `name`."""
        data = self._command_data(name, options, in_guild, focused=focused)
        return await self._interact(AUTOCOMPLETE, data, user=user, in_guild=in_guild)

    def _command_data(
        self, name: str, options: Mapping[str, Any], in_guild: bool, focused: str | None
    ) -> dict[str, Any]:
        candidates = (self.guild_commands.get(self.guild_id, []) if in_guild else []) + self.global_commands
        registered = next((c for c in candidates if c["name"] == name), None)
        declared = {o["name"]: o.get("type") for o in (registered or {}).get("options", [])}
        wire_options: list[dict[str, Any]] = []
        resolved: dict[str, dict[str, Any]] = {}
        for option_name, value in options.items():
            if isinstance(value, dict) and "url" in value and "filename" in value:
                resolved[value["id"]] = value
                option = {"name": option_name, "type": _ATTACHMENT_OPTION, "value": value["id"]}
            else:
                option_type = declared.get(option_name) or next(t for py, t in _OPTION_TYPES if isinstance(value, py))
                option = {"name": option_name, "type": option_type, "value": value}
            if option_name == focused:
                option["focused"] = True
            wire_options.append(option)
        data: dict[str, Any] = {
            "id": registered["id"] if registered else self._ids.next(),
            "name": name,
            "type": 1,
            "options": wire_options,
        }
        if registered and "guild_id" in registered:
            data["guild_id"] = registered["guild_id"]  # Discord names the guild of a guild command
        if resolved:
            data["resolved"] = {"attachments": resolved}
        return data

    async def press(
        self,
        message: SentMessage,
        custom_id: str,
        *,
        values: list[str] | None = None,
        user: dict[str, Any] | None = None,
    ) -> SentInteraction:
        """Press a button (or choose `values` in a select) on a message the bot sent."""
        component = message.find_component(custom_id)
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if values is not None:
            data["values"] = values
        return await self._interact(MESSAGE_COMPONENT, data, user=user, message=message)

    async def submit_modal(
        self, modal: Callback, values: Mapping[str, str], *, user: dict[str, Any] | None = None
    ) -> SentInteraction:
        """Fill in the text inputs of a modal the bot opened (a type 9 callback) and submit it."""
        if modal.type != MODAL:
            raise AssertionError(f"callback {modal.interaction_id} is type {modal.type}, not a modal (9)")
        unknown = set(values) - {c.get("custom_id") for c in _walk_components(modal.data["components"])}
        if unknown:
            raise AssertionError(f"the modal has no text inputs {sorted(unknown)}")
        data = {"custom_id": modal.data["custom_id"], "components": _fill_modal(modal.data["components"], values)}
        return await self._interact(MODAL_SUBMIT, data, user=user)

    # -------------------------------------------------------------------------------------------------- waiting

    async def wait_until_identified(self, within: float = 10.0) -> None:
        """Until a bot has identified on the gateway and been sent READY."""
        await self._wait(lambda: any(s.identified for s in self._sessions), within, "the bot to IDENTIFY")

    async def wait_for_callback(self, interaction_id: str, within: float = 10.0) -> Callback:
        """The bot's acknowledgement of an interaction."""
        token = self._interaction_tokens[interaction_id]
        return await self._wait(
            lambda: self._interactions[token].callback, within, f"a callback to interaction {interaction_id}"
        )

    async def wait_for_followup(self, token: str, n: int = 1, within: float = 20.0) -> SentMessage:
        """The n-th followup (1-based) the bot sent for an interaction, as last edited."""

        def nth() -> SentMessage | None:
            ids = self._interactions[token].followup_ids
            return self.messages[ids[n - 1]] if len(ids) >= n else None

        return await self._wait(nth, within, f"followup #{n} to interaction token {token[:8]}...")

    async def wait_for_original(
        self, token: str, predicate: Callable[[SentMessage], bool] | None = None, within: float = 20.0
    ) -> SentMessage:
        """The original response of an interaction once it is no longer loading (and matches `predicate`)."""

        def original() -> SentMessage | None:
            message_id = self._interactions[token].original_id
            message = self.messages.get(message_id) if message_id else None
            if message is None or message.loading or (predicate is not None and not predicate(message)):
                return None
            return message

        return await self._wait(original, within, f"the original response to token {token[:8]}...")

    async def wait_for_dm(self, user_id: str, n: int = 1, within: float = 10.0) -> SentMessage:
        """The n-th direct message (1-based) the bot sent to a user."""

        def nth() -> SentMessage | None:
            ids = self._channel_messages.get(self._dm_channels.get(user_id, ""), [])
            return self.messages[ids[n - 1]] if len(ids) >= n else None

        return await self._wait(nth, within, f"DM #{n} to user {user_id}")

    async def wait_for_disconnect(self, within: float = 10.0) -> None:
        """Until no bot is connected to the gateway."""
        await self._wait(lambda: not self._sessions, within, "the bot to disconnect")

    def replies(self, token: str) -> list[SentMessage]:
        """Every message of an interaction that is not deleted: the original (if any) first, then the followups."""
        state = self._interactions[token]
        ids = ([state.original_id] if state.original_id else []) + state.followup_ids
        return [self.messages[i] for i in dict.fromkeys(ids) if not self.messages[i].deleted]

    async def _wait(self, probe: Callable[[], T | None], within: float, what: str) -> T:
        try:
            async with asyncio.timeout(within), self._changed:
                result: T = await self._changed.wait_for(probe)  # type: ignore[arg-type]
                return result
        except TimeoutError:
            seen = "\n  ".join(f"{r.method} {r.path} -> {r.status}" for r in self.requests[-15:])
            raise AssertionError(f"timed out after {within}s waiting for {what}; last requests:\n  {seen}") from None

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -------------------------------------------------------------------------------------------------- gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.gateway_queries.append(dict(request.query))
        # discord.py asks for zlib-stream unless zstandard is installed; any other encoding is answered in plain
        # text frames, which every discord.py version parses.
        compressor = zlib.compressobj() if request.query.get("compress") == "zlib-stream" else None
        session = _GatewaySession(ws=ws, compressor=compressor)
        self._sessions.append(session)
        try:
            await self._send(session, {"op": OP_HELLO, "d": {"heartbeat_interval": 41_250}})
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    continue
                await self._on_gateway_message(session, json.loads(message.data))
        finally:
            self._sessions.remove(session)
            await self._notify()
        return ws

    async def _on_gateway_message(self, session: _GatewaySession, payload: dict[str, Any]) -> None:
        op, data = payload.get("op"), payload.get("d") or {}
        if op == OP_HEARTBEAT:
            await self._send(session, {"op": OP_HEARTBEAT_ACK})
        elif op in (OP_IDENTIFY, OP_RESUME):
            if data.get("token") != self.token:
                await session.ws.close(code=CLOSE_AUTHENTICATION_FAILED, message=b"Authentication failed.")
                return
            if op == OP_IDENTIFY:
                self.identify_payloads.append(data)
                session.session_id = secrets.token_hex(16)
                await self._dispatch_on(session, "READY", self._ready_payload(session))
            else:
                session.session_id = data.get("session_id", "")
                session.seq = int(data.get("seq") or 0)
                await self._dispatch_on(session, "RESUMED", {})
            session.identified = True
            await self._notify()

    def _ready_payload(self, session: _GatewaySession) -> dict[str, Any]:
        return {
            "v": 10,
            "user": self.bot_user,
            "guilds": [],
            "session_id": session.session_id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": self.application_id, "flags": 0},
            "private_channels": [],
            "relationships": [],
        }

    async def _dispatch_on(self, session: _GatewaySession, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        await self._send(session, {"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data})

    async def _send(self, session: _GatewaySession, payload: dict[str, Any]) -> None:
        text = json.dumps(payload)
        if session.compressor is None:
            await session.ws.send_str(text)
        else:
            # zlib-stream: one deflate stream per connection, each message ending in a Z_SYNC_FLUSH marker.
            chunk = session.compressor.compress(text.encode()) + session.compressor.flush(zlib.Z_SYNC_FLUSH)
            await session.ws.send_bytes(chunk)

    def _live_session(self) -> _GatewaySession:
        live = [s for s in self._sessions if s.identified and not s.ws.closed]
        if not live:
            raise AssertionError("no bot is connected to the gateway (call wait_until_identified first)")
        return live[-1]

    # ------------------------------------------------------------------------------------------- interactions

    async def _interact(
        self,
        interaction_type: int,
        data: dict[str, Any],
        *,
        user: dict[str, Any] | None,
        locale: str = "en-US",
        in_guild: bool = True,
        message: SentMessage | None = None,
    ) -> SentInteraction:
        user = user or self.default_user
        interaction_id, token = self._ids.next(), secrets.token_urlsafe(48)
        channel_id = message.channel_id if message else self.channel_id
        payload: dict[str, Any] = {
            "id": interaction_id,
            "application_id": self.application_id,
            "type": interaction_type,
            "data": data,
            "channel_id": channel_id,
            "token": token,
            "version": 1,
            "locale": locale,
            "app_permissions": "2248473465835073",
            "attachment_size_limit": 10 * 1024 * 1024,
            "entitlements": [],
            "authorizing_integration_owners": {"0": self.guild_id} if in_guild else {"1": user["id"]},
            "context": 0 if in_guild else 1,
        }
        if in_guild:
            payload["guild_id"] = self.guild_id
            payload["guild"] = {"id": self.guild_id, "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["channel"] = self._text_channel(channel_id)
            payload["member"] = {
                "user": user,
                "roles": [],
                "joined_at": "2024-01-01T00:00:00+00:00",
                "deaf": False,
                "mute": False,
                "flags": 0,
                "pending": False,
                "nick": None,
                "avatar": None,
                "permissions": "2248473465835073",
            }
        else:
            payload["channel"] = {"id": channel_id, "type": 1, "recipients": [user]}
            payload["user"] = user
        if message is not None:
            payload["message"] = self._message_payload(message)
        sent = SentInteraction(id=interaction_id, token=token, type=interaction_type, payload=payload)
        self._interactions[token] = _InteractionState(sent=sent, dispatched_at=time.monotonic(), channel_id=channel_id)
        self._interaction_tokens[interaction_id] = token
        await self.dispatch("INTERACTION_CREATE", payload)
        return sent

    def _text_channel(self, channel_id: str) -> dict[str, Any]:
        return {
            "id": channel_id,
            "type": 0,
            "guild_id": self.guild_id,
            "name": "general",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0,
            "permissions": "2248473465835073",
        }

    async def _callback(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        state = self._interactions.get(token)
        if state is None or state.sent.id != request.match_info["interaction_id"]:
            return _error(404, 10062, "Unknown interaction")
        if state.callback is not None:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        elapsed = time.monotonic() - state.dispatched_at
        if elapsed > self.ack_deadline:
            return _error(404, 10062, "Unknown interaction")
        payload, files = await self._read_payload(request, state.channel_id)
        callback_type = int(payload["type"])
        data = payload.get("data") or {}
        state.callback = Callback(state.sent.id, token, callback_type, data, elapsed)
        flags = int(data.get("flags") or 0)
        message: SentMessage | None = None
        if callback_type in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE):
            if callback_type == DEFERRED_CHANNEL_MESSAGE:
                data = {"content": "", "flags": (flags & EPHEMERAL) | LOADING}
            message = self._new_message(token, state.channel_id, data, files, is_original=True)
            state.original_id = message.id
        elif callback_type in (DEFERRED_UPDATE, UPDATE_MESSAGE) and "message" in state.sent.payload:
            # For a component's interaction, the original response is the message the component sits on.
            message = self.messages[state.sent.payload["message"]["id"]]
            state.original_id = message.id
            if callback_type == UPDATE_MESSAGE:
                self._apply_edit(message, data, files)
        await self._notify()
        answer: dict[str, Any] = {
            "interaction": {
                "id": state.sent.id,
                "type": state.sent.type,
                "response_message_loading": callback_type == DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool(flags & EPHEMERAL),
            }
        }
        if message is not None:
            answer["interaction"]["response_message_id"] = message.id
        if request.query.get("with_response", "").lower() in ("1", "true"):
            answer["resource"] = {"type": callback_type}
            if message is not None and callback_type in (CHANNEL_MESSAGE, UPDATE_MESSAGE):
                answer["resource"]["message"] = self._message_payload(message)
            return _json(answer)
        return web.Response(status=204)

    # ------------------------------------------------------------------------------------------------ webhooks

    def _webhook_state(self, request: web.Request) -> _InteractionState | None:
        if request.match_info["app_id"] != self.application_id:
            return None
        return self._interactions.get(request.match_info["token"])

    async def _create_followup(self, request: web.Request) -> web.Response:
        state = self._webhook_state(request)
        if state is None:
            return _error(404, 10015, "Unknown Webhook")
        if state.callback is None:
            return _error(404, 10015, "Unknown Webhook")  # Discord knows no webhook before the interaction is acked
        payload, files = await self._read_payload(request, state.channel_id)
        original = self.messages.get(state.original_id) if state.original_id else None
        if original is not None and original.loading and not original.deleted:
            # The first followup after a "thinking" deferral resolves it and keeps the deferral's ephemerality.
            payload["flags"] = (int(payload.get("flags") or 0) & ~EPHEMERAL) | (original.flags & EPHEMERAL)
            self._apply_edit(original, payload, files)
            message = original
        else:
            message = self._new_message(state.sent.token, state.channel_id, payload, files, is_original=False)
        state.followup_ids.append(message.id)
        await self._notify()
        return _json(self._message_payload(message))

    def _webhook_message(self, request: web.Request) -> tuple[_InteractionState, SentMessage] | web.Response:
        state = self._webhook_state(request)
        if state is None:
            return _error(404, 10015, "Unknown Webhook")
        message_id = request.match_info["message_id"]
        if message_id == "@original":
            message_id = state.original_id or ""
        message = self.messages.get(message_id)
        if message is None or message.deleted or message_id not in (state.original_id, *state.followup_ids):
            return _error(404, 10008, "Unknown Message")
        return state, message

    async def _get_message(self, request: web.Request) -> web.Response:
        found = self._webhook_message(request)
        if isinstance(found, web.Response):
            return found
        return _json(self._message_payload(found[1]))

    async def _edit_message(self, request: web.Request) -> web.Response:
        found = self._webhook_message(request)
        if isinstance(found, web.Response):
            return found
        state, message = found
        payload, files = await self._read_payload(request, state.channel_id)
        self._apply_edit(message, payload, files)
        await self._notify()
        return _json(self._message_payload(message))

    async def _delete_message(self, request: web.Request) -> web.Response:
        found = self._webhook_message(request)
        if isinstance(found, web.Response):
            return found
        found[1].deleted = True
        await self._notify()
        return web.Response(status=204)

    # ------------------------------------------------------------------------------------------------ messages

    async def _read_payload(self, request: web.Request, channel_id: str) -> tuple[dict[str, Any], list[SentFile]]:
        """The JSON body, or multipart `payload_json` plus `files[n]`, with the files put on the CDN."""
        if not request.content_type.startswith("multipart/"):
            return (await request.json() if request.can_read_body else {}), []
        payload: dict[str, Any] = {}
        uploads: dict[int, tuple[str, bytes]] = {}
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):  # nested multiparts are not something discord.py sends
                continue
            if part.name == "payload_json":
                payload = json.loads(await part.text())
            elif part.name and part.name.startswith("files["):
                uploads[int(part.name[6:-1])] = (part.filename or "file", bytes(await part.read()))
        files = []
        for index in sorted(uploads):
            filename, data = uploads[index]
            # discord.py labels every file application/octet-stream; Discord works the type out, so do the same.
            content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            file_id = self._ids.next()
            path = f"{channel_id}/{file_id}/{filename}"
            self._cdn[path] = (data, content_type)
            files.append(SentFile(file_id, filename, content_type, data, f"{self.base_url}/attachments/{path}"))
        return payload, files

    def _new_message(
        self,
        token: str | None,
        channel_id: str,
        payload: dict[str, Any],
        files: list[SentFile],
        *,
        is_original: bool,
    ) -> SentMessage:
        message = SentMessage(
            id=self._ids.next(),
            token=token,
            channel_id=channel_id,
            content=payload.get("content") or "",
            embeds=_resolve_attachment_urls(payload.get("embeds") or [], files),
            components=payload.get("components") or [],
            flags=int(payload.get("flags") or 0),
            files=files,
            is_original=is_original,
        )
        self.messages[message.id] = message
        return message

    def _apply_edit(self, message: SentMessage, payload: dict[str, Any], files: list[SentFile]) -> None:
        """Apply a PATCH-like edit: only the fields sent change; `attachments` lists the existing files to keep."""
        if "attachments" in payload:
            keep = {str(a["id"]) for a in payload["attachments"] or []}
            message.files = [f for f in message.files if f.id in keep]
        message.files = message.files + files
        if "content" in payload:
            message.content = payload["content"] or ""
        if "embeds" in payload:
            message.embeds = _resolve_attachment_urls(payload["embeds"] or [], message.files)
        if "components" in payload:
            message.components = payload["components"] or []
        if "flags" in payload:
            # Ephemerality is fixed when a message is created; an edit can only clear the loading state.
            message.flags = (int(payload["flags"] or 0) & ~(EPHEMERAL | LOADING)) | (message.flags & EPHEMERAL)
        else:
            message.flags &= ~LOADING
        message.edits += 1

    def _message_payload(self, message: SentMessage) -> dict[str, Any]:
        return {
            "id": message.id,
            "type": 20 if message.is_original else 0,
            "channel_id": message.channel_id,
            "author": self.bot_user,
            "content": message.content,
            "timestamp": _now_iso(),
            "edited_timestamp": _now_iso() if message.edits else None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [f.payload() for f in message.files],
            "embeds": message.embeds,
            "components": message.components,
            "pinned": False,
            "flags": message.flags,
            "webhook_id": self.application_id,
            "application_id": self.application_id,
        }

    # ------------------------------------------------------------------------------------------------ the rest

    @web.middleware
    async def _record_request(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            self.requests.append(RecordedRequest(request.method, request.path, exc.status))
            raise
        self.requests.append(RecordedRequest(request.method, request.path, response.status))
        return response

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {self.token}"

    async def _users_me(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 0, "401: Unauthorized")
        return _json(self.bot_user)

    async def _application(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 0, "401: Unauthorized")
        return _json(
            {
                "id": self.application_id,
                "name": "MoodMix",
                "description": "Reads the mood in a selfie and answers with a playlist.",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": {**self.make_user("owner"), "flags": 0},
                "verify_key": secrets.token_hex(32),
                "flags": 0,
                "summary": "",
                "team": None,
            }
        )

    def _command_list(self, request: web.Request) -> list[dict[str, Any]] | None:
        if request.match_info["app_id"] != self.application_id:
            return None
        guild_id = request.match_info.get("guild_id")
        return self.global_commands if guild_id is None else self.guild_commands.setdefault(guild_id, [])

    async def _get_commands(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 0, "401: Unauthorized")
        commands = self._command_list(request)
        return _error(404, 10002, "Unknown Application") if commands is None else _json(commands)

    async def _put_commands(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 0, "401: Unauthorized")
        commands = self._command_list(request)
        if commands is None:
            return _error(404, 10002, "Unknown Application")
        guild_id = request.match_info.get("guild_id")
        previous_ids = {c["name"]: c["id"] for c in commands}
        registered = []
        for command in await request.json():
            # Like Discord, a command keeps its id across syncs as long as its name stays.
            entry = {
                "type": 1,
                "default_member_permissions": None,
                "nsfw": False,
                "options": [],
                **command,
                "id": previous_ids.get(command["name"]) or self._ids.next(),
                "application_id": self.application_id,
                "version": self._ids.next(),
            }
            if guild_id is not None:
                entry["guild_id"] = guild_id
            registered.append(entry)
        commands[:] = registered
        await self._notify()
        return _json(registered)

    async def _get_user(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 0, "401: Unauthorized")
        user = self.users.get(request.match_info["user_id"])
        return _json(user) if user is not None else _error(404, 10013, "Unknown User")

    async def _open_dm(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 0, "401: Unauthorized")
        recipient = self.users.get(str((await request.json()).get("recipient_id")))
        if recipient is None:
            return _error(400, 50033, "Invalid Recipient(s)")
        channel_id = self._dm_channels.setdefault(recipient["id"], self._ids.next())
        return _json({"id": channel_id, "type": 1, "last_message_id": None, "recipients": [recipient]})

    async def _create_channel_message(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 0, "401: Unauthorized")
        channel_id = request.match_info["channel_id"]
        if channel_id != self.channel_id and channel_id not in self._dm_channels.values():
            return _error(404, 10003, "Unknown Channel")
        payload, files = await self._read_payload(request, channel_id)
        message = self._new_message(None, channel_id, payload, files, is_original=False)
        self._channel_messages.setdefault(channel_id, []).append(message.id)
        await self._notify()
        return _json(self._message_payload(message))

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        found = self._cdn.get(request.match_info["path"])
        if found is None:
            return web.Response(status=404, text="Not Found")
        data, content_type = found
        return web.Response(body=data, headers={"Content-Type": content_type})


def _resolve_attachment_urls(embeds: list[dict[str, Any]], files: list[SentFile]) -> list[dict[str, Any]]:
    """Replace `attachment://name` in embed images and thumbnails by the file's CDN URL, as Discord does."""
    by_name = {f"attachment://{f.filename}": f.url for f in files}
    resolved = []
    for embed in embeds:
        embed = dict(embed)
        for key in ("image", "thumbnail"):
            media = embed.get(key)
            if isinstance(media, dict) and media.get("url") in by_name:
                embed[key] = {**media, "url": by_name[media["url"]], "proxy_url": by_name[media["url"]]}
        resolved.append(embed)
    return resolved


def _fill_modal(components: list[dict[str, Any]], values: Mapping[str, str]) -> list[dict[str, Any]]:
    """The `components` of a modal submit: the modal's layout with each text input's value (its default if unset)."""
    filled: list[dict[str, Any]] = []
    for component in components:
        if component["type"] == 1:
            filled.append({"type": 1, "components": _fill_modal(component["components"], values)})
        elif component["type"] == 18:
            filled.append({"type": 18, "component": _fill_modal([component["component"]], values)[0]})
        elif component["type"] == 4:
            value = values.get(component["custom_id"], component.get("value") or "")
            filled.append({"type": 4, "custom_id": component["custom_id"], "value": value})
    return filled


@contextlib.contextmanager
def preserve_discord_endpoints() -> Iterator[None]:
    """Restore discord.py's class-level REST base and gateway URL afterwards, so one test's setting never leaks."""
    import discord.gateway
    import discord.http

    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    try:
        yield
    finally:
        discord.http.Route.BASE = base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway
