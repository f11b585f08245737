"""Reads every topic of a test namespace from the start, so tests can ask what was published."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord, TopicPartition


@dataclass(frozen=True)
class Published:
    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]

    def json(self) -> dict:  # type: ignore[type-arg]
        return orjson.loads(self.value)  # type: ignore[no-any-return]


class TopicCollector:
    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        self.records: list[Published] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        self._task = asyncio.create_task(self._collect())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self._consumer.stop()

    async def _collect(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=100)
            for records in batches.values():
                self.records.extend(self._published(r) for r in records)

    @staticmethod
    def _published(record: ConsumerRecord[bytes, bytes]) -> Published:
        return Published(
            topic=record.topic,
            key=record.key,
            value=record.value or b"",
            headers={k: v for k, v in record.headers},
        )

    async def caught_up(self, timeout_s: float = 15) -> None:
        """Wait until everything already published has been read."""
        partitions: set[TopicPartition] = self._consumer.assignment()
        ends = await self._consumer.end_offsets(list(partitions))
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not await self._reached(ends):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("collector did not catch up")
            await asyncio.sleep(0.05)

    async def _reached(self, ends: dict[TopicPartition, int]) -> bool:
        for tp, end in ends.items():
            if await self._consumer.position(tp) < end:
                return False
        return True

    def on(self, topic: str, where: Callable[[Published], bool] = lambda _: True) -> list[Published]:
        return [r for r in self.records if r.topic == topic and where(r)]

    async def wait_for(
        self,
        topic: str,
        where: Callable[[Published], bool],
        timeout_s: float = 30,
    ) -> Published:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            found = self.on(topic, where)
            if found:
                return found[0]
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"nothing matching on {topic} within {timeout_s}s")
            await asyncio.sleep(0.05)
