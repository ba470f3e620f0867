"""Business-time figures, derived per case and kept so a report aggregates them in SQL.

Business seconds depend on the case's SLA calendar, which SQL cannot evaluate; so each case's are
computed once in Python (router/reports/business.py) and stored here with the case's
`updated_at` and the calendar's fingerprint: a changed case or calendar is recomputed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from router.models import BigId
from router.timeutil import UTCDateTime, utcnow


class ReportCaseTimes(SQLModel, table=True):
    __tablename__ = "report_case_times"

    case_id: int = Field(sa_type=BigId, primary_key=True)
    calendar: str = Field(max_length=200)  # policy name + calendar fingerprint it was computed with
    case_updated_at: datetime = Field(sa_type=UTCDateTime)
    first_response_s: int | None = None
    resolution_s: int | None = None
    computed_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class ReportTurnTimes(SQLModel, table=True):
    """Business seconds from a customer post that reopened the conversation to our next reply."""

    __tablename__ = "report_turn_times"
    __table_args__ = (Index("ix_report_turn_times_case_id", "case_id"),)

    post_id: int = Field(sa_type=BigId, primary_key=True)
    case_id: int = Field(sa_type=BigId)
    next_response_s: int | None = None
