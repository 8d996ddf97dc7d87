"""Private chats: drafts while streaming, then the final message; edits as a fallback."""

from __future__ import annotations

from tests.adapters.telegram.conftest import TelegramWorld
from tests.fakes.gateway_replies import Text

ANSWER = "Here is **bold** and `code`.\n\nSecond paragraph with more words in it."


async def test_private_chat_streams_drafts_then_sends_final_message(world: TelegramWorld
                                                                    ) -> None:
    tg = world.tg
    ann = tg.private_chat(user_id=42, first_name="Ann")
    world.gateway.script(Text(ANSWER, chunk_size=6, delay=0.03))

    tg.user_sends(ann, 42, "hello there")

    [final] = await world.wait_final(ann.id, "Second paragraph")
    assert final.text == "Here is bold and code.\n\nSecond paragraph with more words in it."
    kinds = {(e["type"], e["offset"], e["length"]) for e in final.entities}
    assert ("bold", 8, 4) in kinds and ("code", 17, 4) in kinds
    drafts = tg.drafts(ann)
    assert len(drafts) >= 2, tg.dump()
    assert len({d.draft_id for d in drafts}) == 1 and drafts[0].draft_id != 0
    assert drafts[0].text and ANSWER.startswith(drafts[0].text[:4])
    assert final.edits == 0  # the final text is a real sendMessage, not an edit
    assert tg.calls_of("sendChatAction")
    [request] = world.gateway.chat_requests()
    assert request["messages"][-1]["content"] == "hello there"
