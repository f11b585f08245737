"""How far behind Kafka's readers are: consumer lag per group and dead letters waiting per topic.

Lag is the group's committed offset against each partition's end (a partition the group never
committed counts from its first record). A dead-letter topic's depth is what ``billing dlq replay``
has not replayed yet: the replay group's committed offset (or the first record) to the end.
"""

from dataclasses import dataclass
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.admin import (
    DescribeGroupsRequest_v0,
    DescribeGroupsRequest_v1,
    DescribeGroupsRequest_v2,
)
from aiokafka.protocol.api import Request
from aiokafka.structs import TopicPartition

DescribeGroupsUpToV2: TypeAlias = (
    DescribeGroupsRequest_v0 | DescribeGroupsRequest_v1 | DescribeGroupsRequest_v2
)


class _DescribeGroups(Request[DescribeGroupsUpToV2]):  # type: ignore[misc]  # aiokafka is untyped
    """DescribeGroups at most v2: aiokafka decodes a v3 answer with the v2 layout and fails on any
    group with members ("Buffer underrun decoding string"), so ``describe_consumer_groups`` cannot
    be used on a running stack."""

    API_KEY = 15

    def __init__(self, groups: list[str]) -> None:
        self._groups = groups

    def build(self, request_struct_class: type[DescribeGroupsUpToV2]) -> DescribeGroupsUpToV2:
        request: DescribeGroupsUpToV2 = request_struct_class(groups=self._groups)
        return request


@dataclass(frozen=True)
class GroupState:
    group: str
    topic: str
    lag: int
    members: int
    state: str  # Kafka's: Stable, Empty, PreparingRebalance, Dead (never seen), ...


class KafkaBacklog:
    """One admin client and one group-less consumer, for a handful of offset reads."""

    def __init__(self, bootstrap: str) -> None:
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        self._offsets = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)

    async def __aenter__(self) -> "KafkaBacklog":
        await self._admin.start()
        await self._offsets.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._offsets.stop()
        await self._admin.close()

    async def groups(self, topic_of: dict[str, str]) -> list[GroupState]:
        """Lag, members and state of each group in ``topic_of`` (group → the topic it reads)."""
        seen: dict[str, tuple[str, int]] = {}
        for group_id in topic_of:
            coordinator = await self._admin.find_coordinator(group_id)
            # The admin client offers no way to pin a request version; its own client does.
            response = await self._admin._client.send(coordinator, _DescribeGroups([group_id]))
            seen |= {group[1]: (group[2], len(group[5])) for group in response.groups if group[0] == 0}
        states = []
        for group, topic in topic_of.items():
            state, members = seen.get(group, ("Dead", 0))
            states.append(GroupState(group, topic, await self.waiting(topic, group), members, state))
        return states

    async def waiting(self, topic: str, group: str) -> int:
        """Records of ``topic`` after ``group``'s committed offsets (all of them if it committed none)."""
        partitions = await self._partitions(topic)
        if not partitions:
            return 0
        first = await self._offsets.beginning_offsets(partitions)
        ends = await self._offsets.end_offsets(partitions)
        committed = await self._admin.list_consumer_group_offsets(group, partitions=partitions)
        total = 0
        for tp in partitions:
            done = committed[tp].offset if tp in committed and committed[tp].offset >= 0 else first[tp]
            total += max(0, ends[tp] - max(done, first[tp]))
        return total

    async def _partitions(self, topic: str) -> list[TopicPartition]:
        numbers = self._offsets.partitions_for_topic(topic)
        if numbers is None:  # not in the consumer's metadata yet: ask the broker
            [description] = await self._admin.describe_topics([topic])
            numbers = {p["partition"] for p in description["partitions"]}
        return [TopicPartition(topic, n) for n in sorted(numbers)]
