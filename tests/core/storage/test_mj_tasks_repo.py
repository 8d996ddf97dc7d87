"""Midjourney task rows round-trip on SQLite and PostgreSQL; unfinished ones are found."""

from __future__ import annotations

from core.storage import Store
from core.storage.mj_tasks_repo import MjTaskRow


async def test_task_rows_round_trip_and_unfinished_ones_are_listed(store: Store) -> None:
    repo = store.mj_tasks
    flying = MjTaskRow(id="1", action="IMAGINE", platform="telegram", chat_id="-100",
                       requester_id="42", thread_id="7", prompt="a fox --ar 16:9",
                       buttons=["MJ::JOB::upsample::1::h"], status="IN_PROGRESS",
                       properties={"botType": "NIJI_JOURNEY", "width": 64})
    modal = MjTaskRow(id="2", action="MODAL", platform="telegram", chat_id="-100",
                      requester_id="42", status="MODAL")
    done = MjTaskRow(id="3", action="UPSCALE", platform="telegram", chat_id="-100",
                     requester_id="42", status="SUCCESS", notified=True)
    for row in (flying, modal, done):
        await repo.upsert(row)

    loaded = await repo.get("1")
    assert loaded is not None
    assert (loaded.prompt, loaded.buttons, loaded.properties, loaded.thread_id) == (
        "a fox --ar 16:9", ["MJ::JOB::upsample::1::h"],
        {"botType": "NIJI_JOURNEY", "width": 64}, "7")
    assert [row.id for row in await repo.unfinished()] == ["1"]

    loaded.status, loaded.notified = "SUCCESS", True
    await repo.update([loaded])
    assert await repo.unfinished() == []
    assert await repo.get("404") is None
