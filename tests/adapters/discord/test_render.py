"""Splitting answers at 2000 characters with balanced code fences (pure functions)."""

from __future__ import annotations

import random
import re

from adapters.discord.invite import invite_url
from adapters.discord.render import IncrementalSplitter, display, open_fence, split_message


def _strip(text: str) -> str:
    return re.sub(r"```\w*\n|```|\s", "", text)


def _random_answer(rng: random.Random) -> str:
    parts = []
    for _ in range(40):
        roll = rng.random()
        if roll < 0.3:
            count = rng.randint(1, 90)
            lines = [f"    x = {j}  # " + "y" * rng.randint(0, 90) for j in range(count)]
            fence = "```" + rng.choice(["python", "js", ""])
            parts.append(fence + "\n" + "\n".join(lines) + "\n```")
        elif roll < 0.35:
            parts.append("z" * rng.randint(500, 4500))
        else:
            parts.append(" ".join(f"word{rng.randint(0, 999)}" for _ in range(rng.randint(5, 200))))
    return "\n\n".join(parts)


def test_split_keeps_limits_fences_and_content() -> None:
    rng = random.Random(7)
    for _ in range(20):
        answer = _random_answer(rng)
        chunks = split_message(answer)
        assert all(len(c) <= 2000 and open_fence(c) is None for c in chunks)
        assert _strip("\n".join(chunks)) == _strip(answer)
        splitter = IncrementalSplitter()
        position = 0
        while position < len(answer):
            position += rng.randint(50, 400)
            assert all(len(c) <= 2000 for c in splitter.feed(answer[:position]))
        final = splitter.feed(answer)
        assert all(open_fence(c) is None for c in final)
        assert _strip("\n".join(final)) == _strip(answer)


def test_split_code_block_is_reopened_with_its_language() -> None:
    code = "\n".join(f"print({i})" for i in range(400))
    chunks = split_message(f"intro\n\n```python\n{code}\n```\n\nafter")
    assert len(chunks) >= 2
    assert chunks[0].endswith("\n```") and chunks[1].startswith("```python\n")
    assert chunks[-1].endswith("after")


def test_split_prefers_paragraphs() -> None:
    first, second = "a " * 600, "b " * 600
    assert split_message(f"{first.strip()}\n\n{second.strip()}") == [first.strip(), second.strip()]
    assert split_message("short") == ["short"]
    assert display("```py\nx = 1") == "```py\nx = 1\n```"


def test_invite_url_has_scopes_and_permissions() -> None:
    url = invite_url(1234)
    assert "client_id=1234" in url and "scope=bot+applications.commands" in url
    assert "permissions=311385246784" in url
