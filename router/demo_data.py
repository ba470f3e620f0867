"""A realistic multi-channel sample the demo replays: complaints, questions, praise, spam and a
risky public thread, timed relative to now so SLA clocks look live."""

from __future__ import annotations

from datetime import datetime, timedelta

from channels.base import Author, Direction, InboundPost

BRAND_X = "AcmeHelp"
BRAND_PAGE = "AcmeFoods"
FORUM = "community"

# (minutes ago, channel, id, author, followers, verified, text, in reply to, direction)
_SAMPLE: list[tuple[int, str, str, str, int, bool, str, str | None, str]] = [
    (
        95,
        "x",
        "d-x-1",
        "maria_k",
        340,
        False,
        "@AcmeHelp my order #4411 never arrived and nobody answers my DMs",
        None,
        "in",
    ),
    (
        80,
        "x",
        "d-x-2",
        BRAND_X,
        120_000,
        True,
        "@maria_k Sorry Maria! Could you DM us the order number so we can trace it? ^JS",
        "d-x-1",
        "out",
    ),
    (
        60,
        "x",
        "d-x-3",
        "maria_k",
        340,
        False,
        "@AcmeHelp sent it an hour ago, still nothing. This is the third time.",
        "d-x-2",
        "in",
    ),
    (
        70,
        "x",
        "d-x-4",
        "dave_codes",
        1_200,
        False,
        "@AcmeHelp what time does the Berlin store open on Sundays?",
        None,
        "in",
    ),
    (
        50,
        "x",
        "d-x-5",
        "sunny_side",
        800,
        False,
        "@AcmeHelp the new oat bars are amazing, thank you!! 😍",
        None,
        "in",
    ),
    (
        40,
        "x",
        "d-x-6",
        "foodie_anna",
        250_000,
        True,
        "@AcmeHelp got food poisoning from your chicken wrap, I was in hospital all night. "
        "Talking to my lawyer.",
        None,
        "in",
    ),
    (
        35,
        "x",
        "d-x-7",
        "tom_r",
        90,
        False,
        "@foodie_anna same here!! my kid was sick after the wrap too @AcmeHelp",
        "d-x-6",
        "in",
    ),
    (
        33,
        "x",
        "d-x-8",
        "lisa_m",
        4_000,
        False,
        "@foodie_anna @AcmeHelp this is a safety issue, recall it now",
        "d-x-6",
        "in",
    ),
    (
        30,
        "x",
        "d-x-9",
        "promo_bot_77",
        3,
        False,
        "@AcmeHelp FREE followers!!! click http://spam.example/win win win",
        None,
        "in",
    ),
    (
        55,
        "facebook",
        "d-fb-1",
        "Jonas Weber",
        0,
        False,
        "I was charged twice for my subscription this month. Who can refund me?",
        "AcmeFoods_post1",
        "in",
    ),
    (
        45,
        "facebook",
        "d-fb-2",
        "Priya Shah",
        0,
        False,
        "Is the vegan range available in Munich stores yet?",
        "AcmeFoods_post1",
        "in",
    ),
    (
        25,
        "facebook",
        "d-fb-3",
        BRAND_PAGE,
        0,
        False,
        "Hi Priya, yes, since Monday! Look for the green shelf labels.",
        "d-fb-2",
        "out",
    ),
    (
        20,
        "facebook",
        "d-fb-4",
        "Karl Bauer",
        0,
        False,
        "Your app has been down all morning, can't order anything. Outage?",
        "AcmeFoods_post1",
        "in",
    ),
    (
        15,
        "community",
        "d-forum-1",
        "old_timer",
        0,
        False,
        "Compared to BrandY your loyalty points are a joke. Why should I stay?",
        None,
        "in",
    ),
    (
        10,
        "community",
        "d-forum-2",
        "newbie42",
        0,
        False,
        "How do I change the delivery address on an open order?",
        None,
        "in",
    ),
]


def demo_posts(now: datetime) -> list[InboundPost]:
    posts = []
    for minutes, channel, pid, author, followers, verified, text, parent, way in _SAMPLE:
        account = {"x": BRAND_X, "facebook": BRAND_PAGE}.get(channel, FORUM)
        posts.append(
            InboundPost(
                channel=channel,
                platform_id=pid,
                account=account,
                author=Author(handle=author, display_name=author, followers=followers, verified=verified),
                text=text,
                created_at=now - timedelta(minutes=minutes),
                in_reply_to=parent,
                direction=Direction.INBOUND if way == "in" else Direction.OUTBOUND,
                lang="en",
                raw={"source": "demo"},
            )
        )
    return posts
