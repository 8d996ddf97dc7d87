"""Text frozen into real messages while streaming is never re-split: nothing is lost."""

from __future__ import annotations

import pytest
from telegramify_markdown import utf16_len

from adapters.telegram.render import render_markdown
from tests.adapters.telegram.conftest import FAST_TIMINGS, TelegramWorld
from tests.fakes.gateway_replies import Text

LONG_CODE = "".join(f"value_{i:03d} = transform(value_{i - 1:03d}, step={i})\n"
                    for i in range(1, 151))
"""150 lines, ~7,000 units: longer than any message, so the final split cuts inside it."""
INTRO = "Here is the whole module, explained first in a few words. " * 25


def squashed(text: str) -> str:
    """The text without whitespace (messages are trimmed at their edges)."""
    return "".join(text.split())


@pytest.mark.parametrize("private", [True, False], ids=["private-drafts", "group-edits"])
async def test_a_long_code_block_starting_mid_message_is_delivered_whole(
        world: TelegramWorld, private: bool) -> None:
    tg = world.tg
    chat = tg.private_chat(42) if private else tg.group_chat(-100700)
    answer = f"{INTRO}\n\n```python\n{LONG_CODE}```\n\nThat is all."
    world.gateway.script(Text(answer, chunk_size=60, delay=0.01))
    if private:
        tg.user_sends(chat, 42, "write the module")
    else:
        text, entities = tg.mention_text("write the module")
        tg.user_sends(chat, 7, text, entities=entities)

    messages = await world.wait_final(chat.id, "That is all.", timeout=20)
    expected = render_markdown(answer)
    assert squashed("".join(m.text for m in messages)) == squashed(expected.text), tg.dump()
    assert all(utf16_len(m.text) <= 4096 for m in messages)
    pieces = [m.text.encode("utf-16-le")[e["offset"] * 2:(e["offset"] + e["length"]) * 2]
              .decode("utf-16-le") for m in messages for e in m.entities if e["type"] == "pre"]
    assert squashed("".join(pieces)) == squashed(LONG_CODE)  # closed and reopened, no loss
    assert all(e.get("language") == "python"
               for m in messages for e in m.entities if e["type"] == "pre")
    if private:
        assert FAST_TIMINGS.use_drafts and tg.drafts(chat)
        assert all(m.edits == 0 for m in messages)  # frozen messages were never re-cut
