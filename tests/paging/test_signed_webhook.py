from __future__ import annotations

import json

import pytest

from channels.base import WebhookRejected
from channels.signed_webhook import verify_ingest_signature
from tests.paging.conftest import Sink, make_page
from workers.paging.base import PageAction
from workers.paging.signed_webhook import SignedWebhookPager

SECRET = "pager-hook-secret"
NOW = 1_795_000_000


@pytest.mark.asyncio
async def test_signed_like_our_ingest_endpoint(sink: Sink) -> None:
    pager = SignedWebhookPager(sink.url + "hooks/pages", SECRET)
    result = await pager.send(make_page(), now=NOW)
    assert (result.ok, result.status) == (True, 200)
    (request,) = sink.fake.requests
    assert request.headers["X-Engage-Timestamp"] == str(NOW)
    signature = request.headers["X-Engage-Signature"]
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    # The receiver's check passes on the raw bytes, and fails on any change or another secret.
    verify_ingest_signature(SECRET, request.raw, signature=signature, timestamp=str(NOW), now=NOW + 5)
    with pytest.raises(WebhookRejected):
        verify_ingest_signature(SECRET, request.raw + b" ", signature=signature, timestamp=str(NOW), now=NOW)
    with pytest.raises(WebhookRejected):
        verify_ingest_signature("other", request.raw, signature=signature, timestamp=str(NOW), now=NOW)
    with pytest.raises(WebhookRejected):  # replayed later with the old timestamp
        verify_ingest_signature(SECRET, request.raw, signature=signature, timestamp=str(NOW), now=NOW + 3600)
    body = json.loads(request.raw)
    assert body["type"] == "engage.page" and body["action"] == "trigger" and body["sent_at"] == NOW
    assert body["dedup_key"] == "incident:x:1851230000000000000" and body["details"]["case"] == 42


@pytest.mark.asyncio
async def test_idempotency_key_repeats_for_a_retry_not_for_a_re_page(sink: Sink) -> None:
    pager = SignedWebhookPager(sink.url + "hooks/pages", SECRET)
    sink.fake.fail("/hooks/pages", 503)
    failed = await pager.send(make_page(), now=NOW)
    assert (failed.ok, failed.retryable) == (False, True)
    assert (await pager.send(make_page(), now=NOW + 30)).ok
    assert (await pager.send(make_page(to="eli"), now=NOW + 60)).ok
    assert (await pager.send(make_page(PageAction.RESOLVE), now=NOW + 90)).ok
    keys = [r.headers["Idempotency-Key"] for r in sink.fake.requests]
    assert keys[0] == keys[1] and len(set(keys)) == 3


def test_needs_a_secret_and_masks_it() -> None:
    with pytest.raises(ValueError):
        SignedWebhookPager("http://127.0.0.1/x", "")
    assert SECRET not in repr(SignedWebhookPager("http://127.0.0.1/x", SECRET))
