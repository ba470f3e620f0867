from __future__ import annotations

import pytest

from router.checkpoints import DbCheckpointStore


@pytest.mark.asyncio
async def test_a_checkpoint_survives_a_new_store_instance(engine) -> None:
    assert await DbCheckpointStore(engine).get("x:search:acme") is None
    await DbCheckpointStore(engine).set("x:search:acme", "100")
    await DbCheckpointStore(engine).set("x:search:acme", "250")
    assert await DbCheckpointStore(engine).get("x:search:acme") == "250"
