"""The arrival window: what Telegram counts (arrivals in a sliding window), seen from the bot's side."""

from __future__ import annotations

import asyncio

import pytest

from bot.reminders.pacing import ArrivalWindow, ChatSpacing, GroupWindow, WindowStopped


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


def test_a_group_keeps_to_20_a_minute_counted_from_each_send_with_a_margin() -> None:
    clock = FakeClock()
    groups = GroupWindow(per_minute=20, margin=1.0, clock=clock)
    for _ in range(20):
        assert groups.delay(-100) == 0
        groups.reserve(-100)
        groups.start(-100)
        clock.now += 1
    # The first of the 20 left at +0: it leaves the window at +60, plus the margin for its arrival.
    assert groups.delay(-100) == pytest.approx(41)
    assert groups.delay(-200) == 0 and groups.delay(42) == 0  # another group; a private chat
    clock.now += 40.9
    assert groups.delay(-100) > 0
    clock.now += 0.2
    assert groups.delay(-100) == 0


def test_a_reserved_place_is_held_until_its_send_starts_or_is_cancelled() -> None:
    clock = FakeClock()
    groups = GroupWindow(per_minute=2, margin=0.0, clock=clock)
    groups.reserve(-1)
    groups.reserve(-1)
    clock.now += 120  # a reservation never expires by itself: its send has not left yet
    assert groups.delay(-1) > 0
    groups.cancel(-1)
    assert groups.delay(-1) == 0
    groups.reserve(-1)
    groups.start(-1)  # counted from now
    clock.now += 59.9
    groups.start(-1)  # the other reservation leaves
    assert groups.delay(-1) == pytest.approx(0.1)
    groups.reserve(42)  # private chats are not counted
    assert groups.delay(42) == 0


async def test_a_reply_goes_before_the_reminders_waiting_for_a_slot() -> None:
    window = ArrivalWindow(1, span=0.2, margin=0.0)
    first = await window.acquire()
    order: list[str] = []

    async def take(name: str, urgent: bool) -> None:
        slot = await window.acquire(urgent=urgent)
        order.append(name)
        window.release(slot, answered=True)

    reminders = [asyncio.ensure_future(take(f"reminder {n}", False)) for n in range(2)]
    await asyncio.sleep(0.01)
    reply = asyncio.ensure_future(take("reply", True))  # asked last
    await asyncio.sleep(0.01)
    window.release(first, answered=True)
    await asyncio.wait_for(asyncio.gather(reply, *reminders), timeout=5)
    assert order == ["reply", "reminder 0", "reminder 1"]


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


def test_chat_spacing_keeps_a_second_after_any_senders_last_message_and_forgets_quiet_chats() -> None:
    clock = FakeClock()
    chats = ChatSpacing(per_second=1.0, clock=clock)
    assert chats.delay(7) == 0
    chats.sent(7)
    clock.now += 0.25
    chats.sent(8)
    assert chats.delay(7) == pytest.approx(0.75) and chats.delay(8) == pytest.approx(1.0)
    clock.now += 0.75
    assert chats.delay(7) == 0  # exactly a second later
    chats.sent(9)  # chat 7's last message is a second old: forgotten
    assert list(chats._last) == [8, 9]
    with pytest.raises(ValueError):
        ChatSpacing(per_second=0)
