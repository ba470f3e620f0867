"""Replaying a file through the pipeline: good rows are ingested, bad rows dead-lettered with
their line, and the rest of the file still goes in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from channels.base import InboundPost
from channels.replay import ReplayFormat, RowError, read_file
from router import dead_letter
from router.db import session_scope
from router.ingest import IngestResult
from router.services import Services


@dataclass
class FileIngestReport:
    result: IngestResult = field(default_factory=IngestResult)
    bad_rows: list[RowError] = field(default_factory=list)


def ingest_file(
    services: Services, path: Path, fmt: ReplayFormat, progress: Callable[[int], None] | None = None
) -> FileIngestReport:
    report = FileIngestReport()
    source = f"file:{path.name}"
    batch: list[InboundPost] = []
    size = services.settings.ingest_batch_size

    def flush() -> None:
        if batch:
            report.result.add(services.ingestor.ingest(batch, source=source))
            batch.clear()

    for item in read_file(path, fmt, progress):
        if isinstance(item, RowError):
            report.bad_rows.append(item)
            with session_scope(services.engine) as session:
                dead_letter.keep(
                    session,
                    source=source,
                    location=f"{path}:{item.line}",
                    reason=item.reason,
                    payload=item.raw,
                )
            continue
        batch.append(item)
        if len(batch) >= size:
            flush()
    flush()
    return report
