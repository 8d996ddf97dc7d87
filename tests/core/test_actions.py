"""Buttons (actions): a user presses a button → the core runs it, or says politely why not."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from core.actions import ActionContext, ActionOutcome
from core.app import ChatCore
from core.continue_action import continue_actions
from core.conversation.inputs import UserMessage
from core.conversation.keys import Actor, ChatRef
from core.conversation.tickets import TurnTicket
from core.errors import UserInputError
from core.events import TurnFinal
from core.parts import ACTION_ID_MAX
from core.storage.schema import utc_now
from tests.core.conftest import ANN, BOB, GROUP, PRIVATE, CoreFactory, core_settings
from tests.core.conversation.test_turns import history
from tests.fakes.gateway import FakeGateway

ADMIN = Actor("test", "9", "Ada", "en", is_chat_admin=True)
OWNER = Actor("test", "77", "Olga", "en")  # a bot admin (ADMIN_IDS), not a chat admin


async def ping(ctx: ActionContext) -> ActionOutcome:
    return ActionOutcome(notice=f"pong {ctx.actor.name} {ctx.payload['n']} owner={ctx.owner_id}")


async def test_a_button_still_works_after_a_restart(fake_gateway: FakeGateway,
                                                    tmp_path: Path) -> None:
    settings = core_settings(fake_gateway, tmp_path / "restart.db")
    first = await ChatCore.create(settings)
    first.actions.register("ping", ping)
    ping_id = await first.actions.create("ping", {"n": 7}, chat=PRIVATE, owner_id=ANN.user_id)
    menu = await first.run_command("model", {}, PRIVATE, ANN)
    zhipu = next(a for row in menu.actions for a in row if a.label.endswith("Zhipu"))
    models = (await first.run_action(zhipu.action_id, PRIVATE, ANN)).reply
    assert models is not None
    glm = next(a for row in models.actions for a in row if a.label == "glm-4")
    await first.close()

    second = await ChatCore.create(settings)
    try:
        second.actions.register("ping", ping)
        pressed = await second.run_action(ping_id, PRIVATE, ANN)
        assert pressed == ActionOutcome(notice="pong Ann 7 owner=1")
        picked = await second.run_action(glm.action_id, PRIVATE, ANN)
        assert picked.replace and picked.reply is not None and "glm-4" in picked.reply.text
        assert (await second.current_model(PRIVATE, ANN)).name == "glm-4"
    finally:
        await second.close()


async def test_action_ids_are_short_url_safe_and_unique(core: ChatCore) -> None:
    core.actions.register("ping", ping)
    ids = [await core.actions.create("ping", {"n": i}, chat=PRIVATE, owner_id="1")
           for i in range(50)]
    assert len(set(ids)) == 50
    assert all(len(i) <= ACTION_ID_MAX and i.replace("-", "").replace("_", "").isalnum()
               for i in ids)


async def test_requester_buttons_answer_only_the_requester(core: ChatCore) -> None:
    core.actions.register("ping", ping)
    action_id = await core.actions.create("ping", {"n": 1}, chat=GROUP, owner_id=ANN.user_id)
    refused = await core.run_action(action_id, GROUP, BOB)  # Bob reads Chinese
    assert refused == ActionOutcome(notice="只有提问的人可以使用这个按钮。", alert=True)
    refused_en = await core.run_action(action_id, GROUP, ADMIN)
    assert refused_en.notice == "Only the person who asked can use this button."
    assert (await core.run_action(action_id, GROUP, ANN)).notice == "pong Ann 1 owner=1"


async def test_anyone_buttons_answer_everybody(core: ChatCore) -> None:
    core.actions.register("ping", ping)
    action_id = await core.actions.create("ping", {"n": 2}, chat=GROUP, owner_id=ANN.user_id,
                                          who="anyone")
    assert (await core.run_action(action_id, GROUP, BOB)).notice == "pong Bob 2 owner=1"


async def test_admin_buttons_answer_chat_and_bot_admins(make_core: CoreFactory) -> None:
    core = await make_core(admin_ids=["77"])
    core.actions.register("ping", ping)
    action_id = await core.actions.create("ping", {"n": 3}, chat=GROUP, owner_id=ANN.user_id,
                                          who="admins")
    refused = await core.run_action(action_id, GROUP, ANN)  # the requester is no admin
    assert refused == ActionOutcome(notice="Only chat admins can use this button.", alert=True)
    assert (await core.run_action(action_id, GROUP, BOB)).notice == "只有群管理员可以使用这个按钮。"
    assert (await core.run_action(action_id, GROUP, ADMIN)).notice == "pong Ada 3 owner=1"
    assert (await core.run_action(action_id, GROUP, OWNER)).notice == "pong Olga 3 owner=1"
    private = await core.actions.create("ping", {"n": 4}, chat=PRIVATE, owner_id=ANN.user_id,
                                        who="admins")
    assert (await core.run_action(private, PRIVATE, ANN)).notice == "pong Ann 4 owner=1"


async def test_expired_buttons_say_so(core: ChatCore) -> None:
    core.actions.register("ping", ping)
    start = utc_now()
    core.actions.clock = lambda: start
    action_id = await core.actions.create("ping", {"n": 5}, chat=PRIVATE,
                                          owner_id=ANN.user_id, ttl=60)
    core.actions.clock = lambda: start + timedelta(seconds=59)
    assert (await core.run_action(action_id, PRIVATE, ANN)).notice == "pong Ann 5 owner=1"
    core.actions.clock = lambda: start + timedelta(seconds=60)
    expired = await core.run_action(action_id, PRIVATE, ANN)
    assert expired == ActionOutcome(
        notice="This button has expired. Please run the command again.", alert=True)
    zh = await core.run_action(action_id, PRIVATE, Actor("test", "1", "Ann", "zh"))
    assert zh.notice == "这个按钮已过期,请重新发送命令。"
    kept = await core.actions.create("ping", {"n": 6}, chat=PRIVATE, owner_id=ANN.user_id)
    assert await core.actions.purge_expired() == 1  # the expired row only
    gone = await core.run_action(action_id, PRIVATE, ANN)
    assert gone.notice == "This button is no longer available."
    assert (await core.run_action(kept, PRIVATE, ANN)).notice == "pong Ann 6 owner=1"


async def test_unknown_and_foreign_ids_get_a_polite_notice(core: ChatCore) -> None:
    core.actions.register("ping", ping)
    elsewhere = await core.actions.create("ping", {"n": 8}, chat=GROUP, owner_id=ANN.user_id,
                                          who="anyone")
    other_platform = ChatRef("other", GROUP.chat_id)
    unknown_en = ActionOutcome(notice="This button is no longer available.", alert=True)
    for action_id, chat in [("nope", PRIVATE), ("x" * 100, PRIVATE), ("bad id!", PRIVATE),
                            ("", PRIVATE), (elsewhere, PRIVATE), (elsewhere, other_platform)]:
        assert await core.run_action(action_id, chat, ANN) == unknown_en, action_id
    assert (await core.run_action("nope", PRIVATE, BOB)).notice == "这个按钮已失效。"
    orphan = await core.actions.create("gone.kind", {}, chat=PRIVATE, owner_id=ANN.user_id)
    assert await core.run_action(orphan, PRIVATE, ANN) == unknown_en  # no handler (any more)


async def test_a_handler_error_becomes_a_localized_alert(core: ChatCore) -> None:
    async def strict(ctx: ActionContext) -> ActionOutcome:
        raise UserInputError("error.bad_number", param="n", min=0, max=2)

    async def broken(ctx: ActionContext) -> ActionOutcome:
        raise RuntimeError("boom")

    core.actions.register("strict", strict)
    core.actions.register("broken", broken)
    strict_id = await core.actions.create("strict", {}, chat=PRIVATE, owner_id=ANN.user_id)
    refused = await core.run_action(strict_id, PRIVATE, ANN)
    assert refused.alert and "between 0 and 2" in refused.notice
    broken_id = await core.actions.create("broken", {}, chat=PRIVATE, owner_id=ANN.user_id)
    failed = await core.run_action(broken_id, PRIVATE, ANN)
    assert failed == ActionOutcome(notice="Something went wrong on our side. Please try again.",
                                   alert=True)


async def test_unknown_who_is_refused_at_creation(core: ChatCore) -> None:
    try:
        await core.actions.create("ping", {}, chat=PRIVATE, owner_id="1",
                                  who="everyone")  # type: ignore[arg-type]
    except ValueError as error:
        assert "everyone" in str(error)
    else:
        raise AssertionError("who='everyone' was accepted")


async def test_continue_button_runs_continue_turn_once(
        core: ChatCore, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[ChatRef, Actor]] = []

    async def continue_turn(chat: ChatRef, actor: Actor) -> TurnTicket:
        calls.append((chat, actor))
        return await core.submit(chat, actor, UserMessage(text="go on"))

    monkeypatch.setattr(core, "continue_turn", continue_turn, raising=False)
    rows = await continue_actions(core.actions, PRIVATE, ANN.user_id, "en")
    (button,), = rows
    assert (button.label, button.icon, button.who) == ("Continue", "▶️", "requester")
    assert (await core.run_action(button.action_id, PRIVATE, BOB)).notice.startswith("只有")
    outcome = await core.run_action(button.action_id, PRIVATE, ANN)
    assert calls == [(PRIVATE, ANN)]
    assert outcome.ticket is not None and isinstance(await outcome.ticket.wait(), TurnFinal)
    again = await core.run_action(button.action_id, PRIVATE, ANN)
    assert again == ActionOutcome(notice="This button is no longer available.", alert=True)
    assert calls == [(PRIVATE, ANN)]


async def test_continue_button_without_continue_turn_asks_the_model_to_continue(
        core: ChatCore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core, "continue_turn", None, raising=False)
    (button,), = await continue_actions(core.actions, PRIVATE, ANN.user_id, "en")
    outcome = await core.run_action(button.action_id, PRIVATE, ANN)
    assert outcome.ticket is not None and isinstance(await outcome.ticket.wait(), TurnFinal)
    assert (await history(core))[0] == (
        "user", "Please continue exactly where your last answer stopped.")


async def test_expired_actions_are_purged_while_creating_more(core: ChatCore) -> None:
    core.actions.register("ping", ping)
    core.actions.purge_every = 3
    old = await core.actions.create("ping", {"n": 1}, chat=PRIVATE, owner_id="1", ttl=-1)
    assert (await core.run_action(old, PRIVATE, ANN)).notice.startswith("This button has exp")
    await core.actions.create("ping", {"n": 2}, chat=PRIVATE, owner_id="1")
    assert (await core.run_action(old, PRIVATE, ANN)).notice.startswith("This button has exp")
    await core.actions.create("ping", {"n": 3}, chat=PRIVATE, owner_id="1")  # the 3rd: purge
    assert (await core.run_action(old, PRIVATE, ANN)).notice.startswith("This button is no")
