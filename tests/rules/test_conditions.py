"""Every condition, both ways: a post it passes and a post it does not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.rules.conftest import RULESET_HEAD, post


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """March 2026 in UTC: the 4th is a Wednesday, the 7th a Saturday."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


CASES = [
    # (condition, passing post, failing post)
    ("{words: [lawyer]}", post("My LAWYER will call"), post("lawyers are not the word")),
    ("{words: [lawyer]}", post("talking to my lawyer."), post("mylawyer is one word")),
    ("{words: [cafe]}", post("Le Café était froid"), post("cafeteria")),
    ("{words: [déçu]}", post("tres decu"), post("deçus")),
    ("{words: ['legal action']}", post("we will take  legal\naction"), post("legal, no action")),
    ("{words: [refund, 'money back']}", post("I want my money back!"), post("refunded")),
    ("{words: ['😡']}", post("seriously😡😡"), post("🙂 fine")),
    ("{words: ['❤️']}", post("love it ❤"), post("love it")),
    ("{words: ['#acmefail']}", post("again #AcmeFail"), post("#acmefailure")),
    ("{words: [\"can't\"]}", post("I can\u2019t log in"), post("I cant log in")),
    ("{regex: 'order\\s*#?\\d{6,}'}", post("Order #1234567 late"), post("order 123")),
    ("{regex: '(?-i)ACME'}", post("ACME rocks"), post("acme rocks")),
    ("{channel: [facebook, instagram]}", post(channel="facebook"), post(channel="x")),
    ("{channel: X}", post(channel="x"), post(channel="facebook")),
    ("{account: '@Acme_Help'}", post(account="acme_help"), post(account="@acme")),
    ("{followers: {at_least: 10000}}", post(author_followers=10000), post(author_followers=9999)),
    ("{followers: {at_most: 100}}", post(author_followers=100), post(author_followers=101)),
    ("{followers: {between: [10, 20]}}", post(author_followers=20), post(author_followers=21)),
    ("{followers: {more_than: 5, less_than: 7}}", post(author_followers=6), post(author_followers=7)),
    ("{followers: 5000}", post(author_followers=5000), post(author_followers=4999)),
    ("{verified: true}", post(author_verified=True), post(author_verified=False)),
    ("{verified: false}", post(author_verified=False), post(author_verified=True)),
    ("{known_customer: true}", post(known_customer=True), post(known_customer=False)),
    ("{sentiment: {at_most: -0.5}}", post("I hate this, worst service ever"), post("I love it, great job")),
    ("{sentiment: {at_least: 0.5}}", post("I love it, great job"), post("it is a chair")),
    ("{language: fr}", post("bonjour", lang="fr"), post("hello", lang="en")),
    ("{language: fr}", post("Bonjour, ma commande n'est toujours pas arrivée", lang=None),
     post("Hello, my order still has not arrived at all", lang=None)),
    ("{language: [pt]}", post("olá", lang="pt-BR"), post("hi", lang="en-GB")),
    ("{language: de}", post("Meine Bestellung ist noch nicht angekommen", lang="und"), post("hi", lang="en")),
    ("{thread_posts: {at_least: 10}}", post(thread_posts=10), post(thread_posts=9)),
    ("{distinct_authors: {at_least: 5}}", post(distinct_authors=5), post(distinct_authors=4)),
    ("{replies_last_hour: {at_least: 20}}", post(replies_last_hour=20), post(replies_last_hour=19)),
    ("{open_cases: {at_least: 1}}", post(open_cases=1), post(open_cases=0)),
    ("{cases_30d: {at_least: 3}}", post(cases_30d=3), post(cases_30d=2)),
    ("{time_of_day: {between: ['22:00', '06:00']}}",
     post(created_at=at(4, 23, 30)), post(created_at=at(4, 6, 0))),
    ("{time_of_day: {between: ['09:00', '17:00']}}",
     post(created_at=at(4, 9, 0)), post(created_at=at(4, 17, 0))),
    ("{time_of_day: {after: '18:00'}}",
     post(created_at=at(4, 18, 1)), post(created_at=at(4, 17, 59))),
    ("{weekday: [sat, sun]}", post(created_at=at(7, 12)), post()),
    ("{business_hours: true}", post(), post(created_at=at(7, 12))),
    ("{business_hours: false}", post(created_at=at(4, 20, 0)), post()),
    ("{all: [{words: [refund]}, {followers: {at_least: 1000}}]}",
     post("refund please", author_followers=5000), post("refund please", author_followers=10)),
    ("{words: [refund], verified: true}", post("refund", author_verified=True), post("refund")),
    ("{any: [{verified: true}, {followers: {at_least: 1000}}]}", post(author_followers=1000), post()),
    ("{not: {channel: x}}", post(channel="facebook"), post(channel="x")),
    ("{not: {words: [thanks]}}", post("help"), post("thanks")),
    ("{any: [{words: [a1]}, {not: {words: [b2]}}]}", post("nothing"), post("b2 only")),
]  # fmt: skip


@pytest.mark.parametrize(("condition", "yes", "no"), CASES, ids=[c[0][:50] for c in CASES])
def test_condition_both_ways(passes, condition, yes, no) -> None:
    assert passes(condition, yes), f"{condition} should pass {yes.text!r}"
    assert not passes(condition, no), f"{condition} should not pass {no.text!r}"


def test_time_conditions_use_the_rule_set_time_zone(passes) -> None:
    head = "timezone: America/New_York\n" + RULESET_HEAD
    # 02:00 UTC on a Thursday is 21:00 Wednesday in New York
    late = post(created_at=at(5, 2, 0))
    assert passes("{weekday: wed}", late, head=head)
    assert passes("{time_of_day: {after: '20:00'}}", late, head=head)
    assert not passes("{weekday: wed}", late)


def test_business_hours_definition(passes) -> None:
    head = "business_hours: {days: [sat], opens: '10:00', closes: '12:00'}\n" + RULESET_HEAD
    assert passes("{business_hours: true}", post(created_at=at(7, 11)), head=head)
    assert not passes("{business_hours: true}", post(), head=head)
