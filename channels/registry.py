"""The one table of channels: what each produces, and how to build its adapter from configuration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from channels.base import ChannelAdapter, CheckpointStore, PollingAdapter, ReplyingAdapter
from channels.facebook import FacebookAdapter
from channels.settings import ChannelConfig
from channels.x import XAdapter

AdapterFactory = Callable[[ChannelConfig, CheckpointStore], ChannelAdapter]


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    produces: tuple[str, ...]  # values of InboundPost.channel
    summary: str
    build: AdapterFactory | None = None  # None: no long-lived adapter (files, per-source webhooks)
    polls: bool = False
    replies: bool = False
    webhook: str | None = None


def _x(config: ChannelConfig, checkpoints: CheckpointStore) -> ChannelAdapter:
    return XAdapter(config.x, checkpoints)


def _facebook(config: ChannelConfig, checkpoints: CheckpointStore) -> ChannelAdapter:
    return FacebookAdapter(config.facebook, checkpoints)


CHANNELS: dict[str, ChannelSpec] = {
    spec.name: spec
    for spec in (
        ChannelSpec(
            "x",
            ("x",),
            "X posts: recent search, brand mentions, Account Activity webhooks",
            build=_x,
            polls=True,
            replies=True,
            webhook="/webhooks/x",
        ),
        ChannelSpec(
            "facebook",
            ("facebook", "messenger"),
            "Facebook Page feed, comments and Messenger",
            build=_facebook,
            polls=True,
            replies=True,
            webhook="/webhooks/facebook",
        ),
        ChannelSpec(
            "ingest",
            (),
            "any source POSTing signed normalized posts (channel = the source name)",
            webhook="/ingest/{source}",
        ),
        ChannelSpec("replay", ("twcs", "jsonl"), "TWCS CSV and JSONL files (channels/replay.py)"),
    )
}


def spec(name: str) -> ChannelSpec:
    try:
        return CHANNELS[name]
    except KeyError:
        raise KeyError(f"unknown channel {name!r}; known: {', '.join(CHANNELS)}") from None


def build_adapter(name: str, config: ChannelConfig, checkpoints: CheckpointStore) -> ChannelAdapter:
    found = spec(name)
    if found.build is None:
        raise KeyError(f"channel {name!r} has no adapter to build")
    return found.build(config, checkpoints)


def build_poller(name: str, config: ChannelConfig, checkpoints: CheckpointStore) -> PollingAdapter:
    if not spec(name).polls:
        raise KeyError(f"channel {name!r} cannot be polled")
    return cast(PollingAdapter, build_adapter(name, config, checkpoints))


def replier_for(
    post_channel: str, config: ChannelConfig, checkpoints: CheckpointStore
) -> ReplyingAdapter | None:
    """The adapter that answers a post of `post_channel` ("messenger" -> facebook), or None."""
    for candidate in CHANNELS.values():
        if post_channel in candidate.produces and candidate.replies:
            return cast(ReplyingAdapter, build_adapter(candidate.name, config, checkpoints))
    return None
