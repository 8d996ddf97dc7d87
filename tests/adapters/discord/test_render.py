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


INSTALL = "\n".join(f'        echo "step {i:03d} of the install script"' for i in range(80))
NESTED_LIST_ANSWER = ("Setup steps:\n\n1. Install the tools\n   - Run the installer:\n"
                      f"        ```bash\n{INSTALL}\n        ```\n2. Done.")
"""A fence indented 8 spaces inside a nested list item (a real CommonMark fence)."""


def test_a_fence_in_a_nested_list_is_closed_and_reopened_with_its_indentation() -> None:
    first, second = split_message(NESTED_LIST_ANSWER)
    assert first.endswith('"step 040 of the install script"\n        ```')
    assert second.startswith('        ```bash\n        echo "step 041 of')
    assert second.endswith("        ```\n2. Done.")
    lines = [line for m in (first, second) for line in m.split("\n") if "echo" in line]
    assert lines == INSTALL.split("\n")  # every code line once, in order, unchanged


def test_fence_forms_close_with_their_own_marker() -> None:
    assert display("```` py\nx") == "```` py\nx\n````"
    assert display("~~~\na\n```") == "~~~\na\n```\n~~~"  # ``` does not close ~~~
    assert display("````\n```\ninner\n```\n````") == "````\n```\ninner\n```\n````"
    assert display("- x\n  ```js\n  y\n") == "- x\n  ```js\n  y\n  ```"
    assert display("   ~~~~\nz\n~~~~~") == "   ~~~~\nz\n~~~~~"  # longer closer closes
    assert display("```a``` and ```") == "```a``` and ```"  # inline code, no fence
    assert open_fence("text\n    ```\nindented code, not a fence") is None


def test_tilde_fence_with_info_is_reopened_whole() -> None:
    code = "\n".join(f"row {i}" for i in range(600))
    chunks = split_message(f"~~~~ c++ {{.numberLines}}\n{code}\n~~~~")
    assert len(chunks) >= 2
    assert all(c.startswith("~~~~ c++ {.numberLines}\n") and c.endswith("\n~~~~")
               for c in chunks)
    rows = [line for c in chunks for line in c.split("\n") if line.startswith("row")]
    assert rows == code.split("\n")


def test_invite_url_has_scopes_and_permissions() -> None:
    url = invite_url(1234)
    assert "client_id=1234" in url and "scope=bot+applications.commands" in url
    assert "permissions=311385246784" in url


def test_a_code_line_longer_than_a_message_keeps_its_spaces() -> None:
    line = " ".join(f"arg{i:04d}" for i in range(600))  # 4,799 chars, one line
    chunks = split_message(f"```py\nf({line})\n```")
    assert len(chunks) == 3
    assert all(c.startswith("```py\n") and c.endswith("\n```") for c in chunks)
    code = "".join(c.removeprefix("```py\n").removesuffix("\n```") for c in chunks)
    assert code == f"f({line})"
