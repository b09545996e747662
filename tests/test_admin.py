"""Admin pages: teams, users and the audit log."""
from __future__ import annotations


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


def test_no_route_can_change_the_audit_log(app):
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule.rule


def test_home_page_says_what_each_role_can_do(client_for):
    admin_home = client_for("admin").get("/").get_data(as_text=True)
    assert 'href="/admin/users"' in admin_home
    viewer_home = client_for("viewer").get("/").get_data(as_text=True)
    assert 'href="/admin/users"' not in viewer_home
    assert "Log out" in viewer_home
