"""What people do to a case or a reply, once for both the JSON API and the page forms.

Each operation takes the request (for the app and the DB threads), the caller, the id from the
path and the submitted fields, and returns (HTTP status, JSON-ready result)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from aiohttp import web
from sqlmodel import Session

from router import claims, replies
from router.errors import ApiError
from router.replies import Reply, ReplyStatus
from router.runtime import run_blocking, services
from router.users import Principal
from router.web import casework
from router.web.settings import QUEUE_SETTINGS

T = TypeVar("T")
Fields = dict[str, Any]
Result = tuple[int, dict[str, Any]]
Operation = Callable[[web.Request, Principal, int, Fields], Awaitable[Result]]


async def in_session(request: web.Request, work: Callable[[Session], T]) -> T:
    """Run `work` in one transaction on the DB threads; it commits when `work` returns."""
    engine, sla = services(request).engine, services(request).sla

    def run() -> T:
        # Case changes that move a clock (handoff, resolve, reopen) find the SLA config here.
        with Session(engine, expire_on_commit=False, info={casework.SLA_CONFIG: sla}) as session:
            result = work(session)

            session.commit()
            return result

    return await run_blocking(request, run)


def lease(request: web.Request) -> timedelta:
    return timedelta(seconds=request.app[QUEUE_SETTINGS].lease_seconds)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):  # a form field: comma separated
        return [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(422, "bad_tags", "add and remove are lists of strings")
    return value


async def claim(request: web.Request, user: Principal, case_id: int, fields: Fields) -> Result:
    held = await in_session(
        request, lambda s: casework.claim(s, casework.load(s, case_id, user), user, lease(request))
    )
    since, until = held.since.isoformat(), held.expires_at.isoformat()
    return 200, {"case": case_id, "holder": held.name, "since": since, "expires_at": until}


async def release(request: web.Request, user: Principal, case_id: int, fields: Fields) -> Result:
    def work(s: Session) -> bool:
        casework.load(s, case_id, user)
        return claims.release(s, case_id=case_id, user=user)

    return 200, {"case": case_id, "released": await in_session(request, work)}


async def deliver(request: web.Request, reply: Reply, actor: str) -> Result:
    """Send a reply that is ready; a failed send stays on the case as failed and answers 502."""
    if reply.status == ReplyStatus.SENDING:
        assert reply.id is not None
        reply = await replies.send(request.app, reply_id=reply.id, actor=actor)
    if reply.status == ReplyStatus.FAILED:
        reason = f"the channel did not take the reply: {reply.error}"
        raise ApiError(502, "send_failed", reason, reply=reply.public())
    return (201 if reply.status == ReplyStatus.SENT else 202), {"reply": reply.public()}


async def reply(request: web.Request, user: Principal, case_id: int, fields: Fields) -> Result:
    target = fields.get("in_reply_to_post_id") or None

    def work(s: Session) -> Reply:
        case = casework.load(s, case_id, user)
        casework.claim(s, case, user, lease(request))  # replying needs the claim
        post_id = int(target) if target is not None else None
        return replies.draft(
            s, case=case, user=user, text=str(fields.get("text", "")), in_reply_to_post_id=post_id
        )

    return await deliver(request, await in_session(request, work), user.name)


async def handoff(request: web.Request, user: Principal, case_id: int, fields: Fields) -> Result:
    to, reason = str(fields.get("queue", "")), str(fields.get("reason", ""))
    await in_session(
        request, lambda s: casework.handoff(s, casework.load(s, case_id, user), user, to=to, reason=reason)
    )
    await _clocks_moved(request, [case_id])
    return 200, {"case": case_id, "queue": to}


async def resolve(request: web.Request, user: Principal, case_id: int, fields: Fields) -> Result:
    await in_session(request, lambda s: casework.resolve(s, casework.load(s, case_id, user), user))
    await _clocks_moved(request, [case_id])
    return 200, {"case": case_id, "status": "resolved"}


async def reopen(request: web.Request, user: Principal, case_id: int, fields: Fields) -> Result:
    await in_session(request, lambda s: casework.reopen(s, casework.load(s, case_id, user), user))
    await _clocks_moved(request, [case_id])
    return 200, {"case": case_id, "status": "open"}


async def _clocks_moved(request: web.Request, case_ids: list[int]) -> None:
    """SLA timers follow a person's change (handoff, resolve, reopen), as they follow ingest."""
    from workers import timers

    await run_blocking(request, timers.cases_changed, case_ids)


async def notes(request: web.Request, user: Principal, case_id: int, fields: Fields) -> Result:
    text = str(fields.get("text", ""))
    note = await in_session(
        request, lambda s: casework.add_note(s, casework.load(s, case_id, user), user, text)
    )
    return 201, {"note": {"id": note.id, "author": note.author, "text": note.text}}


async def tags(request: web.Request, user: Principal, case_id: int, fields: Fields) -> Result:
    add, remove = _strings(fields.get("add", [])), _strings(fields.get("remove", []))
    result = await in_session(
        request, lambda s: casework.set_tags(s, casework.load(s, case_id, user), user, add=add, remove=remove)
    )
    return 200, {"case": case_id, "tags": result}


CASE_OPERATIONS: dict[str, Operation] = {
    "claim": claim,
    "release": release,
    "reply": reply,
    "handoff": handoff,
    "resolve": resolve,
    "reopen": reopen,
    "notes": notes,
    "tags": tags,
}


def _reply_and_case(s: Session, reply_id: int, user: Principal) -> tuple[Reply, Any]:
    found = s.get(Reply, reply_id)
    if found is None:
        raise ApiError(404, "not_found", f"no reply {reply_id}")
    return found, casework.load(s, found.case_id, user)


async def approve(request: web.Request, user: Principal, reply_id: int, fields: Fields) -> Result:
    def work(s: Session) -> Reply:
        found, _ = _reply_and_case(s, reply_id, user)
        replies.approve(s, reply=found, user=user)
        s.refresh(found)
        return found

    return await deliver(request, await in_session(request, work), user.name)


async def reject(request: web.Request, user: Principal, reply_id: int, fields: Fields) -> Result:
    def work(s: Session) -> Reply:
        found, _ = _reply_and_case(s, reply_id, user)
        replies.reject(s, reply=found, user=user, reason=str(fields.get("reason", "")))
        s.refresh(found)
        return found

    return 200, {"reply": (await in_session(request, work)).public()}


async def retry(request: web.Request, user: Principal, reply_id: int, fields: Fields) -> Result:
    def work(s: Session) -> Reply:
        found, case = _reply_and_case(s, reply_id, user)
        casework.claim(s, case, user, lease(request))
        replies.mark_retry(s, reply=found, user=user)
        s.refresh(found)
        return found

    return await deliver(request, await in_session(request, work), user.name)


REPLY_OPERATIONS: dict[str, Operation] = {"approve": approve, "reject": reject, "retry": retry}


async def bulk(request: web.Request, user: Principal, fields: Fields) -> dict[str, Any]:
    ids = fields.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise ApiError(422, "bad_ids", "ids is a list of case ids")
    params = fields.get("params") or {}
    if not isinstance(params, dict):
        raise ApiError(422, "bad_params", "params is an object")
    action = str(fields.get("action", ""))
    done = await in_session(request, lambda s: casework.bulk(s, user, ids=ids, action=action, params=params))
    if done["done"]:
        await _clocks_moved(request, done["done"])
    return done
