"""The house pager: keyset pages that walk a list forward and back without
skipping or repeating a row, keep filters, and carry only ids in the URL."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from peerapp.db import db
from peerapp.models import Team
from peerapp.paging import count_capped, paged
from tests.dom import links, parse, squash


@pytest.fixture
def teams(app):
    with app.app_context(), db.atomic():
        # Names repeat in their sort prefix and 'active' splits the list, so the
        # mixed ordering (active desc, name asc, id asc) has ties to break.
        Team.insert_many([{"name": f"Team {i % 7:02d}-{i:03d}", "active": i % 3 != 0} for i in range(130)]).execute()
    return app


def _walk(app, query, order, url="/x", direction="after"):
    seen, pages = [], []
    cursor = None
    while True:
        path = url if cursor is None else f"{url}{'&' if '?' in url else '?'}{direction}={cursor}"
        with app.test_request_context(path):
            page = paged(query(), *order, size=50)
        pages.append(page)
        seen.extend(t.id for t in page.rows)
        cursor = page.after if direction == "after" else page.before
        if cursor is None:
            return seen, pages


def test_pages_forward_cover_the_list_once_in_order(teams):
    order = (Team.active.desc(), Team.name.asc(), Team.id.asc())
    expected = [t.id for t in Team.select().order_by(*order)]
    seen, pages = _walk(teams, Team.select, order)
    assert seen == expected
    assert [len(p.rows) for p in pages] == [50, 50, 30]
    assert pages[0].before is None and pages[1].before is not None
    assert all(p.total == 130 for p in pages)


def test_previous_goes_back_to_exactly_the_page_before(teams):
    order = (Team.name.desc(), Team.id.desc())
    _, pages = _walk(teams, Team.select, order)
    with teams.test_request_context(f"/x?before={pages[2].before}"):
        back = paged(Team.select(), *order, size=50)
    assert [t.id for t in back.rows] == [t.id for t in pages[1].rows]
    with teams.test_request_context(f"/x?before={back.before}"):
        first = paged(Team.select(), *order, size=50)
    assert [t.id for t in first.rows] == [t.id for t in pages[0].rows]
    assert first.before is None and first.after == pages[0].after


def test_filters_stay_in_the_links_and_only_an_id_is_the_cursor(teams):
    with teams.test_request_context("/teams?state=open&after=zzz"):
        page = paged(Team.select().where(Team.active == True), Team.name, Team.id)  # noqa: E712
        assert page.next_url == f"/teams?state=open&after={page.rows[-1].id}"
        assert page.rows[-1].name not in page.next_url


def test_a_cursor_outside_the_query_starts_from_the_first_page(teams):
    hidden = Team.get(Team.active == False).id  # noqa: E712
    with teams.test_request_context(f"/x?after={hidden}"):
        page = paged(Team.select().where(Team.active == True), Team.name, Team.id)  # noqa: E712
    with teams.test_request_context("/x"):
        first = paged(Team.select().where(Team.active == True), Team.name, Team.id)  # noqa: E712
    assert [t.id for t in page.rows] == [t.id for t in first.rows]


def test_the_total_is_counted_up_to_a_cap(teams):
    with teams.app_context():
        assert count_capped(Team.select(), cap=200) == (130, False)
        assert count_capped(Team.select(), cap=100) == (100, True)


def test_the_ordering_must_end_with_the_primary_key(teams):
    with teams.test_request_context("/x"), pytest.raises(ValueError):
        paged(Team.select(), Team.name)


# --- the pager on real lists -----------------------------------------------------------

def _demo_client(app, email):
    from peerapp.models import LoginSession, User
    client = app.test_client()
    with app.app_context():
        user = User.by_email(email)
        token = LoginSession.start(user)
    with client.session_transaction() as session:
        session["sid"], session["_user_id"] = token, str(user.id)
    client.user = user
    return client


def _follow_next(client, path: str, row: str, noun: str) -> tuple[list[int], set[str]]:
    """Follow a list's Next links from ``path`` to its end: (every row's id in the
    order shown, every total the pages said). Each page holds 1 to 50 rows, and its
    Next link carries only an id."""
    seen, said, url = [], set(), path
    while url:
        page = parse(client.get(url))
        rows = [int(n.get(row)) for n in page.select(f"[{row}]")]
        assert 0 < len(rows) <= 50
        seen += rows
        said.add(re.search(rf"shown of ([\d,]+) {noun}", page.text).group(1))
        after = [href for href, _ in links(page) if href.startswith(f"{path}?after=")]
        assert all(href.removeprefix(f"{path}?after=").isdigit() for href in after)  # an id, no name
        url = after[0] if after else None
    return seen, said


@pytest.fixture
def seeded(app):
    from bench.seed import Sizes, seed
    from peerapp.demo import load_demo
    with app.app_context():
        load_demo()
        seed(Sizes(teams=2, peer_roles=80, candidates=100, referrals=240, contacts=40, audit=50, runs=2,
                   clinicians_per_team=2), rng_seed=3)
    return app


def test_team_referrals_come_50_a_page_and_the_links_carry_only_an_id(seeded):
    from peerapp.referrals.models import Referral
    client = _demo_client(seeded, "lead@demo.peerapp")
    with seeded.app_context():
        team = [r.id for r in Referral.select().where(Referral.team == client.user.team_id)]
    assert len(team) > 100
    seen, said = _follow_next(client, "/referrals/", "data-referral-id", "referrals")
    assert said == {f"{len(team):,}"}
    assert sorted(seen) == sorted(team) and len(seen) == len(set(seen))


def test_a_name_filter_pages_by_post_so_the_name_never_reaches_a_url(seeded):
    client = _demo_client(seeded, "admin@demo.peerapp")
    first = parse(client.post("/admin/users", data={"q": "bench-peer", "status": "all", "team": "0"}))
    assert len(first.select("[data-user-id]")) == 50
    assert not [n for n in first.select("[href]") if "bench-peer" in n.get("href")]
    after = first.one("[name=after]").get("value")  # the Next button
    assert first.one("input[type=hidden][name=q]").get("value") == "bench-peer"
    second = client.post("/admin/users", data={"q": "bench-peer", "status": "all", "team": "0", "after": after})
    rest = parse(second)
    emails = [e for e in rest.texts("td") if e.endswith("@bench.peerapp")]
    assert emails and all("bench-peer" in e for e in emails)
    ids = {n.get("data-user-id") for n in rest.select("[data-user-id]")}
    assert ids and not ids & {n.get("data-user-id") for n in first.select("[data-user-id]")}


def test_the_due_measures_come_a_page_at_a_time_in_order_and_each_once(seeded, monkeypatch):
    """The team's due list (worked out in Python from schedules and responses) is
    paged like every list (50 rows; 5 here), a row id as the cursor, back and forth."""
    monkeypatch.setattr("peerapp.paging.PAGE_SIZE", 5)
    from peerapp.outcomes import schedules, services
    from peerapp.outcomes.models import SERVICE_USER
    from peerapp.referrals.models import Referral
    client = _demo_client(seeded, "lead@demo.peerapp")
    with seeded.app_context():
        open_ = Referral.select().where(Referral.team == client.user.team_id,
                                        Referral.state.in_(services.OPEN_STATES)).order_by(Referral.id)
        expected = [f"{d.referral.id}-{d.schedule.id}"
                    for d in schedules.due_for_referrals(open_, services.scheduled(SERVICE_USER))]
    assert len(expected) > 10
    seen, pages, url = [], [], "/outcomes/"
    while url:
        page = parse(client.get(url))
        rows = [n.get("data-due") for n in page.select("[data-due]")]
        assert 0 < len(rows) <= 5 and f"shown of {len(expected)} measures due" in page.text
        seen += rows
        pages.append((url, rows))
        after = [href for href, _ in links(page) if href.startswith("/outcomes/?after=")]
        url = after[0] if after else None
    assert seen == expected
    back = [href for href, _ in links(parse(client.get(pages[-1][0]))) if href.startswith("/outcomes/?before=")]
    assert [n.get("data-due") for n in parse(client.get(back[0])).select("[data-due]")] == pages[-2][1]


def test_a_list_in_hand_pages_by_row_id(app):
    from peerapp.paging import paged_list
    rows = list(range(1, 121))
    with app.test_request_context("/x?after=50&state=open"):
        page = paged_list(rows, lambda n: n)
        assert page.next_url == "/x?state=open&after=100" and page.total == 120
    assert page.rows == list(range(51, 101)) and page.after == 100 and page.before == 51
    with app.test_request_context("/x?before=51"):
        assert paged_list(rows, lambda n: n).rows == list(range(1, 51))
    with app.test_request_context("/x?after=999"):  # a row no longer in the list: the first page
        first = paged_list(rows, lambda n: n)
    assert first.rows == list(range(1, 51)) and first.before is None


@pytest.mark.parametrize("email", ["facilitator@demo.peerapp", "lead@demo.peerapp"])
def test_training_candidates_come_50_a_page_by_name_each_once(seeded, email):
    from peerapp.training.models import Candidate
    client = _demo_client(seeded, email)
    with seeded.app_context():
        visible = Candidate.select()
        if "lead" in email:  # a peer lead sees their own team's nominations only
            visible = visible.where(Candidate.team == client.user.team_id)
        expected = [c.id for c in visible.order_by(Candidate.name, Candidate.id)]
    assert len(expected) > 50 or "lead" in email
    seen, said = _follow_next(client, "/training/candidates", "data-candidate-id", "candidates")
    assert said == {f"{len(expected):,}"}
    assert seen == expected


@pytest.mark.parametrize("email, path", [("clinician@demo.peerapp", "/referrals/mine"),
                                         ("lead@demo.peerapp", "/referrals/closed"),
                                         ("lead@demo.peerapp", "/referrals/screening"),
                                         ("lead@demo.peerapp", "/referrals/awaiting-match")])
def test_each_referral_list_says_how_many_it_has_and_shows_that_many(seeded, email, path):
    """The total is counted without the joins that only add what a row shows: it must
    still be the number of referrals the pages then list, each once."""
    client = _demo_client(seeded, email)
    seen, said = _follow_next(client, path, "data-referral-id", "referrals")
    assert len(seen) == len(set(seen)) > 0
    assert said == {f"{len(seen):,}"}


@pytest.mark.parametrize("email, path", [("lead@demo.peerapp", "/referrals/"),
                                         ("lead@demo.peerapp", "/referrals/?state=closed"),
                                         ("lead@demo.peerapp", "/referrals/closed"),
                                         ("lead@demo.peerapp", "/referrals/screening"),
                                         ("lead@demo.peerapp", "/referrals/awaiting-match"),
                                         ("clinician@demo.peerapp", "/referrals/mine")])
def test_the_referral_lists_page_back_through_exactly_the_pages_they_showed(seeded, email, path, monkeypatch):
    """The referral lists are paging.ListQuery (SQL built once, rows read as tuples):
    forward by Next and back by Previous they show the same pages, in the same order,
    with the same dates, as they were (4 rows a page here)."""
    from peerapp.referrals import lists
    for query in (lists._VISIBLE, lists._SCREENING, lists._AWAITING):
        monkeypatch.setattr(query, "size", 4)
    client = _demo_client(seeded, email)

    def shown(url):
        page = parse(client.get(url))
        rows = [(n.get("data-referral-id"), squash(n.text)) for n in page.select("[data-referral-id]")]
        nav = {n.get("rel"): n.get("href") for n in page.select("a[rel]")}
        return rows, nav

    forward, url = [], path
    while url:
        rows, nav = shown(url)
        assert 0 < len(rows) <= 4
        forward.append(rows)
        url = nav.get("next")
    assert len(forward) >= 3, "too few pages to walk back"
    back, url = [], nav.get("prev")
    while url:
        rows, nav = shown(url)
        back.append(rows)
        url = nav.get("prev")
    assert back == forward[-2::-1]
    assert all(re.search(r"\d{1,2} [A-Z][a-z]{2} \d{4}", text) for page in forward for _, text in page)


def test_the_list_querys_keyset_condition_is_pageds(app):
    """ListQuery's condition, a parameter for each use of a value, is paged()'s own."""
    from peerapp.paging import _after, _after_each_use, _each_use, _orderings
    from peerapp.referrals.models import Referral
    with app.app_context():
        for order in [(Referral.referred_on.desc(), Referral.id.desc()), (Referral.referred_on, Referral.id),
                      (Referral.state, Referral.referred_on.desc(), Referral.id)]:
            keys = _orderings(order)
            values = ["active", "2026-01-02", 7][-len(keys):]
            for reverse in (False, True):
                ours = Referral.select().where(_after_each_use(keys, iter(_each_use(values)), reverse)).sql()
                theirs = Referral.select().where(_after(keys, values, reverse)).sql()
                assert ours == theirs


def test_the_screening_queue_is_read_from_its_own_partial_index(app):
    """The queue names its states as the literals of the partial index m0111 made:
    with bound parameters, or another list, the engine cannot use it and walks the
    team's every referral (3 ms at 2,000 a team, not 0.1)."""
    from peerapp.db import is_sqlite
    from peerapp.referrals.models import _SCREENING_QUEUE_LITERAL, Referral
    with app.app_context(), db.connection_context():
        sql, params = Referral.screening_queue(1).limit(51).sql()
        assert f"IN {_SCREENING_QUEUE_LITERAL}" in sql
        if is_sqlite():
            made = db.execute_sql("SELECT sql FROM sqlite_master WHERE name = 'referral_screening_queue'").fetchone()
            assert made[0].endswith(f"WHERE state IN {_SCREENING_QUEUE_LITERAL}")
            plan = " ".join(row[-1] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
            assert "USING INDEX referral_screening_queue" in plan, plan
        else:
            made = db.execute_sql("SELECT indexdef FROM pg_indexes WHERE indexname = 'referral_screening_queue'").fetchone()
            assert made and all(f"'{state}'" in made[0] for state in ("submitted", "screening", "more information requested"))


def test_the_team_filter_is_offered_only_to_those_who_see_several_teams(seeded):
    """A peer lead's lists are their team's: 40 other teams to choose would only ever
    give an empty list. A clinician's referrals can span teams, so they keep it."""
    lead = _demo_client(seeded, "lead@demo.peerapp")
    page = parse(lead.get("/referrals/"))
    assert page.select_one("select#team") is None and page.select_one("select#state") is not None
    with seeded.app_context():
        other = Team.select().where(Team.id != lead.user.team_id).first()
    refused = parse(lead.get(f"/referrals/?team={other.id}"))
    assert refused.select("[data-referral-id]") == []  # another team's id is not a way in
    # ...and the list does not just look empty: the box comes back with what is wrong.
    assert "Not a valid choice" in refused.one("select#team").parent.text
    clinician = _demo_client(seeded, "clinician@demo.peerapp")
    offered = parse(clinician.get("/referrals/mine")).one("select#team")
    assert len(offered.select("option")) == 1 + Team.select().count()


def test_an_app_mounted_under_a_path_keeps_people_under_that_path(seeded):
    """An intranet may serve peerapp under a path (waitress --url-prefix=/peer-support).
    Signing in brings the person back to the page they asked for, under that path; every
    link, form, style and script of a page points under it, the list's filter and pager
    included. The same process answering at the root (templates build fixed URLs once,
    templating.fixed_url) still links at the root."""
    from peerapp.demo import DEMO_PASSWORD

    anon = seeded.test_client()
    mount = "/peer-support"
    base = "http://localhost" + mount
    asked = anon.get("/referrals/?state=accepted", base_url=base)
    assert asked.status_code in (302, 303)
    to_login = urlsplit(asked.headers["Location"])
    assert to_login.path == mount + "/login" and parse_qs(to_login.query)["next"] == [mount + "/referrals/?state=accepted"]
    form = parse(anon.get(to_login.path[len(mount):] + "?" + to_login.query, base_url=base)).one("form")
    signed_in = anon.post(to_login.path[len(mount):], base_url=base, data={
        "email": "lead@demo.peerapp", "password": DEMO_PASSWORD,
        **{i.get("name"): i.get("value") for i in form.select("input[type=hidden]") if i.get("name") != "csrf_token"}})
    assert signed_in.headers["Location"] == mount + "/referrals/?state=accepted"
    for at in (mount, "", mount):
        page = parse(anon.get("/referrals/", base_url="http://localhost" + at))
        local = [element.get(attribute) for element, attribute in
                 [(e, "href") for e in page.select("a[href], link[href]")]
                 + [(e, "src") for e in page.select("script[src]")]
                 + [(e, "action") for e in page.select("form[action]")]
                 if not element.get(attribute).startswith("#")]
        assert any("after=" in url for url in local)  # the pager's next page
        assert page.one("form#referral-filter").get("action") == at + "/referrals/"
        elsewhere = [url for url in local if not url.startswith(at + "/") or url.startswith(at + mount + "/")]
        assert elsewhere == [], at
