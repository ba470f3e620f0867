"""Checkpoint storage for pollers. The router provides the durable one; this one lives in memory."""

from __future__ import annotations


class InMemoryCheckpointStore:
    """Implements `channels.base.CheckpointStore`; shared between adapter instances in tests."""

    def __init__(self, initial: dict[str, str] | None = None) -> None:
        self.values: dict[str, str] = dict(initial or {})

    async def get(self, key: str) -> str | None:
        return self.values.get(key)

    async def set(self, key: str, value: str) -> None:
        self.values[key] = value
