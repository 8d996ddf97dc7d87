"""How often the stream presenter pushes previews and retries finals (seconds)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StreamTimings:
    """How often previews are pushed, and how final texts are retried (seconds)."""

    draft_interval: float = 0.25
    """Minimum seconds between two drafts of one turn (the limiter may space them more)."""
    draft_refresh: float = 20.0
    """Re-send an unchanged draft after this many seconds (drafts vanish after ~30 s)."""
    private_edit_interval: float = 1.0
    group_edit_interval: float = 3.0
    typing_interval: float = 4.0
    group_first_delay: float = 1.0
    use_drafts: bool = True
    final_attempts: int = 3
    final_retry_delay: float = 1.0
    """Backoff before the 2nd final attempt; it doubles for each further one."""
