"""Prompt building, as pure functions: persona kept, oldest history dropped first, the
history budget = context window - max output - (persona + new input), a single message
over budget, tool results kept only with the assistant call that asked for them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.conversation.context import build_messages, fit_history, fixed_cost
from core.conversation.history import HistoryEntry
from core.storage import StoredMessage
from core.tokens import MESSAGE_OVERHEAD, estimate_message_tokens

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def entry(role: str, content: str, cost: int, **fields: Any) -> HistoryEntry:
    """A history entry whose prompt cost is ``cost`` tokens (as saved with the message)."""
    stored = StoredMessage(
        id=0, conversation_id=1, turn_id="t", role=role, content=content, media=None,
        name=fields.get("name"), tool_call_id=fields.get("tool_call_id"),
        tool_calls=fields.get("tool_calls"), tokens=cost, model=None, created_at=WHEN)
    return HistoryEntry.of(stored)


def newest_first(*entries: HistoryEntry) -> list[HistoryEntry]:
    """Entries given oldest first, returned newest first (as the history cache holds them)."""
    return list(reversed(entries))


def texts(entries: list[HistoryEntry]) -> list[str]:
    return [e.stored.content for e in entries]


CHAT = [entry("user", "q1", 10), entry("assistant", "a1", 10),
        entry("user", "q2", 10), entry("assistant", "a2", 10),
        entry("user", "q3", 10), entry("assistant", "a3", 10)]


def test_everything_is_kept_when_it_fits() -> None:
    assert texts(fit_history(newest_first(*CHAT), 60)) == ["q1", "a1", "q2", "a2", "q3", "a3"]


def test_the_oldest_turns_are_dropped_first() -> None:
    assert texts(fit_history(newest_first(*CHAT), 59)) == ["q2", "a2", "q3", "a3"]
    assert texts(fit_history(newest_first(*CHAT), 40)) == ["q2", "a2", "q3", "a3"]
    assert texts(fit_history(newest_first(*CHAT), 39)) == ["q3", "a3"]


def test_kept_history_starts_at_a_user_message() -> None:
    # 50 tokens fit a1..a3, but a leading assistant answer without its question is dropped
    assert texts(fit_history(newest_first(*CHAT), 50)) == ["q2", "a2", "q3", "a3"]


def test_a_single_message_over_the_budget_leaves_no_history() -> None:
    huge = [entry("user", "q1", 10), entry("assistant", "a1", 10),
            entry("user", "a very long paste", 5000), entry("assistant", "ok", 10)]
    assert fit_history(newest_first(*huge), 4000) == []  # nothing older skips over it
    assert fit_history(newest_first(*CHAT), 0) == []
    assert fit_history(newest_first(entry("user", "x", 11)), 10) == []


def test_tool_results_stay_with_their_assistant_call() -> None:
    call = [{"id": "c1", "type": "function",
             "function": {"name": "clock", "arguments": "{}"}}]
    turn = [entry("user", "what time is it?", 10),
            entry("assistant", "", 10, tool_calls=call),
            entry("tool", "12:00", 10, tool_call_id="c1", name="clock"),
            entry("assistant", "It is noon.", 10)]
    later = [entry("user", "thanks", 10), entry("assistant", "you're welcome", 10)]
    history = newest_first(*turn, *later)

    kept = fit_history(history, 60)
    assert [e.prompt["role"] for e in kept] == ["user", "assistant", "tool", "assistant",
                                                "user", "assistant"]
    assert kept[1].prompt["tool_calls"] == call
    assert kept[2].prompt == {"role": "tool", "content": "12:00", "tool_call_id": "c1",
                              "name": "clock"}
    for budget in (50, 40, 30):  # the call is cut: its tool result goes with it
        assert texts(fit_history(history, budget)) == ["thanks", "you're welcome"]


def test_the_persona_is_always_first_and_history_follows_in_order() -> None:
    new = {"role": "user", "content": "q4"}
    kept = fit_history(newest_first(*CHAT), 20)
    assert build_messages("You are a pirate.", kept, [new]) == [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "q3"}, {"role": "assistant", "content": "a3"}, new]
    assert build_messages("  ", [], [new]) == [new]  # a blank persona sends no system


def test_the_budget_is_the_window_minus_max_output_and_fixed_cost() -> None:
    persona = "p" * 400  # 100 tokens
    new = {"role": "user", "content": "n" * 40}  # 10 tokens
    assert fixed_cost(persona, [new]) == (100 + MESSAGE_OVERHEAD) + estimate_message_tokens(new)
    assert fixed_cost("", [new]) == 10 + MESSAGE_OVERHEAD

    window, max_output = 200, 30  # engine: window - min(model, configured) max output
    budget = window - max_output - fixed_cost(persona, [new])  # 200 - 30 - 118 = 52
    assert budget == 52
    assert texts(fit_history(newest_first(*CHAT), budget)) == ["q2", "a2", "q3", "a3"]
    # a persona that eats the window leaves no history, and never a negative budget
    assert fit_history(newest_first(*CHAT), max(window - max_output - 500, 0)) == []
