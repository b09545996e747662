"""A page's query count does not grow with the data: every GET page, for every
demo login, rendered on the demo data plus a small Trust-like seed, then again
after the seed has grown, sends the same number of queries. Pages are found from
app.url_map, so a page added later is covered without touching this test."""
from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

from bench.seed import Sizes, seed
from peerapp.access import may
from peerapp.db import counting_queries, db
from peerapp.demo import DEMO_USERS, load_demo
from peerapp.models import LoginSession, User

SMALL = Sizes(teams=3, peer_roles=6, candidates=14, referrals=60, contacts=120, audit=150, runs=3,
              clinicians_per_team=2)
# Added on top: every list a demo login sees gets more rows than a page holds
# would be too slow here, so "more" means several times more of everything.
MORE = Sizes(teams=4, peer_roles=12, candidates=30, referrals=160, contacts=400, audit=400, runs=8,
             clinicians_per_team=3)

# Pages whose count still grows, each with the reason. The test fails when one of
# these stops growing (take it off) or another starts. None left (issue #17).
KNOWN_GROWING: dict[str, str] = {}


def _urls(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods:
            continue
        if any(not isinstance(rule._converters[a], IntegerConverter) for a in rule.arguments):
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">", "1", url)
        yield rule.endpoint, url


def _more_under_record_one(n: int) -> None:
    """The seed adds records, but a detail page is rendered for record 1, whose own rows
    (a referral's contacts, a peer role's supervisions) stayed as they were: give each
    ``n`` more, contacts with and without an intervention and by several peers and
    recorders, so a lookup per row would show."""
    from peerapp.referrals.models import Contact, Intervention, Referral
    from peerapp.workforce.models import PeerRole, Supervision
    if db.is_closed():  # left open, as the requests' own connection (closing it adds PRAGMAs to the next page)
        db.connect()
    with db.atomic():
        referral = Referral.get_by_id(1)
        roles = list(PeerRole.select(PeerRole.id).limit(3))
        interventions = [None] + list(Intervention.select(Intervention.id).limit(2))
        users = list(User.select(User.id).limit(3))
        role_one = PeerRole.get_by_id(1)
        for i in range(n):
            Supervision.create(role=1, held_on=role_one.start_date, duration_minutes=30, how_they_are="ok",
                               recorded_by=users[i % len(users)].id)
        for i in range(n):
            Contact.create(referral=referral.id, peer_role=roles[i % len(roles)].id,
                           intervention=interventions[i % 3], recorded_by=users[i % len(users)].id,
                           contact_on=referral.referred_on, attendance="attended", summary=f"More {i}")


def _render_all(app, clients) -> dict[tuple[str, str], tuple[int, int]]:
    found = {}
    for key, (client, user) in clients.items():
        for endpoint, url in sorted(set(_urls(app))):
            with app.test_request_context():
                if not may(endpoint, user):
                    continue
            with counting_queries() as counted:
                status = client.get(url).status_code
            found[(key, url)] = (status, counted.n)
    return found


@pytest.mark.same_on_every_engine("the ORM sends the same queries to either engine")
def test_no_page_sends_more_queries_when_the_data_grows(app, clock):
    import datetime as dt
    clock.freeze(dt.datetime(2026, 11, 30, 10))
    with app.app_context():
        load_demo()
        seed(SMALL, rng_seed=1)
        _more_under_record_one(2)
    clients = {}
    for spec in DEMO_USERS:
        client = app.test_client()
        with app.app_context():
            user = User.by_email(spec["email"])
            _ = user.roles
            token = LoginSession.start(user)
        with client.session_transaction() as session:
            session["sid"], session["_user_id"] = token, str(user.id)
        clients[spec["key"]] = (client, user)
    small = _render_all(app, clients)
    with app.app_context():
        seed(MORE, rng_seed=2)
        _more_under_record_one(12)
    large = _render_all(app, clients)

    assert 500 not in {s for s, _ in small.values()} | {s for s, _ in large.values()}
    compared = [k for k in small if small[k][0] == 200 and large.get(k, (0,))[0] == 200]
    assert len(compared) > 60, "too few pages rendered to prove anything"
    growing = {}
    for key in compared:
        if large[key][1] != small[key][1]:
            growing.setdefault(key[1], []).append(f"{key[0]}: {small[key][1]} -> {large[key][1]}")
    changed = {u: growing.get(u, "no longer grows: take it off KNOWN_GROWING")
               for u in sorted(set(growing) ^ set(KNOWN_GROWING))}
    assert not changed, "\n".join(f"{u}: {why}" for u, why in changed.items())
