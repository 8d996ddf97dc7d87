"""Numbers of the Midjourney benchmark (``bench/mj_tasks.py``): derived, checked, printed."""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench._mj_fakes import Plan

JITTER = 0.1
"""Real seconds a poll may come early from scheduling noise (back-off check)."""
EDITS_PER_TASK_MAX = 8.0
"""Target: platform edits per task (the progress is a droppable preview)."""


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (nearest rank) of ``values`` (NaN when empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def _gaps(stats: dict[str, Any]) -> dict[str, list[float]]:
    """Per task: seconds (task time) from the submit to the 1st poll, then between polls."""
    gw = stats["gateway"]
    out = {}
    for task_id, times in gw["polls"].items():
        points = [gw["created"][task_id], *times]
        out[task_id] = [b - a for a, b in itertools.pairwise(points)]
    return out


def analyse(stats: dict[str, Any]) -> dict[str, Any]:
    """Add the derived numbers (per task, back-off, targets) to ``stats``.

    Back-off check: the n-th interval of a task (submit → 1st poll, then between polls)
    must be at least ``Timing().delay(n)`` minus the poller's ``batch_slack`` (tasks due
    within it are polled together) and ``JITTER`` real seconds."""
    from core.midjourney.tracker import Timing

    tasks = stats["groups"] * stats["users"]
    plan: Plan = stats["plan"]
    tg, gw = stats["platform"], stats["gateway"]
    completed = sum(min(g["results"], stats["users"]) for g in tg["groups"])
    gaps = _gaps(stats)
    timing = Timing()  # the poller's schedule (task seconds)
    early = [[round(x, 1) for x in g] for g in gaps.values()
             if any(gap < timing.delay(k) - timing.batch_slack - JITTER * plan.speed
                    for k, gap in enumerate(g))]
    late = [gap - timing.delay(k) for g in gaps.values() for k, gap in enumerate(g)]
    by_index: dict[int, list[float]] = {}
    for g in gaps.values():
        for index, gap in enumerate(g):
            by_index.setdefault(index, []).append(gap)
    after_success = sum(1 for task_id, times in gw["polls"].items()
                        if task_id in gw["success_seen"]
                        and any(t > gw["success_seen"][task_id] for t in times))
    lag = []
    for task_id, seen in gw["success_seen"].items():
        duration = gw["durations"][task_id]
        done = gw["created"][task_id] + duration  # first refresh after it: SUCCESS shown
        available = -(-done // plan.refresh) * plan.refresh
        lag.append(seen - available)
    edits = [e for g in tg["groups"] for e in g["edits"]]
    requests = Counter(gw["requests"])
    stats.update(
        tasks=tasks, completed=completed, failed=tasks - completed,
        poll_requests=requests["fetch"] + requests["list-by-condition"],
        task_polls=sum(len(t) for t in gw["polls"].values()),
        gap_medians={i: statistics.median(v) for i, v in sorted(by_index.items())},
        gap_counts={i: len(v) for i, v in sorted(by_index.items())},
        early=len(early), early_sample=early[:3], late_max=max(late, default=0.0),
        polls_after_success=after_success, success_lag=lag,
        edit_calls=sum(n for m, n in tg["by_method"].items()
                       if m.startswith(("edit", "PATCH"))),
        max_edits_per_message=max(edits, default=0))
    seen = gw["success_seen_real"]
    stats["shown_after"] = [at - tg["asked_at"] for at in tg["result_at"].values()]
    stats["shown_after_success"] = [at - seen[prompt] for prompt, at in tg["result_at"].items()
                                    if prompt in seen]
    stats["leftover"] = sum(g["stale"] for g in tg["groups"])
    stats["ok"] = (completed == tasks and tg["flood_errors"] == 0
                   and not tg["inside_window"] and not early and not stats["leftover"]
                   and stats["edit_calls"] / tasks <= EDITS_PER_TASK_MAX)
    return stats


def report(stats: dict[str, Any], out: Callable[[str], Any] = print) -> None:
    """Print the numbers of :func:`run`."""
    tasks, plan = stats["tasks"], stats["plan"]
    tg, gw = stats["platform"], stats["gateway"]
    bot_pid, gw_pid, tg_pid = stats["pids"]
    lo, hi = plan.durations
    name = stats["platform_name"]
    where = "groups" if name == "Telegram" else "channels"
    out(f"=== {name}: {tasks} Midjourney tasks, {stats['groups']} {where} x "
        f"{stats['users']} users, "
        f"tasks {lo:g}-{hi:g} s, gateway refresh {plan.refresh:g} s, speed x{plan.speed:g} "
        f"({'one process' if stats['inprocess'] else 'fakes in their own processes'}) ===")
    out(f"tasks completed: {stats['completed']}/{tasks}, failed or lost: {stats['failed']}; "
        f"wall time {stats['elapsed']:.1f} s (all results shown)")
    by_method = Counter(tg["by_method"])
    out(f"{stats['calls_name']} calls per task: {by_method.total() / tasks:.2f}  " + ", ".join(
        f"{name}={count / tasks:.2f}" for name, count in by_method.most_common()))
    inside = tg["inside_window"]
    out(f"429 responses: {tg['flood_errors']}; calls inside a retry_after window: "
        f"{'n/a' if inside is None else inside}; other errors: {tg['errors'] or 'none'}")
    out(f"status edits per task: {stats['edit_calls'] / tasks:.2f} "
        f"(max {stats['max_edits_per_message']} edits on one message; target <= "
        f"{EDITS_PER_TASK_MAX:g} per task)")
    requests = Counter(gw["requests"])
    batches = gw["batch_sizes"]
    out(f"gateway requests per task: polls {stats['poll_requests'] / tasks:.2f} "
        f"(fetch {requests['fetch'] / tasks:.2f}, list-by-condition "
        f"{requests['list-by-condition'] / tasks:.2f}"
        + (f", {statistics.mean(batches):.1f} ids/batch, max {max(batches)}" if batches
           else "") + f"); task polls {stats['task_polls'] / tasks:.2f}; imagine "
        f"{requests['imagine'] / tasks:.2f}; images: preview "
        f"{requests['image preview'] / tasks:.2f}, final {requests['image final'] / tasks:.2f}")
    medians = stats["gap_medians"]
    out("poll interval by poll number (task s, median [tasks]): " + "  ".join(
        f"#{i + 1}:{gap:.1f}[{stats['gap_counts'][i]}]" for i, gap in medians.items()))
    from core.midjourney.tracker import Timing

    schedule = ", ".join(f"{Timing().delay(k):g}" for k in range(5))
    out(f"back-off: tasks polled sooner than the schedule ({schedule}… s) allows: "
        f"{stats['early']} {' '.join(map(str, stats['early_sample']))}; latest poll "
        f"{stats['late_max']:.1f} s behind it; polls after "
        f"SUCCESS was seen: {stats['polls_after_success']}; SUCCESS at the gateway -> "
        f"polled: p50 {percentile(stats['success_lag'], 0.5):.1f} s, max "
        f"{max(stats['success_lag'], default=float('nan')):.1f} s (task time)")
    tr = stats["tracker"]
    out(f"poller counters: {tr['requests']} requests, {tr['polls']} task polls, "
        f"list-by-condition {'used' if tr['batch'] else 'unsupported'}, "
        f"still following {tr['following']}")
    waits = stats["queue_waits"]
    out(f"queue wait for the submit slot (real s): p50 {percentile(waits, 0.5):.2f}, "
        f"p90 {percentile(waits, 0.9):.2f}, max {max(waits, default=float('nan')):.2f} "
        f"({len(waits)} jobs)")
    for label, values in (("user /mj -> result photo", stats["shown_after"]),
                          ("poller saw SUCCESS -> result photo",
                           stats["shown_after_success"])):
        out(f"{label} (real s): p50 {percentile(values, 0.5):.1f}, p90 "
            f"{percentile(values, 0.9):.1f}, max {max(values, default=float('nan')):.1f} "
            f"({len(values)} tasks)")
    out(f"stale progress messages left in the chats (neither the /mj reply nor a result): "
        f"{stats['leftover']} (target 0)")
    out(f"peak RSS: bot {stats['bot_rss_mb']:.0f} MiB (pid {bot_pid})" + (
        "" if stats["inprocess"] else
        f", fake gateway {gw['rss_mb']:.0f} MiB (pid {gw_pid}), fake {name} "
        f"{tg['rss_mb']:.0f} MiB (pid {tg_pid})"))
    out("result: " + ("OK" if stats["ok"] else "TARGETS MISSED"))


def print_timeline(stats: dict[str, Any], out: Callable[[str], Any] = print) -> None:
    """Every platform call to group 0 (real seconds after the users' /mj)."""
    out(f"--- {stats['calls_name']} calls to group/channel 0 (s after the /mj) ---")
    for at, method, status, text in stats["platform"]["timeline"]:
        out(f"{at:7.2f} {method} {status} {text}")
