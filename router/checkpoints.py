"""Pollers' checkpoints kept in the database, so a restarted poller neither loses nor repeats."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine
from sqlmodel import Session

from router.models import Checkpoint
from router.timeutil import utcnow


class DbCheckpointStore:
    """Implements channels.base.CheckpointStore on the `checkpoints` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def get(self, key: str) -> str | None:
        return await asyncio.to_thread(self._get, key)

    async def set(self, key: str, value: str) -> None:
        await asyncio.to_thread(self._set, key, value)

    def _get(self, key: str) -> str | None:
        with Session(self._engine) as session:
            row = session.get(Checkpoint, key)
            return row.value if row else None

    def _set(self, key: str, value: str) -> None:
        with Session(self._engine) as session:
            row = session.get(Checkpoint, key) or Checkpoint(key=key, value=value)
            row.value, row.updated_at = value, utcnow()
            session.add(row)
            session.commit()
