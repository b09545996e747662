"""The house pager: keyset pages that walk a list forward and back without
skipping or repeating a row, keep filters, and carry only ids in the URL."""
from __future__ import annotations

import pytest

from peerapp.db import db
from peerapp.models import Team
from peerapp.paging import count_capped, paged


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
