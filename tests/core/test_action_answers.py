"""Replies that answer a prompt: a platform message bound to an action (Telegram's
ForceReply request) or a message carrying an answerable button (the Vary Region picker).
Bindings live in the actions table, so they survive a restart and die with the action."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from core.actions import ActionContext, ActionOutcome
from core.app import ChatCore
from core.storage.schema import utc_now
from tests.core.conftest import ANN, GROUP, PRIVATE, core_settings
from tests.fakes.gateway import FakeGateway


async def ping(ctx: ActionContext) -> ActionOutcome:
    return ActionOutcome(notice="pong")


async def test_a_bound_message_answers_its_action_after_a_restart(
        fake_gateway: FakeGateway, tmp_path: Path) -> None:
    settings = core_settings(fake_gateway, tmp_path / "answers.db")
    first = await ChatCore.create(settings)
    action_id = await first.actions.create("ask", {"n": 1}, chat=GROUP, owner_id=ANN.user_id,
                                           ttl=60)
    await first.actions.bind_message(action_id, GROUP, "555", accepts_mask=True)
    await first.close()

    second = await ChatCore.create(settings)
    try:
        assert await second.actions.bound_to(GROUP, "555") == {
            "action_id": action_id, "accepts_mask": True}
        assert await second.actions.bound_to(GROUP, "556") is None  # another message
        assert await second.actions.bound_to(PRIVATE, "555") is None  # another chat
        bound = (await second.actions.bound_to(GROUP, "555"))
        assert bound is not None
        assert (await second.run_action(bound["action_id"], GROUP, ANN)).alert  # no handler
        await second.actions.forget(action_id)  # used up: replies are ordinary again
        assert await second.actions.bound_to(GROUP, "555") is None
    finally:
        await second.close()


async def test_a_binding_expires_with_its_action(core: ChatCore) -> None:
    start = utc_now()
    core.actions.clock = lambda: start
    action_id = await core.actions.create("ask", {}, chat=PRIVATE, owner_id=ANN.user_id,
                                          ttl=60)
    await core.actions.bind_message(action_id, PRIVATE, "9")
    assert await core.actions.bound_to(PRIVATE, "9") == {"action_id": action_id,
                                                         "accepts_mask": False}
    core.actions.clock = lambda: start + timedelta(seconds=60)
    assert await core.actions.bound_to(PRIVATE, "9") is None
    await core.actions.bind_message("no-such-action", PRIVATE, "10")  # nothing stored
    core.actions.clock = lambda: start
    assert await core.actions.bound_to(PRIVATE, "10") is None


async def test_a_reply_to_a_message_with_an_answerable_button_answers_it(
        core: ChatCore) -> None:
    core.actions.register("ping", ping)
    core.actions.register("pick", ping)
    core.actions.register_answer("pick", accepts_mask=True)
    plain, pick = await core.actions.create_many([("ping", {}), ("pick", {})], chat=GROUP,
                                                 owner_id=ANN.user_id)

    assert await core.actions.bound_to(GROUP, "1", [plain, "bad id!", pick]) == {
        "action_id": pick, "accepts_mask": True}
    assert await core.actions.bound_to(GROUP, "1", [plain]) is None
    assert await core.actions.bound_to(PRIVATE, "1", [pick]) is None  # another chat
