"""Hypothesis strategies for Markdown-ish answers, shared by the Telegram and Discord tests.

``documents()`` draws ``(markdown, words)``: ``words`` are the plain words the reader must
see. ``fenced_documents()`` draws ``(markdown, code_lines)`` with every CommonMark fence
form (indented 0-3 spaces and inside nested list items, longer backtick runs, tildes,
info strings, shorter fence-like lines inside, unclosed at the end).
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

CJK = ["中文", "渲染", "测试", "你好世界", "日本語", "한국어"]
EMOJI = ["🙂", "🚀", "👍🏽", "🇨🇳", "𝔘𝔫𝔦"]

words = st.one_of(
    st.text("abcdefghijklmnopqrstuvwxyzABCXYZ", min_size=1, max_size=10),
    st.sampled_from(CJK), st.sampled_from(EMOJI),
)


@st.composite
def inline(draw: st.DrawFn, found: list[str]) -> str:
    """One inline token; the words it shows are appended to ``found``."""
    word = draw(words)
    found.append(word)
    forms = ["{w}", "{w}", "*{w}*", "**{w}**", "_{w}_", "`{w}`", "~~{w}~~",
             "<{w}>", "</{w}>", "<{w}/>", "List<{w}>", "<img> {w}", "{w} <br> &amp;",
             "[{w}](https://example.com/x)", "<https://example.com/{w}>",
             "a < {w} > c", "<!-- {w} -->", "&lt;{w}&gt;", '<span class="x">{w}</span>']
    return str(draw(st.sampled_from(forms))).format(w=word)


@st.composite
def block(draw: st.DrawFn, found: list[str]) -> str:
    """One block: a paragraph, heading, list item, quote, fence or HTML block."""
    line = " ".join(draw(st.lists(inline(found), min_size=1, max_size=8)))
    kind = draw(st.sampled_from(["p", "p", "h", "ul", "ol", "quote", "fence", "html"]))
    if kind == "h":
        return "#" * draw(st.integers(1, 6)) + " " + line
    if kind == "ul":
        return f"- {line}\n  - {line}" if draw(st.booleans()) else f"* {line}"
    if kind == "ol":
        return f"1. {line}"
    if kind == "quote":
        return f"> {line}"
    if kind == "html":
        return f"<div>\n{line}\n</div>"
    if kind == "fence":
        return f"```python\n{line}\n```"
    return line


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A Markdown answer and the words its reader must see."""
    found: list[str] = []
    blocks = draw(st.lists(block(found), min_size=1, max_size=12))
    separators = draw(st.lists(st.sampled_from(["\n", "\n\n"]), min_size=len(blocks),
                               max_size=len(blocks)))
    return "".join(b + s for b, s in zip(blocks, separators, strict=True)).rstrip(), found


@st.composite
def fence_block(draw: st.DrawFn, code: list[str], last: bool) -> str:
    """A fenced code block in one of the CommonMark forms; its code lines go to ``code``."""
    char = draw(st.sampled_from("`~"))
    marker = char * draw(st.integers(3, 6))
    info = draw(st.sampled_from(["", "python", " js", "c++ {.numberLines}"]))
    container = draw(st.sampled_from(["", " ", "   ", "- ", "1. ", "nested"]))
    if container == "nested":  # a fence in a nested list item: 8 spaces, a real fence
        head, indent = "1. Step\n   - Sub step:\n", "        "
        opener_indent = indent
    elif container in ("- ", "1. "):
        head, indent = f"{container}Item:\n", " " * len(container)
        opener_indent = indent
    else:
        head, indent, opener_indent = "", "", container
    lines = []
    for _ in range(draw(st.integers(1, 40))):
        too_long = draw(st.integers(0, 30)) == 0  # rarely, a line longer than a message
        width = 2500 if too_long else draw(st.integers(0, 150))
        token = f"c{len(code)}_" + "x" * width
        code.append(token)
        lines.append(indent + draw(st.sampled_from(["", "    ", "\t", "中文 🚀 "])) + token)
    if draw(st.booleans()):  # a fence-like line that must not close the block
        shorter = (char * (len(marker) - 1)) if len(marker) > 3 else (
            ("~" if char == "`" else "`") * 3)
        lines.insert(draw(st.integers(0, len(lines))), indent + shorter)
    closer = [] if last and draw(st.booleans()) else [
        opener_indent + char * (len(marker) + draw(st.integers(0, 2)))]
    return "\n".join([head + opener_indent + marker + info, *lines, *closer])


@st.composite
def fenced_documents(draw: st.DrawFn) -> tuple[str, list[str]]:
    """Prose mixed with fenced code; returns the document and all its code lines."""
    code: list[str] = []
    parts = []
    count = draw(st.integers(1, 4))
    for index in range(count):
        words = draw(st.integers(1, 400)) if draw(st.booleans()) else 1
        word = draw(st.sampled_from(["word", "中文", "🚀", "𝔘𝔫𝔦"]))
        parts.append(" ".join([word] * words))  # prose at column 0 ends any list
        parts.append(draw(fence_block(code, index == count - 1)))
    return "\n\n".join(parts), code


FENCE_LINE = re.compile(r"^[\s>]*(`{3,}|~{3,})(.*)$")


def fence_lines_removed(text: str) -> str:
    """``text`` without fence-looking lines and whitespace, to compare content."""
    kept = [line for line in text.split("\n") if not FENCE_LINE.match(line)]
    return "".join("".join(kept).split())
