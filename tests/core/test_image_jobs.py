"""Image jobs in a chat: daily allowance, chat settings, who may press result buttons."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.actions import ActionContext, ActionOutcome
from core.app import ChatCore
from core.conversation.keys import Actor, ChatRef
from core.conversation.tickets import TurnTicket
from core.events import PartShown, PartUpdated
from core.image_jobs import ImageAllowanceExceeded, queued_progress, report_position
from core.metering import CallInfo
from core.parts import PartUpdate
from core.storage.schema import utc_now
from tests.core.conftest import ANN, BOB, GROUP, PRIVATE, CoreFactory

ADMIN = Actor("test", "9", "Ada", "en", is_chat_admin=True)
CAT = Actor("test", "3", "Cat", "en")


async def make_image(core: ChatCore, actor: Actor, chat: ChatRef = GROUP, *,
                     fail: bool = False, units: int = 1) -> None:
    """One image job the way the image services run it: slot, then a metered call."""
    info = CallInfo("image", "dall-e-3", chat, actor, estimate=units, unit="images")
    async with (core.image_jobs.slot(chat, actor, "image", units=units),
                core.metering.call(info) as meter):
        if fail:
            raise RuntimeError("gateway failed")
        meter.count(units, "images")


async def refusal(core: ChatCore, actor: Actor, lang: str, chat: ChatRef = GROUP,
                  units: int = 1) -> str:
    with pytest.raises(ImageAllowanceExceeded) as caught:
        await make_image(core, actor, chat, units=units)
    return core.error_text(caught.value, lang)


async def test_allowance_then_a_polite_refusal_in_both_languages(make_core: CoreFactory
                                                                  ) -> None:
    core = await make_core(image_daily_allowance=2)
    # today 21:30 UTC: 2 h 30 min before the allowance resets
    core.image_jobs.allowance.clock = lambda: utc_now().replace(hour=21, minute=30, second=0)
    await make_image(core, ANN)
    await make_image(core, ANN)
    assert await refusal(core, ANN, "en") == (
        "You have used your 2 images for today (2 of 2, including jobs in progress). "
        "The allowance resets at 00:00 UTC, in 2 h 30 min.")
    await make_image(core, BOB)  # Bob's own allowance
    await make_image(core, BOB)
    assert await refusal(core, BOB, "zh") == (
        "你今天的 2 张图片额度已用完(已用 2/2,含进行中的任务)。额度将在 UTC 00:00 重置,"
        "还有 2 小时 30 分钟。")
    assert await core.image_jobs.allowance.used_today(ANN) == 2


async def test_failed_jobs_give_the_image_back_and_midnight_resets(make_core: CoreFactory
                                                                   ) -> None:
    core = await make_core(image_daily_allowance=1)
    with pytest.raises(RuntimeError):
        await make_image(core, ANN, fail=True)
    await make_image(core, ANN)  # the failed one did not count
    with pytest.raises(ImageAllowanceExceeded):
        await make_image(core, ANN, PRIVATE)  # counted over all of Ann's chats
    tomorrow = utc_now().replace(hour=0, minute=5) + timedelta(days=1)
    core.image_jobs.allowance.clock = lambda: tomorrow
    await make_image(core, ANN)


async def test_a_job_asking_more_than_is_left(make_core: CoreFactory) -> None:
    core = await make_core(image_daily_allowance=5)
    core.image_jobs.allowance.clock = lambda: utc_now().replace(hour=23, minute=0, second=1)
    await make_image(core, ANN, units=3)
    assert await refusal(core, ANN, "en", units=4) == (
        "This needs 4 images but only 2 of your 5 images for today are left (3 used, "
        "including jobs in progress). The allowance resets at 00:00 UTC, in 1 h 0 min.")
    await make_image(core, ANN, units=2)


async def test_zero_means_unlimited(make_core: CoreFactory) -> None:
    core = await make_core(image_daily_allowance=0)
    for _ in range(3):
        await make_image(core, ANN)
    assert await core.image_jobs.allowance.used_today(ANN) == 3


async def test_two_jobs_racing_for_the_last_image_one_passes(make_core: CoreFactory) -> None:
    core = await make_core(image_daily_allowance=2, image_jobs_per_user=0)
    await make_image(core, ANN)
    gate = asyncio.Event()

    async def job() -> str:
        async with core.image_jobs.slot(GROUP, ANN, "image"):
            await gate.wait()
            return "ran"

    racers = [asyncio.create_task(job()) for _ in range(3)]
    done, _ = await asyncio.wait(racers, return_when=asyncio.FIRST_COMPLETED)
    while len(done) < 2:  # two refusals come back while the winner waits at its gate
        more, _ = await asyncio.wait([r for r in racers if r not in done],
                                     return_when=asyncio.FIRST_COMPLETED)
        done |= more
    assert all(isinstance(r.exception(), ImageAllowanceExceeded) for r in done)
    assert core.image_jobs.allowance.reserved(ANN) == 1
    gate.set()
    results = await asyncio.gather(*racers, return_exceptions=True)
    assert sum(result == "ran" for result in results) == 1
    assert core.image_jobs.allowance.reserved(ANN) == 0


async def test_a_queued_job_holds_its_image(make_core: CoreFactory) -> None:
    core = await make_core(image_daily_allowance=2)
    gate = asyncio.Event()
    ticket = TurnTicket("en", lambda _: None)

    async def job(on_position: bool) -> None:
        callback = report_position(ticket, shown=False) if on_position else None
        async with core.image_jobs.slot(GROUP, ANN, "image", on_position=callback):
            await gate.wait()

    first = asyncio.create_task(job(False))
    second = asyncio.create_task(job(True))  # waits: one job per user by default
    event = await asyncio.wait_for(anext(ticket), 10)
    assert event == PartShown(queued_progress(1))
    with pytest.raises(ImageAllowanceExceeded):  # 1 running + 1 queued = 2 of 2
        await make_image(core, ANN)
    second.cancel()  # cancelling the queued job gives its image back
    with pytest.raises(asyncio.CancelledError):
        await second
    gate.set()
    await first
    assert core.image_jobs.allowance.reserved(ANN) == 0


async def test_queue_positions_update_the_progress_in_place(core: ChatCore) -> None:
    ticket = TurnTicket("en", lambda _: None)
    report = report_position(ticket)
    await report(2)
    await report(1)
    assert [ticket._events.get_nowait() for _ in range(2)] == [
        PartUpdated(PartUpdate("job", queued_progress(2))),
        PartUpdated(PartUpdate("job", queued_progress(1))),
    ]
    assert core.t("image.queued", "zh", position=3) == "⏳ 排队中:第 3 位"


async def test_chat_admins_override_the_allowance(core: ChatCore) -> None:
    set_by_admin = await core.run_command_text("/settings image_daily_allowance 1 chat",
                                               GROUP, ADMIN)
    assert set_by_admin is not None and not set_by_admin.is_error
    assert "`1`" in set_by_admin.text and "for this chat" in set_by_admin.text
    refused = await core.run_command_text("/settings image_daily_allowance 100 chat", GROUP, BOB)
    assert refused is not None and refused.is_error and refused.text == "只有群管理员可以这样做。"
    # without "chat" it is still the chat's setting: a user cannot lift their own limit
    own = await core.run_command_text("/settings image_daily_allowance 100", GROUP, ANN)
    assert own is not None and own.text == "Only chat admins can do that."
    private = await core.run_command_text("/settings image_daily_allowance 100", PRIVATE, ANN)
    assert private is not None and private.text == "Only the bot's owners can do that."

    await make_image(core, ANN)
    assert "(1 of 1," in await refusal(core, ANN, "en")
    await make_image(core, ANN, PRIVATE)  # elsewhere the default (20) applies
    shown = await core.run_command("settings", {}, GROUP, ANN)
    assert ("• `image_daily_allowance` = `1` — images per user per day (0 = unlimited) "
            "(chat setting)") in shown.text


@pytest.mark.parametrize("name, value, text", [
    ("image_daily_allowance", "-1",
     "image_daily_allowance must be a whole number from 0 to 100000."),
    ("image_jobs_per_chat", "2.5", "image_jobs_per_chat must be a whole number from 0 to 100000."),
    ("image_jobs_per_user", "lots",
     "image_jobs_per_user must be a whole number from 0 to 100000."),
    ("image_buttons", "everyone", "image_buttons must be one of: requester, anyone"),
])
async def test_bad_image_setting_values(core: ChatCore, name: str, value: str,
                                        text: str) -> None:
    reply = await core.run_command_text(f"/settings {name} {value} chat", GROUP, ADMIN)
    assert reply is not None and reply.is_error and reply.text == text


async def test_queue_limits_follow_the_chat_settings(core: ChatCore) -> None:
    await core.run_command_text("/settings image_jobs_per_user 2 chat", GROUP, ADMIN)
    gate = asyncio.Event()
    started: list[int] = []

    async def job(n: int) -> None:
        async with core.image_jobs.slot(GROUP, ANN, "image"):
            started.append(n)
            await gate.wait()

    tasks = [asyncio.create_task(job(n)) for n in range(3)]
    async with asyncio.timeout(10):  # (the allowance reads the ledger in a thread)
        while not (len(started) == 2 and core.image_jobs.queue.waiting(GROUP) == 1):
            await asyncio.sleep(0.01)
    assert core.image_jobs.queue.running(GROUP) == 2  # per chat 2 (default), per user 2
    gate.set()
    await asyncio.gather(*tasks)
    assert sorted(started) == [0, 1, 2]


async def press_ok(ctx: ActionContext) -> ActionOutcome:
    return ActionOutcome(notice=f"upscaled for {ctx.actor.name}")


async def test_image_buttons_requester_by_default_anyone_when_set(core: ChatCore) -> None:
    core.actions.register("image.upscale", press_ok)
    who = await core.images_button_who(GROUP)
    assert who == "requester"
    mine = await core.actions.create("image.upscale", {}, chat=GROUP, owner_id=ANN.user_id,
                                     who=who)
    assert await core.run_action(mine, GROUP, CAT) == ActionOutcome(
        notice="Only the person who asked can use this button.", alert=True)
    assert (await core.run_action(mine, GROUP, BOB)).notice == "只有提问的人可以使用这个按钮。"
    assert (await core.run_action(mine, GROUP, ANN)).notice == "upscaled for Ann"

    await core.run_command_text("/settings image_buttons anyone chat", GROUP, ADMIN)
    who = await core.images_button_who(GROUP)
    assert who == "anyone"
    shared = await core.actions.create("image.upscale", {}, chat=GROUP, owner_id=ANN.user_id,
                                       who=who)
    assert (await core.run_action(shared, GROUP, CAT)).notice == "upscaled for Cat"
    assert await core.images_button_who(ChatRef("test", "-700")) == "requester"


async def test_result_buttons_follow_the_chat_setting_at_press_time(core: ChatCore) -> None:
    core.actions.register("image.upscale", press_ok, who=core.images_button_who)
    made_before = await core.actions.create("image.upscale", {}, chat=GROUP,
                                            owner_id=ANN.user_id, who="requester")
    assert (await core.run_action(made_before, GROUP, CAT)).notice == (
        "Only the person who asked can use this button.")
    refused = await core.run_command_text("/settings image_buttons anyone chat", GROUP, BOB)
    assert refused is not None and refused.is_error and refused.text == "只有群管理员可以这样做。"
    await core.run_command_text("/settings image_buttons anyone chat", GROUP, ADMIN)
    assert (await core.run_action(made_before, GROUP, CAT)).notice == "upscaled for Cat"
    await core.run_command_text("/settings image_buttons requester chat", GROUP, ADMIN)
    assert (await core.run_action(made_before, GROUP, CAT)).alert
    assert (await core.run_action(made_before, GROUP, ANN)).notice == "upscaled for Ann"
