"""Property tests: every CommonMark fence form survives splitting into 2000-char messages."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.discord.render import IncrementalSplitter, split_message
from tests.adapters.markdown_strategies import FENCE_LINE, fence_lines_removed, fenced_documents

PROPERTY = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def balanced(message: str) -> bool:
    """Whether every fence opened in ``message`` is closed in it (CommonMark matching:
    same character, closer at least as long, no info string; indentation is ignored as
    Discord ignores it)."""
    open_marker = ""
    for line in message.split("\n"):
        match = FENCE_LINE.match(line)
        if match is None:
            continue
        marker, rest = match.groups()
        if not open_marker:
            if not (marker[0] == "`" and "`" in rest):
                open_marker = marker
        elif marker[0] == open_marker[0] and len(marker) >= len(open_marker) and not rest.strip():
            open_marker = ""
    return not open_marker


def check(document: str, code: list[str], messages: list[str], limit: int) -> None:
    assert messages, "a non-blank answer must produce a message"
    assert all(len(m) <= limit for m in messages), [len(m) for m in messages]
    assert all(balanced(m) for m in messages), messages
    assert fence_lines_removed("\n".join(messages)) == fence_lines_removed(document)
    joined = "\n".join(messages)
    assert all(token in joined for token in code if len(token) < limit // 2)


@PROPERTY
@given(fenced_documents(), st.sampled_from([2000, 2000, 700]))
def test_split_message_keeps_fences_balanced_and_code_whole(
        drawn: tuple[str, list[str]], limit: int) -> None:
    document, code = drawn
    messages = split_message(document, limit)
    assert all(balanced(m) for m in messages), messages
    check(document, code, messages, limit)


@PROPERTY
@given(fenced_documents(), st.lists(st.integers(1, 600), min_size=1, max_size=30))
def test_streaming_splitter_freezes_the_same_balanced_messages(
        drawn: tuple[str, list[str]], steps: list[int]) -> None:
    document, code = drawn
    splitter = IncrementalSplitter()
    position = 0
    for step in steps:
        position = min(position + step, len(document))
        shown = splitter.feed(document[:position])
        assert all(len(m) <= 2000 and balanced(m) for m in shown)
    check(document, code, splitter.feed(document), 2000)
