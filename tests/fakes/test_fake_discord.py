"""Self-tests: the REAL discord.py client against ``FakeDiscord``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.fakes.discord import FakeDiscord

USER = 4242
ADMIN = 4343


def make_client(**kw: Any) -> discord.Client:
    """A plain client with message content; fast on_ready."""
    intents = discord.Intents.default()
    intents.message_content = True
    return discord.Client(intents=intents, guild_ready_timeout=0.1, **kw)


@contextlib.asynccontextmanager
async def running(fake: FakeDiscord, client: discord.Client) -> AsyncIterator[discord.Client]:
    """Start ``client`` against the fake, wait for on_ready, close it cleanly afterwards."""
    task = asyncio.create_task(client.start(fake.token))
    try:
        await fake.wait_ready()
        await asyncio.wait_for(client.wait_until_ready(), 5)
        yield client
    finally:
        await client.close()
        await asyncio.wait_for(task, 5)


async def test_login_ready_and_guild(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    client = make_client()
    readies: list[bool] = []
    client.event(_named("on_ready", lambda: readies.append(True)))
    async with running(fake, client):
        assert readies == [True]
        assert client.user is not None and client.user.id == fake.bot_user_id
        guild = client.get_guild(fake.guild_id)
        assert guild is not None and guild.me is not None
        channel = guild.get_channel(fake.text_channel_id)
        assert isinstance(channel, discord.TextChannel)
        assert channel.permissions_for(guild.me).send_messages
        assert channel.permissions_for(guild.me).create_public_threads
        assert client.application_id == fake.app_id
    assert [c.path for c in fake.calls[:2]] == ["/users/@me", "/oauth2/applications/@me"]


async def test_bad_token_fails_login(fake_discord: FakeDiscord) -> None:
    client = make_client()
    with pytest.raises(discord.LoginFailure):
        await client.login("wrong")
    await client.close()


async def test_message_reply_attachment_and_dm(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    client = make_client()
    seen: list[discord.Message] = []

    @client.event
    async def on_message(message: discord.Message) -> None:
        if message.author == client.user:
            return
        seen.append(message)
        body = b""
        if message.attachments:
            body = await message.attachments[0].read()
        text = f"echo: {message.content} {body.decode()}".strip()
        await message.reply(text, file=discord.File(__file__, "src.py"))

    async with running(fake, client):
        ch = fake.text_channel_id
        sent = await fake.user_sends(ch, USER, "hi", mention_bot=True,
                                     attachments=[("a.txt", b"DATA", "text/plain")])
        await fake.wait_until(lambda: fake.channel_messages(ch))
        msg = seen[0]
        assert msg.guild is not None and isinstance(msg.author, discord.Member)
        assert client.user in msg.mentions and msg.content == f"<@{fake.bot_user_id}> hi"
        reply = fake.channel_messages(ch)[0]
        assert reply.content == f"echo: <@{fake.bot_user_id}> hi DATA"
        assert reply.reference_id == sent.id
        assert reply.attachments[0]["filename"] == "src.py"
        assert reply.file_bytes("src.py").startswith(b'"""Self-tests')
        # a reply to the bot's message resolves referenced_message
        await fake.user_sends(ch, USER, "more", reply_to=reply.id)
        await fake.wait_until(lambda: len(seen) == 2)
        assert seen[1].reference is not None and seen[1].reference.message_id == reply.id
        assert isinstance(seen[1].reference.resolved, discord.Message)
        # DM
        dm = fake.dm_channel_id(USER)
        await fake.user_sends(dm, USER, "private")
        await fake.wait_until(lambda: fake.channel_messages(dm))
        assert isinstance(seen[2].channel, discord.DMChannel) and seen[2].guild is None
        assert fake.channel_messages(dm)[0].content == "echo: private"
        # bot-initiated DM via POST /users/@me/channels
        user = await client.fetch_user(USER)
        await user.send("ping")
        assert fake.channel_messages(dm)[-1].content == "ping"


async def test_message_content_intent_is_enforced(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.1)
    contents: list[str] = []
    client.event(_named("on_message", lambda m: contents.append(m.content)))
    async with running(fake, client):
        await fake.user_sends(fake.text_channel_id, USER, "secret")
        await fake.user_sends(fake.text_channel_id, USER, "hey", mention_bot=True)
        await fake.wait_until(lambda: len(contents) == 2)
    assert contents == ["", f"<@{fake.bot_user_id}> hey"]


def build_tree(client: discord.Client, guild: discord.Object,
               admins: list[bool]) -> app_commands.CommandTree:
    """Commands: /ask (defer + follow-up + edit), /secret (ephemeral), /model (autocomplete)."""
    tree = app_commands.CommandTree(client)

    @tree.command(name="ask", description="ask", guild=guild)
    async def ask(interaction: discord.Interaction, prompt: str, n: int = 1,
                  file: discord.Attachment | None = None) -> None:
        await interaction.response.defer(thinking=True)
        extra = (await file.read()).decode() if file else ""
        await interaction.followup.send(f"thinking about {prompt} x{n}{extra}")
        await interaction.edit_original_response(content=f"answer: {prompt}")
        await interaction.followup.send("second")

    @tree.command(name="secret", description="secret", guild=guild)
    async def secret(interaction: discord.Interaction) -> None:
        admins.append(interaction.permissions.administrator)
        await interaction.response.send_message("only you", ephemeral=True)

    @tree.command(name="model", description="pick", guild=guild)
    async def model(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(name)

    @model.autocomplete("name")
    async def model_ac(interaction: discord.Interaction, current: str) -> list[
            app_commands.Choice[str]]:
        names = ["gpt-4o", "gpt-4o-mini", "claude"]
        return [app_commands.Choice(name=n, value=n) for n in names if current in n]

    return tree


async def test_slash_commands(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    client = make_client()
    guild = discord.Object(fake.guild_id)
    admins: list[bool] = []
    tree = build_tree(client, guild, admins)
    fake.add_member(ADMIN, "boss", roles=[fake.admin_role_id])
    async with running(fake, client):
        synced = await tree.sync(guild=guild)
        assert {c.name for c in synced} == {"ask", "secret", "model"}
        scope = f"guild:{fake.guild_id}"
        assert [c["name"] for c in fake.synced_commands[scope]] == ["ask", "secret", "model"]
        again = await tree.sync(guild=guild)
        assert [c.id for c in again] == [c.id for c in synced]  # ids stable per name

        inter = await fake.slash("ask", {"prompt": "life", "n": 3},
                                 attachments={"file": ("f.txt", b"!", "text/plain")},
                                 user_id=USER)
        await inter.wait_responses(4)
        assert [(r.kind, r.type) for r in inter.responses] == [
            ("callback", 5), ("followup", None), ("edit_original", None), ("followup", None)]
        assert inter.original is not None and inter.original.content == "answer: life"
        assert not inter.original.loading and inter.original.history[1] == "thinking about life x3!"
        assert [m.content for m in inter.followups] == ["answer: life", "second"]
        assert [m.content for m in fake.channel_messages(fake.text_channel_id)] == [
            "answer: life", "second"]

        eph = await fake.slash("secret", user_id=USER)
        await eph.wait_responses(1)
        assert eph.callback is not None and eph.callback.type == 4 and eph.callback.flags == 64
        assert eph.ephemeral and eph.original is not None and eph.original.content == "only you"
        assert len(fake.channel_messages(fake.text_channel_id)) == 2  # ephemeral not listed
        boss = await fake.slash("secret", user_id=ADMIN)
        await boss.wait_responses(1)
        assert admins == [False, True]

        choices = await fake.autocomplete("model", "name", "gpt", user_id=USER)
        assert [c["value"] for c in choices] == ["gpt-4o", "gpt-4o-mini"]

        # a second callback is refused like Discord does (discord.py checks locally first)
        async with aiohttp.ClientSession() as http:
            url = f"{fake.api_base}/interactions/{eph.id}/{eph.token}/callback"
            async with http.post(url, json={"type": 4, "data": {"content": "x"}}) as resp:
                assert resp.status == 400 and (await resp.json())["code"] == 40060


async def test_interaction_deadline(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    fake.interaction_deadline = 0.2
    client = make_client()
    tree = app_commands.CommandTree(client)
    errors: list[int] = []

    @tree.command(name="hello", description="hello")
    async def hello(interaction: discord.Interaction) -> None:
        assert isinstance(interaction.channel, discord.DMChannel)
        await interaction.response.send_message(f"hi {interaction.user.id}")

    @tree.command(name="slow", description="slow")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.3)
        try:
            await interaction.response.send_message("late")
        except discord.NotFound as exc:
            errors.append(exc.code)

    async with running(fake, client):
        await tree.sync()
        inter = await fake.slash("slow", user_id=USER)
        await fake.wait_until(lambda: errors)
        assert errors == [10062] and not inter.acknowledged and inter.expired
        dm = await fake.slash("hello", user_id=USER, guild=False)
        await dm.wait_responses(1)
        assert dm.original is not None and dm.original.content == f"hi {USER}"
        assert dm.original.channel_id == fake.dm_channel_id(USER) and dm.guild_id is None


async def test_button_click_reaches_view(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    client = make_client()
    clicked: list[int] = []

    class Confirm(discord.ui.View):
        @discord.ui.button(label="OK", custom_id="ok")
        async def ok(
            self, interaction: discord.Interaction, button: discord.ui.Button[Any]
        ) -> None:
            clicked.append(interaction.user.id)
            await interaction.response.edit_message(content="confirmed", view=None)

    async with running(fake, client):
        channel = client.get_channel(fake.text_channel_id)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("confirm?", view=Confirm())
        stored = fake.channel_messages(fake.text_channel_id)[0]
        assert stored.components[0]["components"][0]["custom_id"] == "ok"
        inter = await fake.click(sent.id, "ok", user_id=USER)
        await inter.wait_responses(1)
        assert clicked == [USER] and inter.callback is not None and inter.callback.type == 7
        assert stored.content == "confirmed" and stored.components == [] and stored.edits == 1


async def test_too_long_threads_typing(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    client = make_client()
    async with running(fake, client):
        channel = client.get_channel(fake.text_channel_id)
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.HTTPException) as err:
            await channel.send("x" * 2001)
        assert err.value.status == 400 and err.value.code == 50035
        assert "content" in str(err.value)
        msg = await channel.send("x" * 2000)
        async with channel.typing():
            pass
        assert fake.typing == [channel.id]
        thread = await msg.create_thread(name="talk")
        assert thread.id == msg.id and thread.parent_id == channel.id
        assert fake.threads_created[0].name == "talk"
        await fake.wait_until(lambda: client.get_channel(thread.id) is not None)
        await thread.send("in thread")
        assert fake.channel_messages(thread.id)[0].content == "in thread"
        other = await channel.create_thread(name="solo", type=discord.ChannelType.public_thread)
        assert fake.threads_created[1].type == 11 and other.name == "solo"


@pytest.mark.parametrize("advertise", [False, True])
async def test_edit_burst_is_rate_limited_and_lands(fake_discord: FakeDiscord,
                                                    advertise: bool) -> None:
    fake = fake_discord
    fake.limits.window = 0.4
    fake.limits.advertise_headers = advertise
    client = make_client()
    async with running(fake, client):
        channel = client.get_channel(fake.text_channel_id)
        assert isinstance(channel, discord.TextChannel)
        msg = await channel.send("0")
        await asyncio.gather(*(msg.edit(content=f"edit {i}") for i in range(7)))
        stored = fake.channel_messages(fake.text_channel_id)[0]
        assert stored.edits == 7
        if advertise:  # discord.py pre-empts from X-RateLimit-* headers: no 429 at all
            assert fake.rate_limited == 0
        else:  # 429 + Via: discord.py sleeps retry_after and retries
            assert fake.rate_limited >= 1
            assert any(c.status == 429 for c in fake.calls)


async def test_reconnect_resumes(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    client = make_client()
    contents: list[str] = []
    resumed = asyncio.Event()
    client.event(_named("on_message", lambda m: contents.append(m.content)))
    client.event(_named("on_resumed", resumed.set))
    async with running(fake, client):
        await fake.request_reconnect()
        await asyncio.wait_for(resumed.wait(), 5)
        await fake.user_sends(fake.text_channel_id, USER, "after")
        await fake.wait_until(lambda: contents == ["after"])
        assert fake.gateway.resumes == 1 and fake.gateway.identifies == 1


def _named(name: str, fn: Any) -> Any:
    """Wrap a sync callable as a coroutine event handler called ``name``."""

    async def handler(*args: Any) -> None:
        fn(*args)

    handler.__name__ = name
    return handler
