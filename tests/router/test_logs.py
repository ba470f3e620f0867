from __future__ import annotations

import json
import logging

import pytest

from router import logs


@pytest.fixture(autouse=True)
def _restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def test_service_logs_are_json_lines_with_request_and_case_ids(capsys) -> None:
    logs.configure(json_lines=True, level=logging.INFO)
    token = logs.request_id.set("req-42")
    try:
        logging.getLogger("router.test").info("claimed", extra={"case_id": 7})
    finally:
        logs.request_id.reset(token)
    line = json.loads(capsys.readouterr().err.strip())
    assert (line["msg"], line["request_id"], line["case_id"], line["level"]) == (
        "claimed",
        "req-42",
        7,
        "info",
    )


def test_a_secret_never_reaches_the_log_whoever_logs_it(capsys, monkeypatch) -> None:
    monkeypatch.setenv("INGEST_SECRET_FORUM", "s3cr3t-forum-key")
    from router.settings import Settings

    logs.configure(json_lines=False, level=logging.INFO, secrets=Settings().secret_values())
    logging.getLogger("some.library").warning("signing with %s failed", "s3cr3t-forum-key")
    err = capsys.readouterr().err
    assert "s3cr3t-forum-key" not in err and logs.MASK in err


def test_the_access_log_masks_the_facebook_verify_token(caplog) -> None:
    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    request = make_mocked_request(
        "GET", "/webhooks/facebook?hub.mode=subscribe&hub.verify_token=tok-123&hub.challenge=9"
    )
    access = logs.AccessLogger(logging.getLogger("aiohttp.access"), "")
    with caplog.at_level(logging.INFO, logger="aiohttp.access"):
        access.log(request, web.Response(status=200), 0.002)
    assert "tok-123" not in caplog.text and "hub.challenge=9" in caplog.text
