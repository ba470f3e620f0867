"""CRC, handshakes and signatures for X, Facebook and the generic signed webhook: valid, missing, forged."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import time

import pytest

from channels.base import WebhookRejected
from channels.facebook import verify_facebook_signature, verify_subscription
from channels.signed_webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignedWebhookAdapter,
    parse_body,
    sign,
)
from channels.x import crc_response, verify_x_signature

BODY = b'{"for_user_id":"2244994945","tweet_create_events":[{"id_str":"1","text":"caf\\u00e9 \\/ hi"}]}'


def test_x_crc_matches_the_documented_recipe() -> None:
    digest = hmac.new(b"consumer-secret", b"challenge-123", hashlib.sha256).digest()
    assert crc_response("consumer-secret", "challenge-123") == {
        "response_token": "sha256=" + base64.b64encode(digest).decode()
    }


def x_sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()


def test_x_signature_valid_missing_forged() -> None:
    verify_x_signature("cs", BODY, x_sign(b"cs", BODY))
    with pytest.raises(WebhookRejected) as missing:
        verify_x_signature("cs", BODY, None)
    assert missing.value.status == 401
    with pytest.raises(WebhookRejected) as forged:
        verify_x_signature("cs", BODY, x_sign(b"other", BODY))
    assert forged.value.status == 403
    with pytest.raises(WebhookRejected) as tampered:
        verify_x_signature("cs", BODY.replace(b"hi", b"ho"), x_sign(b"cs", BODY))
    assert tampered.value.status == 403
    hex_instead = "sha256=" + hmac.new(b"cs", BODY, hashlib.sha256).hexdigest()
    with pytest.raises(WebhookRejected):  # X signs base64, not hex
        verify_x_signature("cs", BODY, hex_instead)
    with pytest.raises(WebhookRejected) as unconfigured:
        verify_x_signature(None, BODY, x_sign(b"cs", BODY))
    assert unconfigured.value.status == 503


def test_facebook_handshake() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}
    assert verify_subscription(params, "verify-me") == "1158201444"
    for bad in ({**params, "hub.verify_token": "nope"}, {**params, "hub.mode": "unsubscribe"}, {}):
        with pytest.raises(WebhookRejected) as refused:
            verify_subscription(bad, "verify-me")
        assert refused.value.status == 403


def test_facebook_signature_valid_missing_forged() -> None:
    good = "sha256=" + hmac.new(b"app-secret", BODY, hashlib.sha256).hexdigest()
    verify_facebook_signature("app-secret", BODY, good)
    verify_facebook_signature("app-secret", BODY, good.upper().replace("SHA256=", "sha256="))
    with pytest.raises(WebhookRejected) as missing:
        verify_facebook_signature("app-secret", BODY, None)
    assert missing.value.status == 401
    with pytest.raises(WebhookRejected) as forged:
        verify_facebook_signature("app-secret", BODY, "sha256=" + "0" * 64)
    assert forged.value.status == 403
    reserialized = json.dumps(json.loads(BODY)).encode()  # Meta escapes unicode and "/": raw bytes only
    with pytest.raises(WebhookRejected):
        verify_facebook_signature("app-secret", reserialized, good)


def post_json(**overrides: object) -> dict:
    post = {
        "platform_id": "r-1",
        "account": "acme",
        "author": {"handle": "jo"},
        "text": "Room was cold",
        "created_at": "2026-11-20T10:30:00Z",
    }
    return {**post, **overrides}


def test_generic_signature_valid_missing_forged_and_stale() -> None:
    adapter = SignedWebhookAdapter("reviews", "s3cret")
    body = json.dumps({"posts": [post_json()]}).encode()
    now = time.time()
    ts = str(int(now))
    adapter.verify(body, {SIGNATURE_HEADER: sign("s3cret", ts, body), TIMESTAMP_HEADER: ts}, now=now)
    cases = {
        401: [
            {},
            {SIGNATURE_HEADER: sign("s3cret", ts, body)},
            {SIGNATURE_HEADER: "x", TIMESTAMP_HEADER: "soon"},
        ],
        403: [{SIGNATURE_HEADER: sign("wrong", ts, body), TIMESTAMP_HEADER: ts}],
    }
    for status, header_sets in cases.items():
        for headers in header_sets:
            with pytest.raises(WebhookRejected) as refused:
                adapter.verify(body, headers, now=now)
            assert refused.value.status == status, headers
    old = str(int(now) - 301)
    with pytest.raises(WebhookRejected, match="300 s") as stale:  # a captured delivery replayed later
        adapter.verify(body, {SIGNATURE_HEADER: sign("s3cret", old, body), TIMESTAMP_HEADER: old}, now=now)
    assert stale.value.status == 401
    with pytest.raises(WebhookRejected) as moved:  # a fresh timestamp on an old signature
        adapter.verify(body, {SIGNATURE_HEADER: sign("s3cret", old, body), TIMESTAMP_HEADER: ts}, now=now)
    assert moved.value.status == 403
    with pytest.raises(WebhookRejected) as unknown:
        SignedWebhookAdapter("forum", None).verify(body, {}, now=now)
    assert unknown.value.status == 404


def test_generic_signature_matches_the_documented_openssl_command() -> None:
    body, ts = json.dumps(post_json()).encode(), "1763634600"
    out = (
        subprocess.run(
            ["openssl", "dgst", "-sha256", "-hmac", "s3cret", "-r"],
            input=ts.encode() + b"." + body,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split()[0]
    )
    assert sign("s3cret", ts, body) == "sha256=" + out


def test_generic_body_single_batch_and_field_errors() -> None:
    (single,) = parse_body("reviews", json.dumps(post_json()).encode())
    assert single.channel == "reviews"
    batch = parse_body("reviews", json.dumps({"posts": [post_json(), post_json(platform_id="r-2")]}).encode())
    assert [p.platform_id for p in batch] == ["r-1", "r-2"]
    problems = {
        b"{not json": (400, "body: not valid JSON"),
        b"[1, 2]": (422, "body: must be a post object"),
        json.dumps({"posts": []}).encode(): (422, "posts: must be a non-empty list"),
        json.dumps({"posts": [post_json(), post_json(author={"handle": ""})]}).encode(): (
            422,
            "posts[1].author.handle:",
        ),
        json.dumps(post_json(created_at="2026-11-20T10:30:00")).encode(): (422, "created_at: Value error"),
        json.dumps(post_json(channel="x")).encode(): (422, "channel: must be 'reviews' or omitted"),
        json.dumps(post_json(surprise=1)).encode(): (422, "surprise: Extra inputs"),
    }
    for raw, (status, reason) in problems.items():
        with pytest.raises(WebhookRejected) as refused:
            parse_body("reviews", raw)
        assert refused.value.status == status and refused.value.reason.startswith(reason), (
            refused.value.reason
        )
