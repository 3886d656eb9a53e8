"""ChatOrderedUpdates: updates of different chats at the same time, those of one chat in order."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from telegram import Chat, Message, Update, User

from bot.tg.ordering import ChatOrderedUpdates


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    user = User(chat_id, "Seller", is_bot=False)
    message = Message(update_id, dt.datetime(2026, 12, 1, tzinfo=dt.UTC), chat, from_user=user, text="hi")
    return Update(update_id, message=message)


async def test_one_chat_in_order_other_chats_meanwhile() -> None:
    processor = ChatOrderedUpdates(max_concurrent_updates=8)
    done: list[str] = []
    first_may_end = asyncio.Event()

    async def handle(name: str, wait: asyncio.Event | None = None) -> None:
        if wait is not None:
            await wait.wait()
        done.append(name)

    tasks = [
        asyncio.ensure_future(processor.process_update(update(1, 100), handle("A1", first_may_end))),
        asyncio.ensure_future(processor.process_update(update(2, 100), handle("A2"))),
        asyncio.ensure_future(processor.process_update(update(3, 200), handle("B1"))),
    ]
    await asyncio.sleep(0.05)
    assert done == ["B1"]  # another chat is not held up by A1; A2 waits for A1
    first_may_end.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert done == ["B1", "A1", "A2"]
    assert not processor._locks and not processor._users  # quiet chats cost no memory


async def test_an_update_without_a_chat_or_a_failing_handler_holds_nothing() -> None:
    processor = ChatOrderedUpdates()

    async def fail() -> None:
        raise RuntimeError("a handler bug")

    async def fine() -> str:
        return "ok"

    with pytest.raises(RuntimeError):
        await processor.process_update(update(1, 100), fail())
    await asyncio.wait_for(processor.process_update(update(2, 100), fine()), timeout=5)  # not locked out
    await processor.process_update(object(), fine())  # not an Update: handled at once
    assert not processor._locks
