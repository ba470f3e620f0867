from __future__ import annotations

import pytest

from tests.paging.conftest import SmtpServer, make_page
from workers.paging.base import PageAction, Severity
from workers.paging.email import SmtpPager, thread_id


def pager(server: SmtpServer, **kw: object) -> SmtpPager:
    options: dict[str, object] = {
        "hostname": "127.0.0.1",
        "port": server.port,
        "sender": "engage@acme.test",
        "recipients": ["pr-oncall@acme.test"],
        "start_tls": False,
    }
    options.update(kw)
    return SmtpPager(**options)  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_a_page_is_a_mail_and_an_incident_is_one_thread(smtp_server: SmtpServer) -> None:
    mailer = pager(smtp_server)
    for action in (PageAction.TRIGGER, PageAction.ACKNOWLEDGE, PageAction.RESOLVE):
        result = await mailer.send(make_page(action, to="dana@acme.test"))
        assert (result.ok, result.status) == (True, 250), result
    received = smtp_server.handler.received
    assert [(frm, to) for frm, to, _ in received] == [("engage@acme.test", ["dana@acme.test"])] * 3
    subjects = [mail["Subject"] for _, _, mail in received]
    assert subjects[0].startswith("[TRIGGER critical] Legal threat")
    assert subjects[1].startswith("[ACKNOWLEDGE critical]") and subjects[2].startswith("[RESOLVE critical]")
    root = thread_id("incident:x:1851230000000000000", "engage-router")
    assert {mail["References"] for _, _, mail in received} == {root}
    assert len({mail["Message-ID"] for _, _, mail in received}) == 3
    first = received[0][2]
    assert first["X-Engage-Incident"] == "incident:x:1851230000000000000"
    assert first["X-Priority"] == "1"
    text = first.get_payload(decode=True).decode()
    assert "Open: http://127.0.0.1:8080/cases/42" in text and "risk: 0.93" in text


@pytest.mark.asyncio
async def test_a_person_without_an_address_goes_to_the_configured_recipients(smtp_server: SmtpServer) -> None:
    result = await pager(smtp_server).send(make_page(to="dana", severity=Severity.WARNING))
    assert result.ok
    _, to, mail = smtp_server.handler.received[0]
    assert to == ["pr-oncall@acme.test"] and mail["X-Priority"] is None
    nobody = await pager(smtp_server, recipients=()).send(make_page(to="dana"))
    assert (nobody.ok, nobody.retryable) == (False, False)


@pytest.mark.asyncio
async def test_refused_recipients(smtp_server: SmtpServer) -> None:
    smtp_server.handler.refuse = {
        "gone@acme.test": "550 5.1.1 No such user",
        "busy@acme.test": "451 4.3.0 Try again later",
    }
    gone = await pager(smtp_server).send(make_page(to="gone@acme.test"))
    assert (gone.ok, gone.status, gone.retryable) == (False, 550, False)
    busy = await pager(smtp_server).send(make_page(to="busy@acme.test"))
    assert (busy.ok, busy.status, busy.retryable) == (False, 451, True)
    partly = await pager(smtp_server, recipients=["gone@acme.test", "pr@acme.test"]).send(
        make_page(to="dana")
    )
    assert partly.ok and "gone@acme.test: 550" in partly.message
    assert [to for _, to, _ in smtp_server.handler.received] == [["pr@acme.test"]]


@pytest.mark.asyncio
async def test_no_server_is_retryable() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = await SmtpPager(
        hostname="127.0.0.1", port=port, sender="a@b.test", recipients=["c@d.test"]
    ).send(make_page())
    assert (result.ok, result.retryable) == (False, True)
    assert "hunter2" not in repr(SmtpPager(hostname="h", sender="a@b.test", password="hunter2"))
