"""Markdown → Telegram text: everything that is not formatting reaches the user verbatim."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegramify_markdown import utf16_len

from adapters.telegram.render import Rendered, render_chunks, render_markdown
from tests.adapters.markdown_strategies import documents, fenced_documents
from tests.adapters.telegram.conftest import TelegramWorld
from tests.fakes.gateway_replies import Text

PROPERTY = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize(("markdown", "shown"), [
    ("The blurriness of <img> elements and List<String>",
     "The blurriness of <img> elements and List<String>"),
    ('An <img src="a.png" alt="x"> tag', 'An <img src="a.png" alt="x"> tag'),
    ("Map<K, V> and Optional<T>", "Map<K, V> and Optional<T>"),
    ("a < b > c", "a < b > c"),
    ("x <!-- note --> y", "x <!-- note --> y"),
    ("<!-- only a comment -->", "<!-- only a comment -->"),
    ("Use <kbd>Ctrl</kbd>+<kbd>C</kbd>", "Use <kbd>Ctrl</kbd>+<kbd>C</kbd>"),
    ("<div>\nhtml block\n</div>\n\nafter", "<div>\nhtml block\n</div>\n\nafter"),
    ("&amp; &lt;T&gt; &copy; &#35;", "& <T> © #"),
    ("one<br>two<br/>three", "one\ntwo\nthree"),
    ("**bold <i>x</i>**", "bold <i>x</i>"),
    ("- item <T>\n- <b>two</b>", "⦁ item <T>\n⦁ <b>two</b>"),
    ("```\n```", "```\n```"),  # an empty block renders empty: the source is shown instead
])
def test_what_is_not_formatting_is_shown_verbatim(markdown: str, shown: str) -> None:
    assert [chunk.text for chunk in render_chunks(markdown)] == [shown]


def test_autolinks_and_code_keep_their_text_and_entities() -> None:
    rendered = render_markdown("see <https://example.com/a?b=1> and `List<String>`")
    assert rendered.text == "see https://example.com/a?b=1 and List<String>"
    link, code = rendered.entities
    assert (link.type, link.url, link.offset, link.length) == (
        "text_link", "https://example.com/a?b=1", 4, 25)
    assert (code.type, code.offset, code.length) == ("code", 34, 12)


def test_a_table_cell_break_is_a_space() -> None:
    assert "x y" in render_markdown("|a|b|\n|-|-|\n|x<br>y|<T>|").text


def visible_text(chunks: list[Rendered]) -> str:
    return "".join(chunk.text for chunk in chunks)


def assert_valid(chunks: list[Rendered], limit: int) -> None:
    """Bot API: text ≤ 4096 UTF-16 units; entities inside the text, never splitting a
    surrogate pair, with a positive length."""
    for chunk in chunks:
        assert chunk.text.strip() and utf16_len(chunk.text) <= limit
        units = chunk.text.encode("utf-16-le")
        total = len(units) // 2
        for entity in chunk.entities:
            assert entity.length > 0 and entity.offset >= 0
            assert entity.offset + entity.length <= total
            for edge in (entity.offset, entity.offset + entity.length):
                if edge < total:
                    unit = int.from_bytes(units[edge * 2:edge * 2 + 2], "little")
                    assert not 0xDC00 <= unit <= 0xDFFF, "entity edge splits a surrogate pair"


@PROPERTY
@given(documents(), st.sampled_from([4096, 4096, 300, 60]))
def test_every_word_reaches_the_reader(drawn: tuple[str, list[str]], limit: int) -> None:
    markdown, words = drawn
    chunks = render_chunks(markdown, limit)
    assert chunks, "non-blank input must never render empty"
    assert_valid(chunks, limit)
    shown = visible_text(chunks)
    missing = [word for word in words if word not in shown]
    assert not missing, (missing, shown)
    if limit >= 300:  # room for a space in every cut: no word is cut in two
        cut = [word for word in words if not any(word in chunk.text for chunk in chunks)]
        assert not cut, (cut, [chunk.text for chunk in chunks])


def test_one_long_line_is_cut_between_words() -> None:
    line = " ".join(f"word{i:04d}" for i in range(1000))  # 9,999 units, no newline
    chunks = render_chunks(line)
    assert len(chunks) == 3
    assert " ".join(chunk.text for chunk in chunks) == line


@PROPERTY
@given(fenced_documents(), st.sampled_from([4096, 1000]))
def test_every_fence_form_becomes_code_that_is_never_lost(
        drawn: tuple[str, list[str]], limit: int) -> None:
    markdown, code = drawn
    chunks = render_chunks(markdown, limit)
    assert_valid(chunks, limit)
    pre = "".join(
        chunk.text.encode("utf-16-le")[e.offset * 2:(e.offset + e.length) * 2].decode("utf-16-le")
        for chunk in chunks for e in chunk.entities if e.type == "pre")
    missing = [token for token in code if token not in pre]
    assert not missing, missing


async def test_user_sees_html_looking_text_exactly(world: TelegramWorld) -> None:
    tg = world.tg
    chat = tg.private_chat(42)
    answer = "The blurriness of <img> elements and List<String>"
    world.gateway.script(Text(answer, chunk_size=7))
    tg.user_sends(chat, 42, "why are my images blurry?")
    messages = await world.wait_final(chat.id, "List<String>")
    assert [m.text for m in messages] == [answer], tg.dump()
