"""File replay: the public "Customer Support on Twitter" CSV (TWCS) and JSONL of normalized posts."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from channels.base import Author, Direction, InboundPost

TWCS_COLUMNS = (
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
)
TWCS_TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"
MENTION = re.compile(r"@(\w{1,50})")
UNKNOWN_ACCOUNT = "unknown"


class ReplayFormat(StrEnum):
    TWCS = "twcs"
    JSONL = "jsonl"


@dataclass(frozen=True, slots=True)
class RowError:
    """A line we could not read: kept with its place so it can be fixed and replayed."""

    line: int
    reason: str
    raw: str


ReplayItem = InboundPost | RowError
Progress = Callable[[int], None]  # called with the number of bytes read so far


def read_file(path: Path, fmt: ReplayFormat, progress: Progress | None = None) -> Iterator[ReplayItem]:
    if fmt == ReplayFormat.JSONL:
        return read_jsonl(path, progress)
    return read_twcs(path, progress)


def read_jsonl(path: Path, progress: Progress | None = None) -> Iterator[ReplayItem]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if progress:
                progress(handle.tell())
            line = raw.decode("utf-8", errors="replace").strip()
            if not line:
                continue
            try:
                yield InboundPost.model_validate_json(line)
            except ValidationError as exc:
                yield RowError(number, _describe(exc), line)


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"]) or "line"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class _TwcsIndex:
    """What a first pass learns: who the brands are and which brand each thread talks to."""

    brands: frozenset[str]
    brand_of_tweet: dict[str, str]  # a brand's tweet id -> brand
    answered_by: dict[str, str]  # a customer tweet id -> the brand that replied to it


def _twcs_rows(handle: IO[str], progress: Progress | None) -> Iterator[tuple[int, dict[str, str] | str]]:
    """(first line of the record, row) — or (line, error message) for a row that is not one."""
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        return
    if tuple(h.strip() for h in header) != TWCS_COLUMNS:
        yield 1, f"header must be {','.join(TWCS_COLUMNS)}"
        return
    line = reader.line_num + 1
    for record in reader:
        if progress:
            progress(handle.buffer.tell() if hasattr(handle, "buffer") else 0)
        if len(record) != len(TWCS_COLUMNS):
            yield line, f"expected {len(TWCS_COLUMNS)} columns, found {len(record)}"
        else:
            yield line, dict(zip(TWCS_COLUMNS, record, strict=True))
        line = reader.line_num + 1


def _index_twcs(path: Path) -> _TwcsIndex:
    brands: set[str] = set()
    brand_of_tweet: dict[str, str] = {}
    answered_by: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for _, row in _twcs_rows(handle, None):
            if isinstance(row, dict) and row["inbound"].strip().upper() == "FALSE":
                brand = row["author_id"].strip()
                brands.add(brand)
                brand_of_tweet[row["tweet_id"].strip()] = brand
                if parent := row["in_response_to_tweet_id"].strip():
                    answered_by.setdefault(parent, brand)
    return _TwcsIndex(frozenset(brands), brand_of_tweet, answered_by)


def read_twcs(path: Path, progress: Progress | None = None) -> Iterator[ReplayItem]:
    index = _index_twcs(path)
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in _twcs_rows(handle, progress):
            if isinstance(row, str):
                yield RowError(line, row, "")
                continue
            try:
                yield _twcs_post(row, index)
            except ValueError as exc:
                yield RowError(line, str(exc), json.dumps(row, ensure_ascii=False))


def _twcs_post(row: dict[str, str], index: _TwcsIndex) -> InboundPost:
    tweet_id, author = row["tweet_id"].strip(), row["author_id"].strip()
    if not tweet_id.isdigit():
        raise ValueError(f"tweet_id must be a number, got {row['tweet_id']!r}")
    if not author:
        raise ValueError("author_id is empty")
    flag = row["inbound"].strip().upper()
    if flag not in ("TRUE", "FALSE"):
        raise ValueError(f"inbound must be TRUE or FALSE, got {row['inbound']!r}")
    try:
        created_at = datetime.strptime(row["created_at"].strip(), TWCS_TIME_FORMAT)
    except ValueError:
        raise ValueError(
            f"created_at {row['created_at']!r} is not like 'Tue Oct 31 22:10:47 +0000 2017'"
        ) from None
    parent = row["in_response_to_tweet_id"].strip() or None
    if parent is not None and not parent.isdigit():
        raise ValueError(f"in_response_to_tweet_id must be a number, got {parent!r}")
    inbound = flag == "TRUE"
    account = _addressed_brand(tweet_id, row["text"], parent, index) if inbound else author
    return InboundPost(
        channel="x",
        platform_id=tweet_id,
        account=account,
        author=Author(handle=author, platform_user_id=author),
        text=row["text"],
        created_at=created_at,
        in_reply_to=parent,
        direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
        url=f"https://x.com/{author}/status/{tweet_id}",
        raw={"source": "twcs", **row},
    )


def _addressed_brand(tweet_id: str, text: str, parent: str | None, index: _TwcsIndex) -> str:
    """The brand a customer addresses: the one they reply to, else the first brand they mention,
    else the brand that answered them."""
    if parent and parent in index.brand_of_tweet:
        return index.brand_of_tweet[parent]
    mentioned = MENTION.findall(text)
    for handle in mentioned:
        if handle in index.brands:
            return handle
    if tweet_id in index.answered_by:
        return index.answered_by[tweet_id]
    return mentioned[0] if mentioned else UNKNOWN_ACCOUNT
