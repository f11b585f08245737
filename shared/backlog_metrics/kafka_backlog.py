"""Consumer lag per group and partition, and dead letters waiting for a replay, read from Kafka.

Lag is what a group has not committed yet: ``end offset - committed offset`` for every partition of
every topic the group commits on (a partition it never committed on counts from its first offset, as
our consumers start at ``earliest``). The groups are this deployment's: names starting with the
namespace's ``billing-`` prefix, so any new consumer is covered without a list to keep.

Dead letters stay on their DLQ topics forever; ``billing dlq replay`` remembers in its own group how far
it replayed. So the depth of a DLQ is what lies past that group's offset: 0 once every letter was
replayed, whatever the topic still keeps.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from shared.messaging.topics import Topics

REPLAY_GROUP = "dlq-replay"  # apps/cli/dead_letters.py stores replay progress in this group


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    lag: int


class KafkaBacklog:
    """Reads offsets with one admin client and one group-less consumer, kept open between reads and
    connected on first use (again after a failure), so a broker that is down only fails that read."""

    def __init__(self, bootstrap: str, topics: Topics) -> None:
        self._bootstrap = bootstrap
        self._topics = topics
        self._clients: tuple[AIOKafkaAdminClient, AIOKafkaConsumer] | None = None

    async def _connected(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._clients is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
            offsets = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False)
            try:
                await admin.start()
                await offsets.start()
            except BaseException:
                await offsets.stop()
                await admin.close()
                raise
            self._clients = (admin, offsets)
        return self._clients

    async def close(self) -> None:
        if self._clients is not None:
            admin, offsets = self._clients
            self._clients = None
            await offsets.stop()
            await admin.close()

    async def consumer_lag(self) -> list[PartitionLag]:
        try:
            return await self._consumer_lag()
        except Exception:
            await self.close()  # reconnect next time
            raise

    async def dead_letter_depth(self) -> dict[str, int]:
        """Letters not replayed yet, by the topic they were dead-lettered from."""
        try:
            return await self._dead_letter_depth()
        except Exception:
            await self.close()
            raise

    async def _consumer_lag(self) -> list[PartitionLag]:
        admin, _ = await self._connected()
        prefix = self._topics.group("")
        replay = self._topics.group(REPLAY_GROUP)
        groups = sorted(name for name, *_ in await admin.list_consumer_groups() if name.startswith(prefix))
        lags: list[PartitionLag] = []
        for group in groups:
            if group == replay:
                continue  # its backlog is the dead-letter depth
            committed = await self._committed(group)
            partitions = await self._partitions_of({tp.topic for tp in committed})
            waiting = await self._waiting(partitions, committed)
            lags += [PartitionLag(group, tp.topic, tp.partition, n) for tp, n in sorted(waiting.items())]
        return lags

    async def _dead_letter_depth(self) -> dict[str, int]:
        originals = {Topics.dead_letters_of(topic): topic for topic in self._topics.main()}
        committed = await self._committed(self._topics.group(REPLAY_GROUP))
        partitions = await self._partitions_of(set(originals))
        waiting = await self._waiting(partitions, committed)
        depth = dict.fromkeys(self._topics.main(), 0)
        for tp, count in waiting.items():
            depth[originals[tp.topic]] += count
        return depth

    async def _committed(self, group: str) -> dict[TopicPartition, int]:
        admin, _ = await self._connected()
        offsets = await admin.list_consumer_group_offsets(group)
        return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}

    async def _partitions_of(self, topics: Iterable[str]) -> list[TopicPartition]:
        names = sorted(topics)
        if not names:
            return []
        admin, _ = await self._connected()
        described = await admin.describe_topics(names)
        return [
            TopicPartition(topic["topic"], partition["partition"])
            for topic in described
            if topic.get("error_code", 0) == 0
            for partition in topic["partitions"]
        ]

    async def _waiting(
        self, partitions: list[TopicPartition], committed: dict[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        if not partitions:
            return {}
        _, offsets = await self._connected()
        ends = await offsets.end_offsets(partitions)
        firsts = await offsets.beginning_offsets(partitions)
        return {tp: max(0, ends[tp] - max(firsts[tp], committed.get(tp, 0))) for tp in partitions}
