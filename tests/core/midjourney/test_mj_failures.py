"""What the user is told when Midjourney refuses, queues, fails or takes too long; how
the poller backs off and batches."""

from __future__ import annotations

from core.app import ChatCore
from core.events import PartShown, TurnFailed
from core.parts import ProgressPart
from tests.core.conftest import ANN, PRIVATE, CoreFactory
from tests.core.midjourney.conftest import VirtualClock, events_of, ledger, result_media
from tests.fakes.gateway_mj import FakeMidjourney


async def test_a_banned_prompt_names_the_word_and_the_english_prompt(
        core: ChatCore, mj: FakeMidjourney) -> None:
    reply = await core.run_command_text("/mj gore scene", PRIVATE, ANN)
    assert reply is not None and reply.is_error and reply.ticket is None
    assert reply.text == ("Midjourney refused the prompt: the word “gore” is banned. "
                          "English prompt sent: gore scene")
    assert await ledger(core) == [("mj_imagine", "failed", 0.1)]


async def test_a_full_queue_and_an_empty_prompt_are_explained(core: ChatCore,
                                                              mj: FakeMidjourney) -> None:
    mj.queue_full = True
    full = await core.run_command_text("/mj a fox", PRIVATE, ANN)
    empty = await core.run_command_text("/mj --relax", PRIVATE, ANN)
    assert full is not None and full.is_error
    assert full.text == "Midjourney's queue is full right now. Please try again in a few minutes."
    assert empty is not None and empty.is_error
    assert empty.text == "Send a prompt, e.g. /mj a red fox in the snow --ar 16:9"
    assert len(mj.submits("imagine")) == 1  # the empty prompt was not sent


async def test_a_queued_job_shows_its_position_also_when_22_is_rewritten_to_1(
        core: ChatCore, mj: FakeMidjourney) -> None:
    mj.queued_ahead = 3
    for rewrite in (False, True):
        mj.rewrite_22 = rewrite
        reply = await core.run_command_text("/mj a fox", PRIVATE, ANN)
        assert reply is not None
        events = await events_of(reply.ticket)
        first = events[0]
        assert isinstance(first, PartShown) and isinstance(first.part, ProgressPart)
        progress = first.part.progress
        assert (progress.key, progress.params) == ("mj.progress.queued", {"position": 3})
        assert core.t(progress.key, "zh", **progress.params) == "⏳ 排队中:前面还有 3 个任务"
        result_media(events)


async def test_a_failed_task_says_why_and_that_the_gateway_refunds_it(
        make_core: CoreFactory, mj: FakeMidjourney) -> None:
    core = await make_core()
    mj.fail_next = "Job action restricted"
    reply = await core.run_command_text("/mj a fox", PRIVATE, ANN)
    assert reply is not None
    failed = (await events_of(reply.ticket))[-1]
    assert failed == TurnFailed("mj.failed", {"reason": "Job action restricted",
                                              "refund": " The gateway refunds failed tasks."})
    assert core.failure_text(failed, "en") == (
        "Midjourney failed: Job action restricted. The gateway refunds failed tasks.")
    await core.close()

    quiet = await make_core(mj_refunds_failed=False, db=core.settings.database_url.split(
        "///", 1)[1])
    mj.fail_next = "Job action restricted"
    reply = await quiet.run_command_text("/mj a fox", PRIVATE, ANN)
    assert reply is not None
    failed = (await events_of(reply.ticket))[-1]
    assert isinstance(failed, TurnFailed)
    assert quiet.failure_text(failed, "en") == "Midjourney failed: Job action restricted."


async def test_a_stuck_task_times_out_and_polls_back_off(make_core: CoreFactory,
                                                         mj: FakeMidjourney,
                                                         clock: VirtualClock) -> None:
    core = await make_core(mj_task_timeout=60)
    mj.stuck = True
    reply = await core.run_command_text("/mj a fox", PRIVATE, ANN)
    assert reply is not None

    failed = (await events_of(reply.ticket))[-1]

    assert isinstance(failed, TurnFailed) and failed.key == "mj.timeout"
    assert core.failure_text(failed, "en") == (
        "Midjourney did not finish within 1 min, so I stopped waiting (a gateway may keep "
        "a task up to an hour). The gateway refunds failed tasks.")
    assert clock.slept == [2, 4, 8, 15, 15, 15, 1]  # 2 s, 4 s, 8 s, then every 15 s
    task_id = next(iter(mj.tasks))
    assert mj.polls[task_id] == 6 == core.midjourney.tracker.polls


async def test_several_tasks_in_flight_are_polled_in_one_request(
        make_core: CoreFactory, mj: FakeMidjourney, clock: VirtualClock) -> None:
    core = await make_core(image_jobs_per_user=2)  # both run at once (default: 1)
    clock.running.clear()  # both submitted at the same (virtual) moment
    first = await core.run_command_text("/mj a fox", PRIVATE, ANN)
    second = await core.run_command_text("/mj a cat", PRIVATE, ANN)
    assert first is not None and second is not None
    clock.running.set()

    result_media(await events_of(first.ticket))
    result_media(await events_of(second.ticket))

    assert mj.poll_requests() == ["/mj/task/list-by-condition"] * 5  # one request a round
    assert sum(mj.polls.values()) == 10  # for 2 tasks × 5 polls


async def test_without_list_by_condition_each_task_is_fetched(core: ChatCore,
                                                              mj: FakeMidjourney) -> None:
    mj.has_list_route = False
    first = await core.run_command_text("/mj a fox", PRIVATE, ANN)
    second = await core.run_command_text("/mj a cat", PRIVATE, ANN)
    assert first is not None and second is not None
    result_media(await events_of(first.ticket))
    result_media(await events_of(second.ticket))
    fetches = [p for p in mj.poll_requests() if p.endswith("/fetch")]
    assert len(fetches) == 10 and sum(mj.polls.values()) == 10


async def test_speed_niji_and_reference_images(make_core: CoreFactory,
                                               mj: FakeMidjourney) -> None:
    from tests.core.midjourney.conftest import png
    core = await make_core(mj_speed="relax")
    for text in ("/mj a fox", "/mj a fox --fast", "/mj a fox niji:true speed:turbo"):
        reply = await core.run_command_text(text, PRIVATE, ANN)
        assert reply is not None
        await events_of(reply.ticket)
    reply = await core.run_command("mj", {"prompt": "a fox", "image": png()}, PRIVATE, ANN)
    await events_of(reply.ticket)

    submits = mj.submits("imagine")
    assert [path for path, _ in submits] == [
        "/mj-relax/mj/submit/imagine", "/mj-fast/mj/submit/imagine",
        "/mj-turbo/mj/submit/imagine", "/mj-relax/mj/submit/imagine"]
    assert [body["prompt"] for _, body in submits] == ["a fox"] * 4  # --fast moved to the path
    assert [body["botType"] for _, body in submits] == [
        "MID_JOURNEY", "MID_JOURNEY", "NIJI_JOURNEY", "MID_JOURNEY"]
    assert submits[3][1]["base64Array"][0].startswith("data:image/png;base64,")
    assert all(r.headers["authorization"] == "Bearer gw-secret-key" for r in
               mj.fake.requests if r.path.startswith("/mj"))


async def test_a_result_over_10_mb_is_marked_as_a_file(core: ChatCore,
                                                       mj: FakeMidjourney) -> None:
    mj.big_results = True
    reply = await core.run_command_text("/mj a fox", PRIVATE, ANN)
    assert reply is not None
    media = result_media(await events_of(reply.ticket)).media[0]
    assert media.kind == "file" and media.size > 10 * 1024 * 1024
    assert media.filename.endswith(".png") and media.mime == "image/png"


async def test_the_gateway_key_is_never_sent_to_another_image_host(
        core: ChatCore, mj: FakeMidjourney) -> None:
    from tests.fakes.gateway import FakeGateway
    from tests.fakes.gateway_mj import install_midjourney
    async with FakeGateway() as cdn_gateway:
        cdn = install_midjourney(cdn_gateway)
        cdn.tasks = mj.tasks  # the CDN serves the gateway's images
        mj.image_root = cdn_gateway.url
        reply = await core.run_command_text("/mj a fox", PRIVATE, ANN)
        assert reply is not None
        result_media(await events_of(reply.ticket))
    assert len(cdn.image_requests) == 3  # two previews and the result
    assert all("Authorization" not in headers for _, headers in cdn.image_requests)
