"""The Discord double proven against an unmodified discord.py `commands.Bot` with one slash command."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import AsyncIterator

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest
import yarl
from discord import app_commands
from discord.ext import commands

from tests.fakes.discord_server import (
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    MODAL,
    UPDATE_MESSAGE,
    FakeDiscord,
    preserve_discord_endpoints,
)


class EchoModal(discord.ui.Modal, title="Tell me more"):
    words: discord.ui.TextInput[EchoModal] = discord.ui.TextInput(label="Words", custom_id="echo:words")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"you said: {self.words.value}", ephemeral=True)


class EchoView(discord.ui.View):
    @discord.ui.button(label="More", custom_id="echo:more")
    async def more(self, interaction: discord.Interaction, button: discord.ui.Button[EchoView]) -> None:
        await interaction.response.send_modal(EchoModal())

    @discord.ui.button(label="Done", custom_id="echo:done")
    async def done(self, interaction: discord.Interaction, button: discord.ui.Button[EchoView]) -> None:
        await interaction.response.edit_message(content="done", view=None)
        await interaction.edit_original_response(content="done twice")


def make_bot(guild_id: int) -> commands.Bot:
    """A small bot written as the discord.py docs write one: a guild slash command, a view and a modal."""
    bot = commands.Bot(
        command_prefix=commands.when_mentioned, intents=discord.Intents.default(), guild_ready_timeout=0.1
    )
    guild = discord.Object(guild_id)

    @bot.tree.command(name="echo", description="Echo a file back", guild=guild)
    async def echo(interaction: discord.Interaction, upload: discord.Attachment, note: str = "") -> None:
        await interaction.response.defer(thinking=True)
        data = await upload.read()
        embed = discord.Embed(title=f"{upload.filename}: {len(data)} bytes", description=note)
        embed.set_image(url="attachment://copy.bin")
        await interaction.followup.send(
            embed=embed, file=discord.File(io.BytesIO(data[::-1]), "copy.bin"), view=EchoView()
        )

    @bot.tree.command(name="oops", description="Fail after a public deferral", guild=guild)
    async def oops(interaction: discord.Interaction, delete_first: bool) -> None:
        await interaction.response.defer(thinking=True)
        if delete_first:
            await interaction.delete_original_response()
        await interaction.followup.send("that went wrong", ephemeral=True)

    @bot.tree.command(name="whisper", description="DM the caller", guild=guild)
    async def whisper(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("check your DMs", ephemeral=True)
        user = await bot.fetch_user(interaction.user.id)  # as a bot does when only the id is at hand
        await user.send("psst", file=discord.File(io.BytesIO(b"secret"), "note.txt"))

    @bot.tree.command(name="pick", description="Autocomplete a fruit", guild=guild)
    async def pick(interaction: discord.Interaction, fruit: str) -> None:
        await interaction.response.send_message(fruit)

    @pick.autocomplete("fruit")
    async def fruits(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f, value=f) for f in ("apple", "apricot", "banana") if f.startswith(current)]

    async def setup_hook() -> None:
        await bot.tree.sync(guild=guild)

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    return bot


@contextlib.asynccontextmanager
async def running(bot: commands.Bot, token: str) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(bot.start(token))
    try:
        yield task
    finally:
        await bot.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)


@pytest.fixture
async def double() -> AsyncIterator[FakeDiscord]:
    with preserve_discord_endpoints():
        async with FakeDiscord(token="right-token") as fake:
            # What MoodBot does from DISCORD_API_BASE / DISCORD_GATEWAY_URL.
            discord.http.Route.BASE = fake.api_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
            yield fake


async def test_bot_logs_in_syncs_and_serves_a_slash_command_with_an_attachment(double: FakeDiscord) -> None:
    bot = make_bot(int(double.guild_id))
    async with running(bot, "right-token"):
        await double.wait_until_identified()
        assert double.gateway_queries[0]["compress"] == "zlib-stream"  # and the bot read our compressed frames
        assert {c["name"] for c in double.guild_commands[double.guild_id]} == {"echo", "oops", "pick", "whisper"}
        echo = next(c for c in double.guild_commands[double.guild_id] if c["name"] == "echo")
        assert [(o["name"], o["type"]) for o in echo["options"]] == [("upload", 11), ("note", 3)]

        upload = double.upload("photo.png", b"\x89PNG-not-really")
        sent = await double.slash_command("echo", {"upload": upload, "note": "hi"})

        callback = await double.wait_for_callback(sent.id)
        assert callback.type == DEFERRED_CHANNEL_MESSAGE and not callback.ephemeral
        reply = await double.wait_for_followup(sent.token)
        assert reply.is_original and not reply.loading  # the first followup resolved the "thinking" message
        assert reply.embeds[0]["title"] == "photo.png: 15 bytes"
        assert reply.embeds[0]["description"] == "hi"
        copy = reply.file("copy.bin")
        assert copy.data == b"\x89PNG-not-really"[::-1]
        assert reply.embeds[0]["image"]["url"] == copy.url  # attachment:// resolved to the CDN
        assert reply.custom_ids() == ["echo:more", "echo:done"]


async def test_buttons_open_modals_and_modal_submissions_reach_the_bot(double: FakeDiscord) -> None:
    async with running(make_bot(int(double.guild_id)), "right-token"):
        await double.wait_until_identified()
        sent = await double.slash_command("echo", {"upload": double.upload("a.txt", b"abc")})
        reply = await double.wait_for_followup(sent.token)

        press = await double.press(reply, "echo:more")
        modal = await double.wait_for_callback(press.id)
        assert modal.type == MODAL and modal.data["title"] == "Tell me more"

        submit = await double.submit_modal(modal, {"echo:words": "rainy day"})
        answer = await double.wait_for_callback(submit.id)
        assert answer.type == CHANNEL_MESSAGE and answer.ephemeral
        assert answer.data["content"] == "you said: rainy day"
        original = await double.wait_for_original(submit.token)
        assert original.content == "you said: rainy day" and original.ephemeral


async def test_a_button_can_edit_the_message_it_sits_on(double: FakeDiscord) -> None:
    async with running(make_bot(int(double.guild_id)), "right-token"):
        await double.wait_until_identified()
        sent = await double.slash_command("echo", {"upload": double.upload("a.txt", b"abc")})
        reply = await double.wait_for_followup(sent.token)

        press = await double.press(reply, "echo:done")
        assert (await double.wait_for_callback(press.id)).type == UPDATE_MESSAGE
        edited = await double.wait_for_original(press.token, lambda m: m.content == "done twice")
        assert edited.id == reply.id and edited.components == [] and edited.edits == 3
        assert edited.file("copy.bin").data == b"cba"  # an edit that does not name the files keeps them


async def test_the_bot_can_look_up_a_user_and_send_a_dm(double: FakeDiscord) -> None:
    async with running(make_bot(int(double.guild_id)), "right-token"):
        await double.wait_until_identified()
        user = double.make_user("listener")
        sent = await double.slash_command("whisper", user=user)
        assert (await double.wait_for_callback(sent.id)).ephemeral

        dm = await double.wait_for_dm(user["id"])
        assert dm.content == "psst" and dm.token is None
        assert dm.file("note.txt").data == b"secret"
        assert ("GET", f"/api/v10/users/{user['id']}", 200) in [(r.method, r.path, r.status) for r in double.requests]


async def test_autocomplete_choices_come_back(double: FakeDiscord) -> None:
    async with running(make_bot(int(double.guild_id)), "right-token"):
        await double.wait_until_identified()
        sent = await double.autocomplete("pick", {"fruit": "ap"}, focused="fruit")
        callback = await double.wait_for_callback(sent.id)
        assert [c["value"] for c in callback.data["choices"]] == ["apple", "apricot"]


@pytest.mark.parametrize(("delete_first", "ephemeral"), [(False, False), (True, True)])
async def test_first_followup_after_a_public_deferral_is_public(
    double: FakeDiscord, delete_first: bool, ephemeral: bool
) -> None:
    """Discord ignores `ephemeral` on the first followup after a deferral; deleting the loading message first works."""
    async with running(make_bot(int(double.guild_id)), "right-token"):
        await double.wait_until_identified()
        sent = await double.slash_command("oops", {"delete_first": delete_first})
        assert [o["type"] for o in sent.payload["data"]["options"]] == [5]  # typed from the registered command
        reply = await double.wait_for_followup(sent.token)
        assert reply.content == "that went wrong"
        assert reply.ephemeral is ephemeral
        assert [m.content for m in double.replies(sent.token)] == ["that went wrong"]


async def test_a_wrong_token_fails_login(double: FakeDiscord) -> None:
    bot = make_bot(int(double.guild_id))
    with pytest.raises(discord.LoginFailure):
        await asyncio.wait_for(bot.login("wrong-token"), 10)
    await bot.close()
    assert double.requests[0].path == "/api/v10/users/@me" and double.requests[0].status == 401


async def test_rest_rules_a_bot_depends_on(double: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{double.api_base}/users/@me", headers={"Authorization": "Bot right-token"}) as r:
            assert r.headers["Content-Type"] == "application/json"  # exactly: discord.py parses nothing else
            assert (await r.json())["id"] == double.application_id
        async with http.get(f"{double.api_base}/users/@me", headers={"Authorization": "Bot nope"}) as r:
            assert r.status == 401
        unknown = f"{double.api_base}/webhooks/{double.application_id}/no-such-token"
        async with http.post(unknown, json={"content": "x"}) as r:
            assert r.status == 404 and (await r.json())["code"] == 10015


async def test_gateway_handshake_and_acknowledgement_rules_on_the_wire(double: FakeDiscord) -> None:
    """A raw websocket client in place of discord.py: HELLO, heartbeat ACK, READY, then one interaction's rules."""
    double.ack_deadline = 0.3
    async with aiohttp.ClientSession() as http, http.ws_connect(f"{double.gateway_url}?v=10&encoding=json") as ws:
        hello = await ws.receive_json(timeout=5)
        assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
        await ws.send_json({"op": 1, "d": None})
        assert (await ws.receive_json(timeout=5))["op"] == 11
        await ws.send_json({"op": 2, "d": {"token": "right-token", "intents": 0, "properties": {}}})
        ready = await ws.receive_json(timeout=5)
        assert (ready["op"], ready["t"], ready["s"]) == (0, "READY", 1)
        assert ready["d"]["application"]["id"] == double.application_id

        late = await double.slash_command("anything")
        event = await ws.receive_json(timeout=5)
        assert (event["t"], event["d"]["id"], event["d"]["data"]["name"]) == ("INTERACTION_CREATE", late.id, "anything")
        await asyncio.sleep(0.4)
        on_time = await double.slash_command("anything")
        body = {"type": 5}
        async with http.post(f"{double.api_base}/interactions/{late.id}/{late.token}/callback", json=body) as r:
            assert r.status == 404 and (await r.json())["code"] == 10062
        url = f"{double.api_base}/interactions/{on_time.id}/{on_time.token}/callback"
        async with http.post(url, json=body) as r:
            assert r.status == 204
        async with http.post(url, json=body) as r:
            assert r.status == 400 and (await r.json())["code"] == 40060


async def test_gateway_closes_4004_on_a_wrong_token(double: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(double.gateway_url) as ws:
        await ws.receive_json(timeout=5)
        await ws.send_str(json.dumps({"op": 2, "d": {"token": "wrong", "intents": 0, "properties": {}}}))
        closing = await ws.receive(timeout=5)
        assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == 4004
