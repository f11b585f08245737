"""Waits until a Kafka broker answers a metadata request (an open port is not enough in KRaft)."""

import asyncio
import logging
import sys
import time

from aiokafka.admin import AIOKafkaAdminClient


async def broker_answers(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        await admin.describe_cluster()
        return True
    except Exception:
        return False
    finally:
        await admin.close()


async def wait(bootstrap: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        if await broker_answers(bootstrap):
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.5)


if __name__ == "__main__":
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    sys.exit(0 if asyncio.run(wait(sys.argv[1], float(sys.argv[2]))) else 1)
