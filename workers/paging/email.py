"""Email over SMTP (aiosmtplib). Every mail about one incident carries the same References
header, so mail clients show the trigger, re-pages, acknowledge and resolve as one thread.

`to` on the page is used when it is an address; otherwise the configured recipients get it.
SMTP 4xx replies and connection faults are worth retrying; 5xx replies are not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib

from workers.paging.base import Page, PageResult, Severity

DEFAULT_TIMEOUT_SECONDS = 20.0


def thread_id(dedup_key: str, domain: str) -> str:
    return f"<incident-{hashlib.sha256(dedup_key.encode()).hexdigest()[:32]}@{domain}>"


def compose(page: Page, *, sender: str, recipients: Sequence[str], domain: str) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = page.title
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Date"] = format_datetime(page.at)
    mail["Message-ID"] = make_msgid("page", domain=domain)
    root = thread_id(page.dedup_key, domain)
    mail["In-Reply-To"] = root
    mail["References"] = root
    mail["X-Engage-Incident"] = page.dedup_key
    mail["X-Engage-Action"] = page.action.value
    if page.severity is Severity.CRITICAL:
        mail["X-Priority"] = "1"
        mail["Importance"] = "high"
    lines = [
        page.summary,
        "",
        f"Action: {page.action}",
        f"Severity: {page.severity}",
        f"Incident: {page.dedup_key}",
    ]
    lines.append(f"Source: {page.source}")
    if page.to:
        lines.append(f"Paged: {page.to}")
    if page.link:
        lines.append(f"Open: {page.link}")
    if page.details:
        lines += ["", *(f"{key}: {value}" for key, value in page.details.items())]
    mail.set_content("\n".join(lines) + "\n")
    return mail


class SmtpPager:
    name = "email"

    def __init__(
        self,
        *,
        hostname: str,
        port: int = 587,
        sender: str,
        recipients: Sequence[str] = (),
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = False,
        start_tls: bool | None = None,  # None: STARTTLS when the server offers it
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        domain: str = "engage-router",
    ) -> None:
        self.hostname = hostname
        self.port = port
        self.sender = sender
        self.recipients = tuple(recipients)
        self._username = username
        self._password = password
        self._use_tls = use_tls
        self._start_tls = start_tls
        self._timeout = timeout
        self._domain = domain

    def __repr__(self) -> str:
        return (
            f"SmtpPager(hostname={self.hostname!r}, port={self.port}, sender={self.sender!r}, password=***)"
        )

    async def send(self, page: Page) -> PageResult:
        recipients = [page.to] if page.to and "@" in page.to else list(self.recipients)
        if not recipients:
            return PageResult(
                self.name, False, page.dedup_key, None, "no recipient: the page names no address"
            )
        mail = compose(page, sender=self.sender, recipients=recipients, domain=self._domain)
        try:
            refused, reply = await aiosmtplib.send(
                mail,
                hostname=self.hostname,
                port=self.port,
                username=self._username,
                password=self._password,
                use_tls=self._use_tls,
                start_tls=self._start_tls,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            transient = all(400 <= c < 500 for c in codes)
            message = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            return PageResult(
                self.name, False, page.dedup_key, codes[0] if codes else None, message, transient
            )
        except aiosmtplib.SMTPResponseException as exc:
            return PageResult(self.name, False, page.dedup_key, exc.code, exc.message, 400 <= exc.code < 500)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return PageResult(self.name, False, page.dedup_key, None, f"{type(exc).__name__}: {exc}", True)
        message = reply
        if refused:  # some recipients took it: the page reached someone
            message += " (refused: " + ", ".join(f"{k}: {v.code}" for k, v in refused.items()) + ")"
        return PageResult(self.name, True, page.dedup_key, 250, message)
