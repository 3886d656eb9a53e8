"""The arrival window: what Telegram counts (arrivals in a sliding window), seen from the bot's side."""

from __future__ import annotations

import asyncio

import pytest

from bot.reminders.pacing import ArrivalWindow, WindowStopped


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_answered_request_holds_its_slot_until_a_window_after_the_middle_of_its_round_trip() -> None:
    clock = FakeClock()
    window = ArrivalWindow(2, span=1.0, margin=0.01, clock=clock)
    slot = window._take()
    clock.now += 0.2  # a 200 ms round trip: it arrived at about +0.1
    window.release(slot, answered=True)
    assert window.held() == 1
    clock.now = 100.0 + 0.1 + 1.0 + 0.01 - 0.001
    assert window.held() == 1
    clock.now += 0.002
    assert window.held() == 0


def test_an_unanswered_request_is_taken_to_have_arrived_when_it_gave_up() -> None:
    clock = FakeClock()
    window = ArrivalWindow(2, margin=0.0, clock=clock)
    slot = window._take()
    clock.now += 5.0  # a timeout: it may have arrived just now
    window.release(slot, answered=False)
    clock.now += 0.99
    assert window.held() == 1
    clock.now += 0.02
    assert window.held() == 0


def test_a_full_window_waits_for_the_earliest_release_and_in_flight_requests_count() -> None:
    clock = FakeClock()
    window = ArrivalWindow(2, margin=0.0, clock=clock)
    first = window._take()
    clock.now += 0.2
    window._take()  # still in flight
    assert window.held() == 2
    window.release(first, answered=True)  # arrived at +0.1, frees at +1.1
    assert window.delay() == pytest.approx(0.9)
    clock.now += 0.9
    assert window.delay() == 0


def test_starts_are_spaced_and_flood_control_pauses_everyone() -> None:
    clock = FakeClock()
    window = ArrivalWindow(10, clock=clock)
    window._take()
    assert window.delay() == pytest.approx(0.05)  # half of 1/limit
    clock.now += 0.05
    window.pause(3)
    assert window.delay() == pytest.approx(3)
    assert window.floods == 1


def test_bad_limits_are_refused() -> None:
    for limit, span, margin in [(0, 1, 0), (1, 0, 0), (1, 1, -1)]:
        with pytest.raises(ValueError):
            ArrivalWindow(limit, span, margin)


async def test_acquire_waits_for_a_slot_and_a_stop_takes_none() -> None:
    window = ArrivalWindow(1, span=0.2, margin=0.0)
    slot = await window.acquire()
    waiting = asyncio.ensure_future(window.acquire())
    await asyncio.sleep(0.05)
    assert not waiting.done()  # the only slot is in flight
    window.release(slot, answered=True)
    second = await asyncio.wait_for(waiting, timeout=2)
    with pytest.raises(WindowStopped):  # the second is in flight: a stopped caller gives up
        await window.acquire(stopped=lambda: True)
    assert window.held() == 1  # and took nothing
    window.release(second, answered=True)


def test_replies_to_a_group_keep_to_20_a_minute_and_private_chats_are_not_held() -> None:
    from bot.tg.replies import GroupPace

    clock = FakeClock()
    pace = GroupPace(per_minute=20, clock=clock)
    for _ in range(20):
        assert pace.delay(-100) == 0
        pace.sent(-100)
        clock.now += 1
    assert pace.delay(-100) == pytest.approx(40)  # the first of the 20 leaves the window at +60
    assert pace.delay(-200) == 0 and pace.delay(42) == 0  # another group; a private chat
    clock.now += 40
    assert pace.delay(-100) == 0


def test_a_slow_answer_is_taken_to_have_arrived_when_it_came_back() -> None:
    clock = FakeClock()
    window = ArrivalWindow(2, margin=0.0, clock=clock)
    slot = window._take()
    clock.now += 0.8  # longer than half the window: a slow server, which may count it only now
    window.release(slot, answered=True)
    clock.now += 0.99
    assert window.held() == 1  # not freed at +0.4 + 1
    clock.now += 0.02
    assert window.held() == 0
