"""Replaying a file through the pipeline: good rows are ingested, bad rows dead-lettered with
their line, and the rest of the file still goes in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from channels.base import InboundPost
from channels.replay import ReplayFormat, RowError, read_file
from router.ingest import Ingestor, IngestResult


@dataclass
class FileIngestReport:
    result: IngestResult = field(default_factory=IngestResult)
    bad_rows: list[RowError] = field(default_factory=list)


def ingest_file(
    ingestor: Ingestor,
    path: Path,
    fmt: ReplayFormat,
    *,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> FileIngestReport:
    report = FileIngestReport()
    source = f"file:{path.name}"

    def good_rows() -> Iterator[InboundPost]:
        for item in read_file(path, fmt, progress):
            if isinstance(item, RowError):
                report.bad_rows.append(item)
                ingestor.dead_letter(
                    source=source, location=f"{path}:{item.line}", reason=item.reason, payload=item.raw
                )
            else:
                yield item

    report.result = ingestor.ingest_stream(good_rows(), source=source, batch_size=batch_size)
    return report
