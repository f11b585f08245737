"""The stored catalog read beside a catalog apply (catalog_sync and the admin API read without the
writer's lock): a bundle applied between the reader's statements never names a pack it cannot see."""

from typing import Any

import pytest

from shared.db.catalog_state import load_stored_catalog
from tests.conftest import Stack
from tests.infra.catalog import apply_catalog, btc_bundle_catalog, unique_suffix

pytestmark = pytest.mark.postgres


async def test_a_bundle_applied_between_the_readers_statements_names_only_packs_it_read(stack: Stack) -> None:
    suffix = unique_suffix()
    async with stack.sessions() as reader:
        execute = reader.execute
        statements = 0

        async def apply_after_the_first_statement(*args: Any, **kwargs: Any) -> Any:
            # The bundle and its new children commit from another session after the reader's first
            # read; each later statement of the reader sees them (READ COMMITTED).
            nonlocal statements
            result = await execute(*args, **kwargs)
            statements += 1
            if statements == 1:
                await apply_catalog(stack, btc_bundle_catalog(suffix))
            return result

        reader.execute = apply_after_the_first_statement  # type: ignore[method-assign]
        stored = await load_stored_catalog(reader)

    assert statements > 1
    for slug, pack in stored.items():
        assert set(pack.children) <= set(stored), slug
