"""Admin pages: teams, users and the audit log."""
from __future__ import annotations

import re

from peerapp.audit import AuditEvent
from peerapp.models import LoginSession, Team, User
from tests.dom import parse


def user_rows(page) -> list[str]:
    """The user ids of the list's rows, in order."""
    return [tr.get("data-user-id") for tr in parse(page).select("tr[data-user-id]")]


def test_admin_creates_a_user_with_a_one_time_password(client_for, team):
    admin = client_for("admin")
    response = admin.post("/admin/users/new", data={"name": "New Clinician", "email": "New.Clin@Test.nhs.uk",
                                                    "team": str(team.id), "roles": ["clinician"]})
    assert response.status_code == 200
    one_time = parse(response).one("#one-time-password").text
    user = User.by_email("new.clin@test.nhs.uk")
    assert user.roles == {"clinician"} and user.must_change_password and user.team_id == team.id
    assert one_time not in user.password_hash
    assert AuditEvent.select().where(AuditEvent.action == "create", AuditEvent.record_type == "user",
                                     AuditEvent.record_id == str(user.id)).count() == 1


def test_duplicate_email_is_refused_case_insensitively_and_nothing_changes(client_for, users, team):
    admin = client_for("admin")
    before = User.select().count()
    response = admin.post("/admin/users/new", data={"name": "Copy", "email": users["peer"].email.upper(),
                                                    "team": str(team.id), "roles": ["peer"]})
    assert response.status_code == 422
    assert "already has this email" in response.get_data(as_text=True)
    assert User.select().count() == before


def test_user_without_a_role_is_refused(client_for, team):
    response = client_for("admin").post("/admin/users/new", data={"name": "No Role", "email": "nr@test.nhs.uk",
                                                                  "team": str(team.id)})
    assert response.status_code == 422 and "Choose at least one role" in response.get_data(as_text=True)


def test_user_list_is_a_page_without_htmx_and_a_fragment_with_it(client_for, users):
    admin = client_for("admin")
    page = admin.post("/admin/users", data={"q": users["peer_lead"].name, "status": "active"})
    assert parse(page).select("html")
    fragment = admin.htmx("post", "/admin/users", data={"q": users["peer_lead"].name, "status": "active"})
    page = parse(fragment)
    assert not page.select("html") and [n.id for n in page.children if not isinstance(n, str)][:1] == ["user-list"]
    assert user_rows(page) == [str(users["peer_lead"].id)]
    assert "HX-Request" in fragment.headers["Vary"]


def test_user_filter_by_role_and_status(client_for, users, make_user):
    make_user("peer", name="Gone Peer", active=False)
    admin = client_for("admin")
    active_peers = user_rows(admin.htmx("post", "/admin/users", data={"role": "peer", "status": "active"}))
    assert active_peers == [str(users["peer"].id)]
    gone = user_rows(admin.htmx("post", "/admin/users", data={"role": "peer", "status": "inactive"}))
    assert len(gone) == 1 and gone != active_peers


def test_deactivate_keeps_history_and_reactivate_restores(client_for, users):
    admin = client_for("admin")
    peer = users["peer"]
    admin.post(f"/admin/users/{peer.id}/deactivate")
    assert User.get_by_id(peer.id).active is False
    assert User.get_or_none(User.id == peer.id) is not None
    admin.post(f"/admin/users/{peer.id}/reactivate")
    assert User.get_by_id(peer.id).active is True
    actions = [e.action for e in AuditEvent.for_record("user", peer.id)]
    assert "deactivate" in actions and "reactivate" in actions


def test_admin_cannot_deactivate_themselves(client_for, users):
    admin = client_for("admin")
    response = admin.post(f"/admin/users/{users['admin'].id}/deactivate", follow_redirects=True)
    assert "cannot deactivate your own" in response.get_data(as_text=True)
    assert User.get_by_id(users["admin"].id).active


def test_admin_signs_a_user_out_everywhere(client_for, users):
    peer = client_for("peer")
    assert peer.get("/").status_code == 200
    client_for("admin").post(f"/admin/users/{users['peer'].id}/sign-out")
    assert LoginSession.select().where(LoginSession.user == users["peer"]).count() == 0
    assert peer.get("/").status_code == 302


def test_teams_are_created_and_names_are_unique(client_for):
    admin = client_for("admin")
    assert admin.post("/admin/teams/new", data={"name": "Harbour EIP", "base_address": "Quay St"}).status_code == 302
    again = admin.post("/admin/teams/new", data={"name": "Harbour EIP"})
    assert again.status_code == 422 and "already a team" in again.get_data(as_text=True)
    assert Team.select().where(Team.name == "Harbour EIP").count() == 1


def test_audit_log_lists_and_filters_events(client_for, users):
    admin = client_for("admin")
    client_for("peer").post("/account/sign-out-everywhere")
    page = admin.get("/admin/audit", query_string={"action": "signed_out_everywhere"}).get_data(as_text=True)
    assert "signed_out_everywhere" in page and users["peer"].name in page
    none = admin.get("/admin/audit", query_string={"action": "no-such-action"}).get_data(as_text=True)
    assert "No events match" in none


def test_no_route_can_change_the_audit_log(app, client_for):
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule and rule.endpoint != "admin.audit_log":
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule.rule
    # The log's filter is posted (names stay out of URLs); posting it changes no row.
    assert app.url_map._rules_by_endpoint["admin.audit_log"][0].methods <= {"GET", "HEAD", "OPTIONS", "POST"}
    admin = client_for("admin")
    with app.app_context():
        before = [(e.id, e.action, e.summary) for e in AuditEvent.select().order_by(AuditEvent.id)]
    for data in ({"who": "Test"}, {"who": "nobody-at-all"}, {"action": "view", "who": ""}):
        admin.post("/admin/audit", data=data)
    with app.app_context():
        assert [(e.id, e.action, e.summary) for e in AuditEvent.select().order_by(AuditEvent.id)] == before


def test_audit_log_by_person_finds_their_rows_and_puts_no_name_in_the_url(client_for, users):
    """The "Who" filter is a posted text box: no list of everyone (925 people at the
    Trust's size), no name or email in the URL it leads to, only the person's id."""
    from urllib.parse import parse_qs, urlsplit

    admin = client_for("admin")
    peer, lead = users["peer"], users["peer_lead"]
    client_for("peer").post("/account/sign-out-everywhere")
    client_for("peer_lead").post("/account/sign-out-everywhere")
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert '<select' not in page.split('id="audit-filter"')[1].split("</form>")[0]
    assert '<label class="nhsuk-label" for="who">Who ' in page and 'name="who" type="text"' in page

    found = admin.post("/admin/audit", data={"who": peer.email.upper(), "action": "signed_out_everywhere"})
    assert found.status_code == 302
    url = urlsplit(found.headers["Location"])
    assert parse_qs(url.query) == {"action": ["signed_out_everywhere"], "user": [str(peer.id)]}
    for part in (peer.name, peer.email, peer.email.split("@")[0], "Test"):
        assert part.lower() not in found.headers["Location"].lower()
    shown = admin.get(found.headers["Location"]).get_data(as_text=True)
    rows = shown.split('id="audit-rows"')[1]
    assert "signed_out_everywhere" in rows and peer.name in rows and lead.name not in rows
    assert f'value="{peer.name}"' in shown and f'name="user" type="hidden" value="{peer.id}"' in shown

    # Changing another filter keeps the person shown in the box (even if the name is shared).
    again = admin.post("/admin/audit", data={"who": peer.name, "user": str(peer.id), "action": ""})
    assert parse_qs(urlsplit(again.headers["Location"]).query) == {"user": [str(peer.id)]}

    # Part of a name several people share: choose one; each choice is a link by id.
    several = admin.post("/admin/audit", data={"who": "Test peer", "record_type": "session"})
    body = several.get_data(as_text=True)
    assert several.status_code == 200 and "Whose events?" in body
    links = re.findall(r'<a href="([^"]+)">(Test peer[^<]*)</a>', body)
    assert {name for _, name in links} == {peer.name, lead.name}
    for href, name in links:
        query = parse_qs(urlsplit(href.replace("&amp;", "&")).query)
        assert query["record_type"] == ["session"] and len(query["user"]) == 1 and "Test" not in href

    nobody = admin.post("/admin/audit", data={"who": "Zebedee Nobody"})
    body = nobody.get_data(as_text=True)
    assert nobody.status_code == 422 and "No one&#39;s name or email address contains this" in body
    assert 'value="Zebedee Nobody"' in body
    assert admin.post("/admin/audit", data={"who": "x"}, csrf=False).status_code == 400  # no CSRF token, no search


def test_home_page_says_what_each_role_can_do(client_for):
    admin_home = client_for("admin").get("/").get_data(as_text=True)
    assert 'href="/admin/users"' in admin_home
    viewer_home = client_for("viewer").get("/").get_data(as_text=True)
    assert 'href="/admin/users"' not in viewer_home
    assert "Log out" in viewer_home
