"""settle_heap: the start-up heap leaves the cyclic GC's reach (in a fresh process)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import gc
import core.app, adapters.telegram, adapters.discord  # the heavy start-up imports
from bots.heap import settle_heap
assert gc.get_freeze_count() == 0
settle_heap()
print(gc.get_freeze_count(), sum(gc.get_count()))
"""


def test_settle_heap_freezes_what_start_up_allocated() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            check=True, timeout=120)
    frozen, young = map(int, result.stdout.split())
    assert frozen > 100_000  # modules, SDK schemas, ... no longer walked by collections
    assert young < 1_000  # and nothing left pending for the next collection
