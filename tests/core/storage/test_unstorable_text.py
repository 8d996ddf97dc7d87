"""Text from outside (users, models, tools, gateways) may hold NUL or a lone UTF-16
surrogate (a JSON "\\u0000" / "\\ud800" escape decodes to one). UTF-8 cannot encode a
surrogate and PostgreSQL text/jsonb cannot hold NUL, so one such character used to fail
a whole turn's write. Every column of outside text stores it as U+FFFD instead
(``core.storage.schema.CleanText``/``CleanJSON``), on both backends."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from core.events import Usage
from core.storage import NewMessage, ScopeKey, Store, UsageRecord
from core.storage.actions_repo import StoredAction
from core.storage.mj_tasks_repo import MjTaskRow
from core.storage.schema import clean_json, usage_ledger, utc_now

BAD = ["nul\x00here", "lone \ud800 high", "lone \udfff low", "pair 😀 \x00 \udc00"]
CLEAN = ["nul\ufffdhere", "lone \ufffd high", "lone \ufffd low", "pair 😀 \ufffd \ufffd"]


@pytest.mark.parametrize(("bad", "clean"), list(zip(BAD, CLEAN, strict=True)))
async def test_a_turn_with_unstorable_characters_in_any_field_is_stored(
        store: Store, bad: str, clean: str) -> None:
    """A tool's output, its call's arguments and name, a document's name: the turn is
    stored whole, with U+FFFD in place of the bad characters."""
    conversation_id = await store.current_conversation("test:1")
    call = {"id": f"c{bad}", "type": "function",
            "function": {"name": "lookup", "arguments": f'{{"q": "{bad}"}}'}}
    turn = [
        NewMessage("user", bad, 2, media=[{"kind": "document", "name": f"{bad}.txt"}]),
        NewMessage("assistant", "", 1, tool_calls=[call], model=f"m-{bad}"),
        NewMessage("tool", bad, 1, name=f"lookup{bad}"[:120], tool_call_id=f"c{bad}"),
        NewMessage("assistant", f"answer {bad}", 3),
    ]
    usage = UsageRecord("test", "1", "2", f"m-{bad}", Usage(1, 1))

    await store.save_turn(conversation_id, "t1", turn, usage)

    stored = list(reversed(await store.load_recent_messages(conversation_id, limit=10)))
    assert [m.content for m in stored] == [clean, "", clean, f"answer {clean}"]
    assert stored[0].media == [{"kind": "document", "name": f"{clean}.txt"}]
    assert stored[1].tool_calls == [clean_json(call)]
    assert stored[1].model == f"m-{clean}"
    assert (stored[2].name, stored[2].tool_call_id) == (f"lookup{clean}"[:120], f"c{clean}")
    async with store._db.read() as connection:  # test-only peek at the ledger
        models = (await connection.execute(sa.select(usage_ledger.c.model))).scalars().all()
    assert models == [f"m-{clean}"]


async def test_settings_buttons_and_midjourney_rows_store_them_too(store: Store) -> None:
    bad, clean = BAD[3], CLEAN[3]
    scope = ScopeKey("test", "1", "")
    await store.set_setting(scope, "persona", {"text": bad, bad: [bad]})
    assert (await store.get_settings([scope]))[scope]["persona"] == {
        "text": clean, clean: [clean]}

    payload: dict[str, Any] = {"prompt": bad}
    await store.actions.insert([StoredAction("a1", "k", "test", "1", "2", "anyone", payload,
                                             utc_now())])
    action = await store.actions.get("a1")
    assert action is not None and action.payload == {"prompt": clean}

    await store.mj_tasks.upsert(MjTaskRow(
        id="t1", action="IMAGINE", platform="test", chat_id="1", requester_id="2",
        prompt=bad, fail_reason=bad, image_url=bad, buttons=[bad], properties={"x": bad}))
    task = await store.mj_tasks.get("t1")
    assert task is not None
    assert (task.prompt, task.fail_reason, task.image_url, task.buttons, task.properties) == (
        clean, clean, clean, [clean], {"x": clean})


def test_clean_json_keeps_every_other_value() -> None:
    value = {"n": 1, "f": 1.5, "b": True, "none": None, "list": [1, "ok", {"k": "v"}]}
    assert clean_json(value) == value
