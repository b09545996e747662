"""Work-WRAP sharing: only by the peer's choice, only with their supervisor, only
the chosen sections, revocable at once, every view shown to the peer; and the
access matrix (every role, other peers' ids: 404, never a read)."""
from __future__ import annotations

import datetime as dt
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerapp.audit import AuditEvent
from peerapp.db import db
from peerapp.models import ROLES
from peerapp.wrap.models import WrapArrangement, WrapPlan, WrapSection, WrapShare
from peerapp.wrap.sharing import shared_early_warning_signs, supervisor_of

TEST_PASSWORD = "correct horse battery staple"  # the password tests/conftest.py gives every user

SECRET = {
    "toolbox": "TOOLBOX-secret-walks-by-the-canal",
    "triggers": "TRIGGERS-secret-crowded-waiting-room",
    "early_warning_signs": "WARNING-secret-stops-eating-lunch",
    "if_unwell": "UNWELL-secret-call-my-sister",
    "working_arrangements": "ARRANGE-secret-start-at-ten",
}


def supervise(peer, lead, team=None):
    """Give ``peer`` an active workforce role supervised by ``lead`` (ends any other)."""
    from peerapp.training.models import Candidate
    from peerapp.workforce.models import PeerRole

    with db.connection_context():
        PeerRole.update(status="ended", ended_on=dt.date(2026, 1, 1)).where(PeerRole.user == peer).execute()
        candidate = (Candidate.get_or_none(Candidate.user == peer) or
                     Candidate.create(name=peer.name, team=team or peer.team, nominated_by=lead,
                                      nominated_on=dt.date(2025, 9, 1), user=peer))
        return PeerRole.create(candidate=candidate, user=peer, team=team or peer.team, kind="paid",
                               start_date=dt.date.today() - dt.timedelta(days=30), supervisor=lead,
                               status="active")


def write(client, base=0, **texts):
    data = {"base_version": str(base), **{f"section_{k}": v for k, v in texts.items()}}
    response = client.post("/wrap/write", data=data)
    assert response.status_code == 302, response.status_code
    return response


def section_ids(*keys) -> list[int]:
    with db.connection_context():
        return [WrapSection.get(WrapSection.key == k).id for k in keys]


def share(client, *keys, whole=False, password=TEST_PASSWORD):
    data = {"password": password, "sections": [str(i) for i in section_ids(*keys)]}
    if whole:
        data["whole_plan"] = "y"
    return client.post("/wrap/share", data=data)


def plan_id(user) -> int:
    with db.connection_context():
        return WrapPlan.of(user).id


def live_shares(user) -> list[WrapShare]:
    with db.connection_context():
        return list(WrapPlan.of(user).active_shares())


@pytest.fixture
def world(users, make_user, client_for, login):
    """A peer who wrote a plan and is supervised by users['peer_lead']; a second
    peer (the volunteer) with a private plan; another peer lead."""
    peer, lead = users["peer"], users["peer_lead"]
    volunteer = make_user("peer", name="Volunteer Val")
    other_lead = make_user("peer_lead", name="Other Lead")
    supervise(peer, lead)
    supervise(volunteer, other_lead)
    write(client_for("peer"), **SECRET)
    vol_client = login(volunteer)
    write(vol_client, toolbox="VOLUNTEER-secret-gardening")
    return {"peer": peer, "lead": lead, "volunteer": volunteer, "other_lead": other_lead,
            "vol_client": vol_client}


def test_supervisor_of_reads_the_current_workforce_role(world, make_user):
    with db.connection_context():
        assert supervisor_of(world["peer"]).id == world["lead"].id
        assert supervisor_of(make_user("peer")) is None


def test_sharing_needs_the_password_again(world, client_for):
    peer = client_for("peer")
    page = peer.get("/wrap/share").get_data(as_text=True)
    assert world["lead"].name in page and 'name="password"' in page
    refused = share(peer, "early_warning_signs", password="not my password at all")
    assert refused.status_code == 422
    assert "Your password is not right" in refused.get_data(as_text=True)
    assert live_shares(world["peer"]) == []
    missing = peer.post("/wrap/share", data={"sections": [str(section_ids("toolbox")[0])]})
    assert missing.status_code == 422 and live_shares(world["peer"]) == []
    with db.connection_context():
        assert AuditEvent.select().where(AuditEvent.action == "reauth_failed").count() == 1
    assert share(peer, "early_warning_signs").status_code == 302
    assert len(live_shares(world["peer"])) == 1


def test_sharing_and_revoking_need_csrf(world, client_for):
    peer = client_for("peer")
    refused = peer.post("/wrap/share", data={"password": TEST_PASSWORD,
                                             "sections": [str(section_ids("toolbox")[0])]}, csrf=False)
    assert refused.status_code == 400 and live_shares(world["peer"]) == []
    assert TEST_PASSWORD not in refused.get_data(as_text=True)  # the password is never re-offered
    share(peer, "toolbox")
    found = live_shares(world["peer"])[0]
    assert peer.post(f"/wrap/shares/{found.id}/revoke", data={}, csrf=False).status_code == 400
    assert peer.post(f"/wrap/readers/{world['lead'].id}/revoke", data={}, csrf=False).status_code == 400
    assert len(live_shares(world["peer"])) == 1


def test_the_supervisor_reads_only_the_shared_sections(world, client_for):
    peer, lead = client_for("peer"), client_for("peer_lead")
    pid = plan_id(world["peer"])
    assert lead.get(f"/wrap/shared/{pid}").status_code == 404   # nothing shared yet
    share(peer, "early_warning_signs", "working_arrangements")
    page = lead.get(f"/wrap/shared/{pid}")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert SECRET["early_warning_signs"] in html and SECRET["working_arrangements"] in html
    for key in ("toolbox", "triggers", "if_unwell"):
        assert SECRET[key] not in html, key
    # Listed among the plans shared with them; the supervisor cannot read old versions.
    assert f'href="/wrap/shared/{pid}"' in lead.get("/wrap/").get_data(as_text=True)
    assert lead.get("/wrap/versions/1").status_code == 404
    # The owner sees who can read which section.
    own = peer.get("/wrap/").get_data(as_text=True)
    assert own.count(f"{world['lead'].name} can read this.") == 2


def test_a_share_covers_later_versions_of_the_shared_sections(world, client_for):
    peer, lead = client_for("peer"), client_for("peer_lead")
    share(peer, "early_warning_signs")
    write(peer, base=1, **{**SECRET, "early_warning_signs": "WARNING-v2-quiet-in-meetings"})
    html = lead.get(f"/wrap/shared/{plan_id(world['peer'])}").get_data(as_text=True)
    assert "WARNING-v2-quiet-in-meetings" in html and SECRET["early_warning_signs"] not in html


def test_whole_plan_covers_every_section_including_new_ones(world, client_for):
    peer, lead = client_for("peer"), client_for("peer_lead")
    share(peer, whole=True)
    with db.connection_context():
        added = WrapSection.create(key="people_i_trust", title="People I trust at work", order=500)
    write(peer, base=1, **SECRET, people_i_trust="TRUST-secret-names")
    html = lead.get(f"/wrap/shared/{plan_id(world['peer'])}").get_data(as_text=True)
    assert all(text in html for text in SECRET.values()) and "TRUST-secret-names" in html
    with db.connection_context():
        assert [s.section_id for s in live_shares(world["peer"])] == [None]
    # Narrowing the share again leaves only the chosen section.
    share(peer, "toolbox")
    html = lead.get(f"/wrap/shared/{plan_id(world['peer'])}").get_data(as_text=True)
    assert SECRET["toolbox"] in html and SECRET["triggers"] not in html
    assert added.id not in [s.section_id for s in live_shares(world["peer"])]


def test_revoking_takes_effect_on_the_very_next_request(world, client_for):
    peer, lead = client_for("peer"), client_for("peer_lead")
    share(peer, "early_warning_signs", "triggers")
    pid = plan_id(world["peer"])
    assert lead.get(f"/wrap/shared/{pid}").status_code == 200
    one = [s for s in live_shares(world["peer"]) if s.section_id == section_ids("triggers")[0]][0]
    assert peer.post(f"/wrap/shares/{one.id}/revoke").status_code == 302
    html = lead.get(f"/wrap/shared/{pid}").get_data(as_text=True)
    assert SECRET["triggers"] not in html and SECRET["early_warning_signs"] in html
    assert peer.post(f"/wrap/readers/{world['lead'].id}/revoke").status_code == 302
    refused = lead.get(f"/wrap/shared/{pid}")
    assert refused.status_code == 404 and SECRET["early_warning_signs"] not in refused.get_data(as_text=True)
    assert f"/wrap/shared/{pid}" not in lead.get("/wrap/").get_data(as_text=True)
    # The owner's page says so, and keeps the history of what was shared when.
    own = peer.get("/wrap/").get_data(as_text=True)
    assert "Nobody else can read your work-WRAP" in own and "Sharing you have stopped" in own


def test_the_owner_sees_every_view_by_someone_else(world, client_for, clock):
    peer, lead = client_for("peer"), client_for("peer_lead")
    share(peer, "early_warning_signs", "working_arrangements")
    pid = plan_id(world["peer"])
    lead.get(f"/wrap/shared/{pid}")
    lead.get(f"/wrap/shared/{pid}")
    peer.get("/wrap/")  # the owner's own views are audited but not listed
    html = peer.get("/wrap/").get_data(as_text=True)
    rows = html.split('id="wrap-views"')[1].split("</table>")[0]
    assert rows.count(world["lead"].name) == 2
    assert "2 shared section(s) read (version 1)" in rows
    with db.connection_context():
        views = AuditEvent.select().where(AuditEvent.record_type == "wrap_plan", AuditEvent.action == "view",
                                          AuditEvent.record_id == str(pid))
        assert views.where(AuditEvent.user == world["lead"]).count() == 2
        # No content in the audit log, whoever looks at it.
        summaries = " ".join(e.summary for e in AuditEvent.select())
        assert not any(text in summaries for text in SECRET.values())


def test_a_new_supervisor_does_not_inherit_and_the_old_share_stays_visible(world, client_for, login, make_user):
    peer = client_for("peer")
    share(peer, "early_warning_signs")
    new_lead = make_user("peer_lead", name="New Supervisor")
    supervise(world["peer"], new_lead)
    pid = plan_id(world["peer"])
    assert login(new_lead).get(f"/wrap/shared/{pid}").status_code == 404
    assert client_for("peer_lead").get(f"/wrap/shared/{pid}").status_code == 200  # until revoked
    html = peer.get("/wrap/").get_data(as_text=True)
    assert "Not your supervisor now" in html and "Your supervisor is New Supervisor" in html
    assert "New Supervisor" in peer.get("/wrap/share").get_data(as_text=True)


def test_no_supervisor_means_no_sharing(client_for, users):
    peer = client_for("peer")
    write(peer, toolbox="Tea")
    page = peer.get("/wrap/share")
    assert page.status_code == 200 and "wrap-no-supervisor" in page.get_data(as_text=True)
    peer.post("/wrap/share", data={"password": TEST_PASSWORD, "whole_plan": "y"})
    with db.connection_context():
        assert WrapShare.select().count() == 0


def test_shared_early_warning_signs_for_supervision_records(world, client_for):
    peer = client_for("peer")
    with db.connection_context():
        assert shared_early_warning_signs(world["peer"], world["lead"]) is None
    share(peer, "toolbox")
    with db.connection_context():
        assert shared_early_warning_signs(world["peer"], world["lead"]) is None
    share(peer, "early_warning_signs")
    with db.connection_context():
        assert shared_early_warning_signs(world["peer"], world["lead"]) == SECRET["early_warning_signs"]
        assert shared_early_warning_signs(world["peer"], world["other_lead"]) is None
        assert shared_early_warning_signs(world["volunteer"], world["lead"]) is None
        event = AuditEvent.select().where(AuditEvent.action == "view").order_by(AuditEvent.id.desc()).first()
        assert event.user_id == world["lead"].id and "early warning signs" in event.summary
        assert SECRET["early_warning_signs"] not in event.summary
    assert "read for supervision" in peer.get("/wrap/").get_data(as_text=True)
    peer.post(f"/wrap/readers/{world['lead'].id}/revoke")
    with db.connection_context():
        assert shared_early_warning_signs(world["peer"], world["lead"]) is None


def test_supervisor_and_peer_agree_working_arrangements(world, client_for, login):
    peer, lead = client_for("peer"), client_for("peer_lead")
    pid = plan_id(world["peer"])
    # Before sharing there is nobody to agree with; the supervisor cannot even open the form.
    assert peer.get(f"/wrap/plans/{pid}/arrangements/new").status_code == 302
    assert lead.get(f"/wrap/plans/{pid}/arrangements/new").status_code == 404
    share(peer, "working_arrangements")
    assert lead.get(f"/wrap/plans/{pid}/arrangements/new").status_code == 200
    recorded = lead.post(f"/wrap/plans/{pid}/arrangements/new", data={
        "supervisor": str(world["lead"].id), "agreed_on": "2026-05-01",
        "arrangements": "AGREED-late-start-mondays", "review_on": "2026-08-01"})
    assert recorded.status_code == 302
    with db.connection_context():
        arrangement = WrapArrangement.get()
        assert arrangement.supervisor_confirmed_at and arrangement.peer_confirmed_at is None
    own = peer.get("/wrap/").get_data(as_text=True)
    assert "AGREED-late-start-mondays" in own and "Confirm this is what we agreed" in own
    # Nobody else may confirm it, or see it.
    for other in (login(world["other_lead"]), world["vol_client"]):
        assert other.post(f"/wrap/arrangements/{arrangement.id}/confirm").status_code == 404
    assert peer.post(f"/wrap/arrangements/{arrangement.id}/confirm").status_code == 302
    with db.connection_context():
        assert WrapArrangement.get().confirmed
    assert "Confirmed by both" in lead.get(f"/wrap/shared/{pid}").get_data(as_text=True)
    # A review date before the agreement is refused, with the text kept.
    bad = peer.post(f"/wrap/plans/{pid}/arrangements/new", data={
        "supervisor": str(world["lead"].id), "agreed_on": "2026-05-01",
        "arrangements": "KEEP-this-text", "review_on": "2026-04-01"})
    assert bad.status_code == 422 and "KEEP-this-text" in bad.get_data(as_text=True)
    # After revoking, the arrangements follow the plan: the supervisor loses them too.
    peer.post(f"/wrap/readers/{world['lead'].id}/revoke")
    assert lead.get(f"/wrap/plans/{pid}/arrangements/new").status_code == 404


def test_posted_owner_ids_are_ignored(world, client_for):
    """Mass assignment: extra fields never move a save to someone else's plan."""
    peer = client_for("peer")
    peer.post("/wrap/write", data={"base_version": "1", "section_toolbox": "MINE",
                                   "owner_id": str(world["volunteer"].id), "plan": str(plan_id(world["volunteer"])),
                                   "owner": str(world["volunteer"].id)})
    with db.connection_context():
        assert WrapPlan.of(world["peer"]).latest().number == 2
        assert WrapPlan.of(world["volunteer"]).latest().number == 1


def test_access_matrix_with_every_role_and_other_peoples_ids(world, users, client_for, login, make_user, caplog):
    """Every WRAP URL that carries an id, for every role and for peers and peer
    leads who are not the owner or reader: 403 for roles the route refuses,
    404 for the rest, and never a word of anyone's plan."""
    caplog.set_level(logging.DEBUG)
    peer = client_for("peer")
    share(peer, "early_warning_signs", "toolbox")
    with db.connection_context():
        plan = WrapPlan.of(world["peer"])
        share_row = plan.active_shares().first()
        arrangement = WrapArrangement.create(plan=plan, supervisor=world["lead"], agreed_on=dt.date(2026, 5, 1),
                                             arrangements="ARR-secret", recorded_by=world["lead"])
        vol_plan = WrapPlan.of(world["volunteer"])
    share(world["vol_client"], "toolbox")  # the volunteer shares with their own supervisor
    with db.connection_context():
        vol_share = vol_plan.active_shares().first()
    secrets = list(SECRET.values()) + ["VOLUNTEER-secret-gardening", "ARR-secret"]

    def urls(pid, share_id, arrangement_id, reader_id):
        return [("get", f"/wrap/shared/{pid}", ("peer_lead",)),
                ("get", f"/wrap/plans/{pid}/arrangements/new", ("peer", "peer_lead")),
                ("post", f"/wrap/plans/{pid}/arrangements/new", ("peer", "peer_lead")),
                ("post", f"/wrap/shares/{share_id}/revoke", ("peer", "peer_lead")),
                ("post", f"/wrap/readers/{reader_id}/revoke", ("peer", "peer_lead")),
                ("post", f"/wrap/arrangements/{arrangement_id}/confirm", ("peer", "peer_lead"))]

    targets = urls(plan.id, share_row.id, arrangement.id, world["lead"].id)
    vol_targets = urls(vol_plan.id, vol_share.id, 999999, world["other_lead"].id)
    strangers = {f"role:{role}": client_for(role) for role in ROLES if role not in ("peer", "peer_lead")}
    strangers["another peer (with a plan)"] = world["vol_client"]
    strangers["another peer lead"] = login(world["other_lead"])
    strangers["a peer without a plan"] = login(make_user("peer"))
    strangers["a manager who is also a peer lead"] = login(make_user("manager", "peer_lead"))
    unexpected = []
    for who, client in strangers.items():
        roles = client.user.roles
        for method, url, allowed in targets:
            response = getattr(client, method)(url, data={"arrangements": "x", "agreed_on": "2026-05-01",
                                                          "supervisor": str(world["lead"].id)}) \
                if method == "post" else client.get(url)
            expected = 404 if roles & set(allowed) else 403
            body = response.get_data(as_text=True)
            if response.status_code != expected or any(s in body for s in secrets):
                unexpected.append((who, method, url, response.status_code))
    # The peer's supervisor may read the peer's plan, never the volunteer's.
    lead = client_for("peer_lead")
    for method, url, _ in vol_targets:
        response = lead.get(url) if method == "get" else lead.post(url, data={})
        if response.status_code != 404:
            unexpected.append(("supervisor on the volunteer's plan", method, url, response.status_code))
    # An owner gets nothing of another plan through the id routes either.
    for method, url, allowed in vol_targets:
        response = peer.get(url) if method == "get" else peer.post(url, data={})
        expected = 404 if "peer" in allowed else 403
        if response.status_code != expected or "VOLUNTEER-secret-gardening" in response.get_data(as_text=True):
            unexpected.append(("peer on the volunteer's plan", method, url, response.status_code))
    assert unexpected == []
    with db.connection_context():  # nothing was revoked, confirmed or recorded by them
        assert plan.active_shares().count() == 2 and vol_plan.active_shares().count() == 1
        assert WrapArrangement.select().count() == 1 and WrapArrangement.get().peer_confirmed_at is None
    assert not any(s in caplog.text for s in secrets)


def test_no_role_but_the_owner_reads_a_plan_through_any_wrap_page(world, users, client_for):
    """Managers, admins, clinicians, facilitators and the viewer: every GET page of
    the area, and the admin audit log, show nothing of anyone's plan."""
    share(client_for("peer"), whole=True)
    client_for("peer_lead").get(f"/wrap/shared/{plan_id(world['peer'])}")
    for role in ("admin", "manager", "clinician", "facilitator", "viewer"):
        client = client_for(role)
        for url in ("/wrap/", "/wrap/write", "/wrap/versions", "/wrap/versions/1", "/wrap/print",
                    "/wrap/share", f"/wrap/shared/{plan_id(world['peer'])}", "/wrap/sections", "/",
                    "/admin/audit", "/admin/audit?record_type=wrap_plan"):
            body = client.get(url).get_data(as_text=True)
            assert not any(text in body for text in SECRET.values()), (role, url)


def test_the_share_password_cannot_be_guessed(world, client_for):
    """Wrong passwords in the share form count with the login's per-account throttle."""
    peer = client_for("peer")
    for _ in range(5):
        assert share(peer, "toolbox", password="a wrong guess of a password").status_code == 422
    locked = share(peer, "toolbox")
    assert locked.status_code == 422 and "too many wrong passwords" in locked.get_data(as_text=True)
    assert live_shares(world["peer"]) == []


def test_a_wrong_password_and_too_many_tries_say_which_happened(world, client_for):
    """One wrong password is just that (with the tries left), not 'or too many tries';
    the lock says it is the lock, even when the password is then right."""
    peer = client_for("peer")
    first = share(peer, "toolbox", password="a wrong guess of a password").get_data(as_text=True)
    assert "Your password is not right. Check it and try again (4 tries left)." in first
    assert "too many" not in first and "Wait 15 minutes" not in first
    for _ in range(3):
        share(peer, "toolbox", password="a wrong guess of a password")
    last = share(peer, "toolbox", password="a wrong guess of a password").get_data(as_text=True)
    assert "That was the last try: wait 15 minutes" in last
    locked = share(peer, "toolbox").get_data(as_text=True)
    assert "too many wrong passwords for your account. Wait 15 minutes" in locked
    assert "Your password is not right" not in locked
    assert live_shares(world["peer"]) == []


def test_peer_leads_see_plans_shared_with_them_first(world, client_for):
    share(client_for("peer"), "toolbox")
    html = client_for("peer_lead").get("/wrap/").get_data(as_text=True)
    assert html.index("Work-WRAPs shared with you") < html.index("Your own work-WRAP")
    assert world["peer"].name in html.split('id="wrap-shared-list"')[1].split("</ul>")[0]
    admin_home = client_for("admin").get("/").get_data(as_text=True)
    assert 'href="/wrap/sections"' in admin_home
    assert 'id="wrap-sections-panel"' not in client_for("peer_lead").get("/").get_data(as_text=True)


def test_confirming_with_htmx_swaps_only_the_arrangements(world, client_for):
    peer, lead = client_for("peer"), client_for("peer_lead")
    share(peer, "working_arrangements")
    pid = plan_id(world["peer"])
    data = {"supervisor": str(world["lead"].id), "agreed_on": "2026-05-01", "arrangements": "TWICE-tapped"}
    lead.post(f"/wrap/plans/{pid}/arrangements/new", data=data)
    lead.post(f"/wrap/plans/{pid}/arrangements/new", data=data)  # a double tap
    with db.connection_context():
        assert WrapArrangement.select().count() == 1
        arrangement = WrapArrangement.get()
    fragment = peer.htmx("post", f"/wrap/arrangements/{arrangement.id}/confirm")
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="wrap-arrangements"') and "<html" not in html
    assert "Confirmed by both" in html and "Confirm this is what we agreed" not in html
    # Without JavaScript the same URL answers with a redirect to the whole page.
    plain = lead.post(f"/wrap/arrangements/{arrangement.id}/confirm")
    assert plain.status_code == 302 and plain.headers["Location"].endswith(f"/wrap/shared/{pid}#arrangements")


def test_section_titles_are_unique(client_for):
    lead = client_for("peer_lead")
    clash = lead.post("/wrap/sections/new", data={"title": "My wellness toolbox", "order": "5", "active": "y"})
    assert clash.status_code == 422 and "already a section" in clash.get_data(as_text=True)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200), number=st.integers(-2**70, 2**70).map(str),
       day=st.one_of(st.text(max_size=12), st.dates().map(str)))
def test_fuzzed_sharing_and_arrangement_forms_never_fail_with_a_server_error(world, client_for, text, number, day):
    peer = client_for("peer")
    pid = plan_id(world["peer"])
    responses = [
        peer.post("/wrap/share", data={"password": text, "sections": [number, text], "whole_plan": text}),
        peer.post(f"/wrap/plans/{pid}/arrangements/new", data={"supervisor": number, "agreed_on": day,
                                                               "arrangements": text, "review_on": day}),
        client_for("peer_lead").post("/wrap/sections/new", data={"title": text, "order": number, "prompt": text}),
    ]
    assert all(r.status_code < 500 for r in responses), [r.status_code for r in responses]


def test_supervision_form_shows_early_warning_signs_only_while_shared(world, client_for):
    """Workforce's supervision form shows what the peer chose to share, and nothing after revoking."""
    from peerapp.workforce.models import PeerLeadDesignation, PeerRole

    with db.connection_context():
        PeerLeadDesignation.create(team=world["lead"].team, user=world["lead"], paid=True,
                                   designated_on=dt.date(2026, 1, 1))
        role = PeerRole.current_for(world["peer"])
    lead = client_for("peer_lead")
    url = f"/workforce/roles/{role.id}/supervision/new"
    assert SECRET["early_warning_signs"] not in lead.get(url).get_data(as_text=True)
    share(client_for("peer"), "early_warning_signs")
    page = lead.get(url).get_data(as_text=True)
    assert SECRET["early_warning_signs"] in page and SECRET["toolbox"] not in page
    found = live_shares(world["peer"])[0]
    client_for("peer").post(f"/wrap/shares/{found.id}/revoke")
    assert SECRET["early_warning_signs"] not in lead.get(url).get_data(as_text=True)
