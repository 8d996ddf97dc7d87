"""Console adapter: a terminal chat on the core (``python -m bots console``)."""

from adapters.console.app import ConsoleAdapter, ConsoleSettings

__all__ = ["ConsoleAdapter", "ConsoleSettings"]
