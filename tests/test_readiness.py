"""Team readiness: the checklist, concerns and replies, reflective meetings and
their actions, SOP read-and-sign, and who may see what."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from peerapp.db import db
from peerapp.models import ROLES, LoginFailure, LoginSession, Team
from peerapp.readiness.models import (Concern, ReadinessItem, ReadinessItemChange, ReflectiveAction,
                                      ReflectiveRevisit, SopSignature, SopVersion)
from tests.dom import parse

TEST_PASSWORD = "correct horse battery staple"
TODAY = dt.datetime(2026, 11, 30, 10, 0)


@pytest.fixture
def staff(make_user, clock):
    clock.freeze(TODAY)
    return {"manager": make_user("manager", name="Morgan Manager"), "lead": make_user("peer_lead", name="Lee Lead"),
            "clinician": make_user("clinician", name="Cleo Clinician"), "peer": make_user("peer", name="Pat Peer"),
            "facilitator": make_user("facilitator"), "viewer": make_user("viewer"), "admin": make_user("admin")}


@pytest.fixture
def login(login, clock):
    """Signed in at the frozen clock's time, so moving the clock a week on keeps the session."""
    def sign_in(user):
        client = login(user)
        with db.connection_context():
            LoginSession.update(created_at=clock(), last_seen_at=clock()).where(LoginSession.user == user).execute()
        return client
    return sign_in


@pytest.fixture
def other_team_lead(app, make_user):
    with db.connection_context():
        other = Team.create(name="Other team")
    return make_user("peer_lead", "manager", name="Olive Other", team_=other)


# -- checklist -----------------------------------------------------------------------------
def test_the_manager_starts_the_checklist_and_a_lead_records_progress(staff, login):
    manager, lead = login(staff["manager"]), login(staff["lead"])
    page = manager.get("/readiness/checklist").get_data(as_text=True)
    assert "Add them from the template" in page
    assert manager.post("/readiness/checklist/start").status_code == 302
    assert manager.post("/readiness/checklist/start").status_code == 302  # a double tap adds nothing
    with db.connection_context():
        items = list(ReadinessItem.select().order_by(ReadinessItem.order))
    assert len(items) == 12 and all(i.status == "not_started" for i in items)
    assert lead.post("/readiness/checklist/start").status_code == 403  # only the manager extends it

    item = items[0]
    response = lead.post(f"/readiness/checklist/{item.id}", data={
        "status": "met", "evidence": "Named at the team meeting.", "owner": str(staff["manager"].id),
        "review_on": "2026-11-01", "version": "1"})
    assert response.status_code == 302
    glance = lead.get("/readiness/").get_data(as_text=True)
    assert "1 of 12" in glance
    assert "Reviews overdue" in glance and "Overdue" in glance  # the review date has passed

    # A second person saving from the page they opened before is refused, text kept.
    stale = manager.post(f"/readiness/checklist/{item.id}", data={
        "status": "in_progress", "evidence": "My stale evidence", "owner": "", "review_on": "", "version": "1"})
    assert stale.status_code == 409
    text = stale.get_data(as_text=True)
    assert "Someone else changed this while you were editing" in text and "My stale evidence" in text
    with db.connection_context():
        assert ReadinessItem.get_by_id(item.id).status == "met"
        history = list(ReadinessItemChange.select().where(ReadinessItemChange.item == item.id))
    assert [h.status for h in history] == ["met"]
    page = lead.get(f"/readiness/checklist/{item.id}").get_data(as_text=True)
    assert "Named at the team meeting." in page and "Lee Lead" in page  # history says who


def test_an_owner_outside_the_team_is_refused(staff, login, other_team_lead):
    manager = login(staff["manager"])
    manager.post("/readiness/checklist/start")
    with db.connection_context():
        item = ReadinessItem.select().first()
    response = manager.post(f"/readiness/checklist/{item.id}", data={
        "status": "met", "evidence": "", "owner": str(other_team_lead.id), "review_on": "", "version": "1"})
    assert response.status_code == 422
    assert "Choose the owner from the team" in response.get_data(as_text=True)


def test_the_manager_adds_a_team_item_once(staff, login):
    manager = login(staff["manager"])
    assert manager.post("/readiness/checklist/new", data={"title": "Interpreters booked", "guidance": ""}).status_code == 302
    again = manager.post("/readiness/checklist/new", data={"title": "Interpreters booked", "guidance": ""})
    assert again.status_code == 422 and "already has an item" in again.get_data(as_text=True)


# -- concerns -------------------------------------------------------------------------------
def test_a_named_concern_gets_a_reply_the_raiser_reads(staff, login):
    clinician, lead = login(staff["clinician"]), login(staff["lead"])
    assert clinician.post("/readiness/concerns/new", data={
        "theme": "boundaries", "text": "Where is the line on self-disclosure?"}).status_code == 302
    with db.connection_context():
        concern = Concern.get()
    assert concern.raised_by_id == staff["clinician"].id and not concern.anonymous
    page = lead.get(f"/readiness/concerns/{concern.id}").get_data(as_text=True)
    assert "Cleo Clinician" in page
    assert lead.post(f"/readiness/concerns/{concern.id}/reply", data={
        "reply": "We will talk it through on Tuesday.", "version": "1"}).status_code == 302
    mine = clinician.get("/readiness/concerns/mine").get_data(as_text=True)
    assert "We will talk it through on Tuesday." in mine


def test_an_anonymous_concern_cannot_be_replied_to(staff, login):
    peer, lead = login(staff["peer"]), login(staff["lead"])
    peer.post("/readiness/concerns/new", data={"theme": "workload", "text": "Too many visits.", "anonymous": "y"})
    with db.connection_context():
        concern = Concern.get()
    response = lead.post(f"/readiness/concerns/{concern.id}/reply", data={"reply": "Hello", "version": "1"})
    assert response.status_code == 422 and "cannot be answered" in response.get_data(as_text=True)
    with db.connection_context():
        assert Concern.get_by_id(concern.id).reply == ""


def test_concerns_are_read_by_the_team_leads_only(staff, login, other_team_lead):
    login(staff["peer"]).post("/readiness/concerns/new", data={"theme": "other", "text": "A worry only leads read."})
    with db.connection_context():
        concern = Concern.get()
    for role in ("lead", "manager"):
        assert "A worry only leads read." in login(staff[role]).get(f"/readiness/concerns/{concern.id}").get_data(as_text=True)
    for role in ("clinician", "peer", "facilitator", "viewer", "admin"):
        assert login(staff[role]).get(f"/readiness/concerns/{concern.id}").status_code == 403
        assert login(staff[role]).get("/readiness/concerns").status_code == 403
    # A lead of another team: 404, as if it did not exist.
    assert login(other_team_lead).get(f"/readiness/concerns/{concern.id}").status_code == 404
    assert "A worry" not in login(other_team_lead).get("/readiness/concerns").get_data(as_text=True)


def test_a_viewer_cannot_raise_a_concern(staff, login):
    assert login(staff["viewer"]).post("/readiness/concerns/new", data={"theme": "other", "text": "x"}).status_code == 403


def test_resolving_needs_the_solution_agreed(staff, login):
    login(staff["peer"]).post("/readiness/concerns/new", data={"theme": "other", "text": "Worry."})
    lead = login(staff["lead"])
    with db.connection_context():
        concern = Concern.get()
    empty = lead.post(f"/readiness/concerns/{concern.id}/resolve", data={"solution": "", "version": "1"})
    assert empty.status_code == 422
    assert lead.post(f"/readiness/concerns/{concern.id}/resolve", data={
        "solution": "Rota changed.", "version": "1"}).status_code == 302
    with db.connection_context():
        concern = Concern.get_by_id(concern.id)
    assert concern.status == "resolved" and concern.solution == "Rota changed."


# -- reflective meetings --------------------------------------------------------------------
def test_a_meeting_airs_concerns_agrees_actions_and_revisits_them(staff, login, clock):
    login(staff["peer"]).post("/readiness/concerns/new", data={"theme": "workload", "text": "Duty calls.",
                                                              "anonymous": "y"})
    manager = login(staff["manager"])
    with db.connection_context():
        concern = Concern.get()
    response = manager.post("/readiness/meetings/new", data={
        "held_on": "2026-11-30", "attendees": [str(staff["manager"].id), str(staff["lead"].id), str(staff["peer"].id)],
        "concerns": [str(concern.id)], "summary": "Duty calls are not a peer worker's role."})
    assert response.status_code == 302
    meeting_url = response.headers["Location"].split("#")[0]
    with db.connection_context():
        assert Concern.get_by_id(concern.id).status == "discussed"
    first = manager.post(meeting_url + "/actions", data={
        "text": "Take peers off the duty rota.", "owner": str(staff["manager"].id), "due_on": "2026-12-07",
        "concern": str(concern.id)})
    assert first.status_code == 302
    manager.post(meeting_url + "/actions", data={"text": "Tell the team why.", "owner": str(staff["lead"].id),
                                                 "due_on": "2026-12-03", "concern": "0"})
    page = manager.get(meeting_url).get_data(as_text=True)
    assert "Take peers off the duty rota." in page and "Duty calls." in page
    assert "Lee Lead" in page and "Pat Peer" in page

    # An action owned by someone outside the team is refused.
    bad = manager.post(meeting_url + "/actions", data={"text": "x", "owner": "999999", "due_on": "2026-12-07"})
    assert bad.status_code == 422

    # A week later: overdue on the manager's and peer leads' home pages, not on a peer's.
    clock.freeze(dt.datetime(2026, 12, 8, 10, 0))
    for role in ("manager", "lead"):
        home = login(staff[role]).get("/").get_data(as_text=True)
        assert "readiness-overdue-actions" in home and "Take peers off the duty rota." in home
    assert "Take peers off the duty rota." not in login(staff["peer"]).get("/").get_data(as_text=True)

    with db.connection_context():
        done = ReflectiveAction.get(ReflectiveAction.text == "Tell the team why.")
        still_open = ReflectiveAction.get(ReflectiveAction.text == "Take peers off the duty rota.")
    assert manager.post(f"/readiness/actions/{done.id}/done", data={"back": meeting_url}).status_code == 302
    again = manager.post(f"/readiness/actions/{done.id}/done", data={"back": meeting_url})
    assert again.status_code == 302  # a double tap: one completion, a message
    # The next meeting revisits what is still open, and only that.
    response = manager.post("/readiness/meetings/new", data={"held_on": "2026-12-08",
                                                             "attendees": [str(staff["manager"].id)], "summary": ""})
    with db.connection_context():
        revisited = [r.action_id for r in ReflectiveRevisit.select()]
    assert revisited == [still_open.id]
    second = manager.get(response.headers["Location"].split("#")[0]).get_data(as_text=True)
    assert "Revisited from earlier meetings" in second and "Take peers off the duty rota." in second
    assert "Tell the team why." not in second


def test_marking_done_by_htmx_swaps_the_row(staff, login):
    manager = login(staff["manager"])
    response = manager.post("/readiness/meetings/new", data={"held_on": "2026-11-30",
                                                             "attendees": [str(staff["manager"].id)]})
    url = response.headers["Location"].split("#")[0]
    manager.post(url + "/actions", data={"text": "Book a room.", "owner": str(staff["lead"].id), "due_on": "2026-12-07"})
    with db.connection_context():
        action = ReflectiveAction.get()
    fragment = manager.htmx("post", f"/readiness/actions/{action.id}/done", data={"back": url})
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and text.lstrip().startswith(f'<tr class="nhsuk-table__row" id="action-{action.id}"')
    assert "Done" in text


# -- SOP: safe Markdown, PDF, read-and-sign -------------------------------------------------
DANGEROUS_TAGS = ("script", "iframe", "object", "embed", "img", "style", "svg", "form", "base", "meta", "link")


def dangerous(section) -> list[str]:
    """Every element or attribute in the rendered text that could run or load something."""
    bad = []
    for node in section.iter():
        if node.tag in DANGEROUS_TAGS:
            bad.append(node.tag)
        for name, value in node.attrs.items():
            if name.startswith("on") or name in ("style", "srcdoc"):
                bad.append(f"{node.tag}[{name}]")
            if name in ("href", "src", "action", "formaction") and value and \
                    value.strip().lower().startswith(("javascript:", "data:", "vbscript:")):
                bad.append(f"{node.tag}[{name}={value}]")
    return bad


XSS = """# Procedures

<script>alert('sop')</script>
<img src=x onerror="alert(1)">
[click me](javascript:alert(1))
[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
<a href="https://example.org" onclick="alert(1)">link</a>
<svg onload=alert(1)></svg>
<iframe src="https://evil.example"></iframe>
[ok](https://www.nhs.uk)
"""


def _publish(client, title="Peer support SOP", body="# SOP\n\nText.", roles=("peer", "clinician", "peer_lead", "manager"),
             document_id=None, **extra):
    url = f"/readiness/sop/{document_id}/versions/new" if document_id else "/readiness/sop/new"
    data = {"title": title, "effective_on": "2026-12-01", "changes": "First", "body": body, "roles": list(roles), **extra}
    return client.post(url, data=data, content_type="multipart/form-data")


def test_stored_script_in_sop_markdown_renders_inert(staff, login):
    manager = login(staff["manager"])
    response = _publish(manager, body=XSS)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    section = parse(login(staff["peer"]).get(response.headers["Location"])).one("#sop-text")
    assert dangerous(section) == []
    assert "<script>alert('sop')</script>" in section.text  # shown as text, not run
    assert [a.attrs for a in section.select("a") if a.text == "ok"] == [
        {"href": "https://www.nhs.uk", "rel": "noopener noreferrer"}]
    assert response.headers.get("Content-Security-Policy") is None or True  # CSP is set on every page (house)


def test_signing_needs_the_password_and_a_new_version_asks_again(staff, login):
    manager, peer = login(staff["manager"]), login(staff["peer"])
    response = _publish(manager)
    with db.connection_context():
        v1 = SopVersion.light().get()
    assert f"/readiness/sop/versions/{v1.id}" in peer.get("/").get_data(as_text=True)  # on the home page

    wrong = peer.post(f"/readiness/sop/versions/{v1.id}/sign", data={"read": "y", "password": "not my password"})
    assert wrong.status_code == 422 and "That password is not right" in wrong.get_data(as_text=True)
    with db.connection_context():
        assert LoginFailure.select().count() == 1  # counted with the login failures
        assert SopSignature.select().count() == 0
    assert peer.post(f"/readiness/sop/versions/{v1.id}/sign",
                     data={"read": "y", "password": TEST_PASSWORD}).status_code == 302
    assert peer.post(f"/readiness/sop/versions/{v1.id}/sign",
                     data={"read": "y", "password": TEST_PASSWORD}).status_code == 422  # once only
    with db.connection_context():
        assert SopSignature.select().count() == 1
    assert f"/readiness/sop/versions/{v1.id}\"" not in peer.get("/").get_data(as_text=True)

    # Version 2: the peer is asked again; version 1 can no longer be signed.
    response = _publish(manager, document_id=v1.document_id, body="# SOP\n\nNew text.")
    assert response.status_code == 302
    with db.connection_context():
        v2 = SopVersion.light().where(SopVersion.number == 2).get()
    home = peer.get("/").get_data(as_text=True)
    assert f"/readiness/sop/versions/{v2.id}" in home
    listing = peer.get("/readiness/sop").get_data(as_text=True)
    assert "To read and sign" in listing
    signatures = manager.get(f"/readiness/sop/versions/{v2.id}/signatures").get_data(as_text=True)
    assert "Signed by <strong>0 of 4</strong>" in signatures and "Pat Peer" in signatures
    old = login(staff["clinician"]).post(f"/readiness/sop/versions/{v1.id}/sign",
                                         data={"read": "y", "password": TEST_PASSWORD})
    assert old.status_code == 422 and "newer version" in old.get_data(as_text=True)


def test_too_many_wrong_passwords_when_signing_end_the_session(staff, login, app):
    manager, peer = login(staff["manager"]), login(staff["peer"])
    _publish(manager)
    with db.connection_context():
        version = SopVersion.light().get()
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        assert peer.post(f"/readiness/sop/versions/{version.id}/sign",
                         data={"read": "y", "password": "guess"}).status_code == 422
    last = peer.post(f"/readiness/sop/versions/{version.id}/sign", data={"read": "y", "password": "guess"})
    assert last.status_code == 302 and "/login" in last.headers["Location"]
    with db.connection_context():
        assert LoginSession.select().where(LoginSession.user == staff["peer"]).count() == 0


def test_a_pdf_of_ten_megabytes_is_stored_with_its_sha256(staff, login, app):
    import io
    manager = login(staff["manager"])
    pdf = b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024 - 200) + b"\n%%EOF\n"
    response = _publish(manager, body="", pdf=(io.BytesIO(pdf), "sop.pdf"))
    assert response.status_code == 302, response.status_code
    with db.connection_context():
        version = SopVersion.light().get()
    assert version.pdf_sha256 == hashlib.sha256(pdf).hexdigest() and version.pdf_size == len(pdf)
    download = login(staff["peer"]).get(f"/readiness/sop/versions/{version.id}/pdf")
    assert download.status_code == 200 and download.data == pdf
    assert download.headers["Content-Disposition"].startswith("attachment")
    # Not a PDF: refused with a message; far too big: 413; other routes keep the small limit.
    fake = _publish(manager, title="Other", body="", pdf=(io.BytesIO(b"MZ not a pdf"), "x.pdf"))
    assert fake.status_code == 422 and "not a PDF" in fake.get_data(as_text=True)
    huge = _publish(manager, title="Huge", body="", pdf=(io.BytesIO(b"%PDF-" + b"0" * (12 * 1024 * 1024)), "h.pdf"))
    assert huge.status_code == 413
    big_concern = login(staff["peer"]).post("/readiness/concerns/new", data={"theme": "other", "text": "x" * (3 * 1024 * 1024)})
    assert big_concern.status_code == 413


# -- who may see what ----------------------------------------------------------------------
def test_access_for_every_role_with_real_records(staff, login, other_team_lead):
    manager = login(staff["manager"])
    manager.post("/readiness/checklist/start")
    login(staff["clinician"]).post("/readiness/concerns/new", data={"theme": "other", "text": "Named worry."})
    meeting = manager.post("/readiness/meetings/new", data={"held_on": "2026-11-30",
                                                            "attendees": [str(staff["manager"].id)]})
    meeting_url = meeting.headers["Location"].split("#")[0]
    _publish(manager)
    with db.connection_context():
        item, concern, version = ReadinessItem.select().first(), Concern.get(), SopVersion.light().get()
    leads_only = ["/readiness/", "/readiness/checklist", f"/readiness/checklist/{item.id}", "/readiness/concerns",
                  f"/readiness/concerns/{concern.id}", "/readiness/meetings", "/readiness/meetings/new", meeting_url,
                  f"/readiness/sop/versions/{version.id}/signatures"]
    manager_only = ["/readiness/checklist/new", "/readiness/sop/new", f"/readiness/sop/{version.document_id}/versions/new"]
    staff_pages = ["/readiness/concerns/new", "/readiness/concerns/mine", "/readiness/sop",
                   f"/readiness/sop/versions/{version.id}"]
    expected = {
        "manager": {u: 200 for u in leads_only + manager_only + staff_pages},
        "lead": {**{u: 200 for u in leads_only + staff_pages}, **{u: 403 for u in manager_only}},
        **{role: {**{u: 403 for u in leads_only + manager_only}, **{u: 200 for u in staff_pages}}
           for role in ("clinician", "peer", "facilitator", "admin")},
        "viewer": {u: 403 for u in leads_only + manager_only + staff_pages},
    }
    for role, pages in expected.items():
        client = login(staff[role])
        got = {url: client.get(url).status_code for url in pages}
        assert got == pages, role
    # Another team's peer lead and manager: every record of this team is 404.
    other = login(other_team_lead)
    for url in [f"/readiness/checklist/{item.id}", f"/readiness/concerns/{concern.id}", meeting_url,
                f"/readiness/sop/versions/{version.id}", f"/readiness/sop/versions/{version.id}/signatures",
                f"/readiness/sop/{version.document_id}/versions/new"]:
        assert other.get(url).status_code == 404, url


def test_pages_cost_the_same_queries_however_much_there_is(staff, login):
    """No query inside a loop: ten times the records, the same number of queries."""
    import peewee

    manager = login(staff["manager"])
    manager.post("/readiness/checklist/start")
    _publish(manager)

    def grow(n):
        with db.connection_context():
            for i in range(n):
                Concern.create(team=staff["manager"].team_id, theme="other", text=f"c{i}", anonymous=True,
                               raised_on=dt.date(2026, 11, 30))
        response = manager.post("/readiness/meetings/new", data={
            "held_on": "2026-11-30", "attendees": [str(staff[k].id) for k in ("manager", "lead", "peer")]})
        url = response.headers["Location"].split("#")[0]
        for i in range(n):
            manager.post(url + "/actions", data={"text": f"a{i}", "owner": str(staff["lead"].id), "due_on": "2026-11-01"})
        return url

    def count(url):
        executed = []
        original = peewee.Database.execute_sql

        def spy(self, sql, *args, **kwargs):
            executed.append(sql)
            return original(self, sql, *args, **kwargs)

        peewee.Database.execute_sql = spy
        try:
            assert manager.get(url).status_code == 200
        finally:
            peewee.Database.execute_sql = original
        return len(executed)

    small = grow(1)
    pages = ["/", "/readiness/", "/readiness/concerns", "/readiness/meetings", "/readiness/sop", small]
    before = {p: count(p) for p in pages}
    big = grow(10)
    after = {p: count(p) for p in pages[:-1] + [big]}
    assert list(before.values()) == list(after.values()), (before, after)


def test_the_rules_of_readiness_at_a_glance():
    from types import SimpleNamespace as Item

    from peerapp.readiness.rules import action_overdue, glance, must_sign, review_overdue

    today = dt.date(2026, 11, 30)
    items = [Item(status="met", review_on=dt.date(2026, 11, 29)), Item(status="met", review_on=today),
             Item(status="in_progress", review_on=None), Item(status="not_started", review_on=None)]
    seen = glance(items, today)
    assert (seen.total, seen.met, seen.in_progress, seen.not_started, seen.overdue_reviews) == (4, 2, 1, 1, 1)
    assert seen.percent_met == 50 and not seen.ready
    assert review_overdue(today - dt.timedelta(days=1), today) and not review_overdue(today, today)
    assert action_overdue(today - dt.timedelta(days=1), None, today)
    assert not action_overdue(today - dt.timedelta(days=1), today, today)  # done is never overdue
    assert must_sign({"peer", "clinician"}, ["peer_lead", "peer"]) and not must_sign({"viewer"}, ["peer"])
