"""Data rights and change history: subject access gathers a planted canary from every
area, erasure needs a second administrator and leaves the canary nowhere in the
database file or its log, history rows for every editable field, and every page that
shows a planted person's name writes an audit row."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from werkzeug.routing import IntegerConverter

from peerapp.audit import AuditEvent
from peerapp.db import db
from peerapp.demo import DEMO_USERS, load_demo
from peerapp.history import FieldChange
from peerapp.models import LoginSession, User
from peerapp.wrap import services as wrap_services

CANARY = {  # one token per place it is planted; all must be gathered, then erased
    "su_name": "Zqcanary Servuser", "own_words": "zq-canary-own-words", "contact": "zq-canary-contact",
    "meeting": "zq-canary-meeting-place", "preference": "zq-canary-preference",
    "peer_name": "Zqcanary Peerperson", "interests": "zq-canary-interest", "supervision": "zq-canary-supervision",
    "debrief": "zq-canary-debrief", "wrap": "zq-canary-wrap-text",
    "account": "Sam Rivers", "visit": "zq-canary-visit-place", "measure": "zq-canary-measure-reason",  # the demo peer's own name: other records mention it too
}


def _signed_in(app, email):
    client = app.test_client()
    with app.app_context():
        user = User.by_email(email)
        token = LoginSession.start(user)
    with client.session_transaction() as session:
        session["sid"], session["_user_id"] = token, str(user.id)
    client.user = user
    return client


@pytest.fixture
def planted(app):
    """Demo data with canaries planted in a service user's records and a paid peer's."""
    from peerapp.referrals.models import Contact, FirstMeeting, PeerPreference, Referral, ServiceUser
    from peerapp.training.models import Candidate
    from peerapp.workforce.models import Debrief, PeerRole, Supervision
    from peerapp.wrap.models import WrapPlan, WrapSection

    with app.app_context():
        load_demo()
        with db.atomic():
            contact = Contact.select().join(Referral).order_by(Contact.id).first()
            referral = contact.referral
            su = referral.service_user
            ServiceUser.update(name=CANARY["su_name"]).where(ServiceUser.id == su.id).execute()
            Referral.update(own_words=CANARY["own_words"]).where(Referral.id == referral.id).execute()
            Contact.update(summary=CANARY["contact"]).where(Contact.id == contact.id).execute()
            FirstMeeting.create(referral=referral, place=CANARY["meeting"], facilitated_by=referral.referrer_id)
            PeerPreference.create(service_user=su, kind="language", value=CANARY["preference"])
            sam = User.by_email("peer@demo.peerapp")
            role = PeerRole.current_for(sam)
            Candidate.update(name=CANARY["peer_name"]).where(Candidate.id == role.candidate_id).execute()
            PeerRole.update(interests=CANARY["interests"]).where(PeerRole.id == role.id).execute()
            Supervision.update(how_they_are=CANARY["supervision"]).where(Supervision.role == role.id).execute()
            Debrief.create(role=role, held_on=dt.date(2026, 11, 1), summary=CANARY["debrief"], recorded_by=role.supervisor_id)
            plan = WrapPlan.of(sam)
            latest = plan.latest().number if plan else 0
            wrap_services.save_version(sam, latest, {WrapSection.current()[0].id: CANARY["wrap"]})
            from peerapp.outcomes.models import MeasureResponse
            from peerapp.presence.models import Visit
            visit = Visit.select().where(Visit.worker == sam.id).first()
            assert visit is not None, "the demo has a visit of the demo peer"
            Visit.update(place=CANARY["visit"]).where(Visit.id == visit.id).execute()
            response = MeasureResponse.select().where(MeasureResponse.referral.is_null(False)).first()
            MeasureResponse.update(reason=CANARY["measure"], service_user=su.id).where(MeasureResponse.id == response.id).execute()
            return {"service_user": su.id, "referral": referral.id, "candidate": role.candidate_id, "role": role.id,
                    "sam": sam.id}


SU_TOKENS = ("su_name", "own_words", "contact", "meeting", "preference", "measure")
PEER_TOKENS = ("peer_name", "interests", "supervision", "debrief", "wrap", "account", "visit")


def test_subject_access_gathers_every_area_and_is_audited(app, planted):
    admin = _signed_in(app, "admin@demo.peerapp")
    lead = _signed_in(app, "lead@demo.peerapp")
    assert lead.get(f"/referrals/service-users/{planted['service_user']}").status_code == 200  # a view to find
    page = admin.get(f"/rights/service-users/{planted['service_user']}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for key in SU_TOKENS:
        assert CANARY[key] in text, key
    assert "Priya Shah" in text and "service user record viewed" in text  # who viewed the record
    peer = admin.get(f"/rights/peers/{planted['candidate']}").get_data(as_text=True)
    for key in PEER_TOKENS:
        assert CANARY[key] in peer, key
    for area in ("Training", "Workforce", "Work-WRAP", "Sign-in account"):
        assert f">{area}</h2>" in peer, area
    exported = admin.get(f"/rights/peers/{planted['candidate']}.json")
    assert exported.status_code == 200 and exported.headers["Content-Disposition"].startswith("attachment")
    data = json.loads(exported.data)
    assert {r["area"] for r in data["records"]} >= {"Training", "Workforce", "Work-WRAP", "Sign-in account"}
    with app.app_context():
        actions = {e.action for e in AuditEvent.select().where(AuditEvent.record_type.in_(("service_user", "peer")))}
        assert {"subject_access", "export"} <= actions
        summaries = " ".join(e.summary for e in AuditEvent.select())
        assert not any(CANARY[k] in summaries for k in CANARY)
    assert _signed_in(app, "manager@demo.peerapp").get(f"/rights/peers/{planted['candidate']}").status_code == 403
    assert admin.get("/rights/service-users/999999").status_code == 404


def test_subject_access_from_the_command_line(app, planted, tmp_path):
    out = tmp_path / "sar.json"
    result = app.test_cli_runner().invoke(args=["rights", "subject-access", "--service-user",
                                                str(planted["service_user"]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert CANARY["own_words"] in out.read_text() and oct(out.stat().st_mode)[-3:] == "600"
    assert app.test_cli_runner().invoke(args=["rights", "subject-access"]).exit_code != 0


def _file_bytes(app) -> bytes:
    """Everything stored: the SQLite file and its WAL; on PostgreSQL (whose files
    the tests cannot read) every row of every table as text."""
    if str(app.config["DATABASE"]).startswith("postgresql"):
        with app.app_context(), db.connection_context():
            return "".join(str(db.execute_sql(f'SELECT t::text FROM "{table}" t').fetchall())
                           for table in db.get_tables()).encode()
    path = Path(app.config["DATABASE"])
    found = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    return found + (wal.read_bytes() if wal.exists() else b"")


def test_erasure_needs_a_second_admin_and_leaves_no_trace_in_the_file(app, planted, make_user):
    from peerapp.referrals.models import Contact, Referral, ServiceUser
    from peerapp.rights.models import ErasureRequest

    lead = _signed_in(app, "lead@demo.peerapp")
    # An edit first, so the field history also holds the canary.
    assert lead.get(f"/rights/history/service_user/{planted['service_user']}").status_code == 200
    with app.app_context():
        second = User.create(email="second.admin@test.nhs.uk", name="Second Admin", password_hash="x")
        second.set_roles(["admin"])
        FieldChange.create(record_type="service_user", record_id=str(planted["service_user"]), field="name",
                           old_value=CANARY["su_name"], new_value="x", at=dt.datetime(2026, 1, 1))
        counts = (Referral.select().count(), Contact.select().count(), ServiceUser.select().count())
    assert all(CANARY[k].encode() in _file_bytes(app) for k in ("su_name", "contact"))
    first = _signed_in(app, "admin@demo.peerapp")
    for kind, person_id in (("service-users", planted["service_user"]), ("peers", planted["candidate"])):
        response = first.post(f"/rights/{kind}/{person_id}/erase", data={"reason": "Article 17 request, SAR-1"})
        assert response.status_code == 302
    again = first.post(f"/rights/service-users/{planted['service_user']}/erase", data={"reason": "twice"})
    assert again.status_code == 302  # one open request per person: told, not a 500
    with app.app_context():
        requests = list(ErasureRequest.open())
    assert len(requests) == 2
    refused = first.post(f"/rights/erasures/{requests[0].id}/confirm", follow_redirects=True)
    assert "A second administrator must confirm" in refused.get_data(as_text=True)
    other = _signed_in(app, "second.admin@test.nhs.uk")
    for row in requests:
        assert other.post(f"/rights/erasures/{row.id}/confirm").status_code == 302
    with app.app_context():
        assert ErasureRequest.select().where(ErasureRequest.state == "erased").count() == 2
        # Tombstones: the rows stay, so report counts do not change.
        assert (Referral.select().count(), Contact.select().count(), ServiceUser.select().count()) == counts
        assert ServiceUser.get_by_id(planted["service_user"]).name == "Erased"
        assert not User.get_by_id(planted["sam"]).active
        erase_rows = list(AuditEvent.select().where(AuditEvent.action == "erase"))
        assert len(erase_rows) == 2 and all("erased" in e.summary for e in erase_rows)
        db.close()
    raw = _file_bytes(app)
    left = [key for key, token in CANARY.items() if token.encode() in raw]
    assert left == [], left  # the peer's name is gone from other people's records too


def test_erasure_request_is_audited_without_content_and_can_be_withdrawn(app, planted):
    from peerapp.rights.models import ErasureRequest

    admin = _signed_in(app, "admin@demo.peerapp")
    assert admin.post(f"/rights/service-users/{planted['service_user']}/erase", data={"reason": ""}).status_code == 422
    admin.post(f"/rights/service-users/{planted['service_user']}/erase", data={"reason": "past retention"})
    with app.app_context():
        row = ErasureRequest.open().get()
    assert admin.post(f"/rights/erasures/{row.id}/cancel").status_code == 302
    with app.app_context():
        assert ErasureRequest.get_by_id(row.id).state == "cancelled"


def test_retention_periods_are_data_and_the_review_lists_people_past_them(app, planted, clock):
    from peerapp.referrals.models import Referral
    from peerapp.rights.models import RetentionRule

    admin = _signed_in(app, "admin@demo.peerapp")
    page = admin.get("/rights/retention").get_data(as_text=True)
    assert "Records Management Code of Practice" in page and CANARY["su_name"] not in page
    with app.app_context():
        assert RetentionRule.get(RetentionRule.kind == "service_user").years == 20
        Referral.update(state="closed", state_changed_at=dt.datetime(2004, 5, 1)) \
            .where(Referral.service_user == planted["service_user"]).execute()
    page = admin.get("/rights/retention").get_data(as_text=True)
    assert CANARY["su_name"] in page
    assert admin.post("/rights/retention", data={"kind": "service_user", "years": "30"}).status_code == 302
    assert CANARY["su_name"] not in admin.get("/rights/retention").get_data(as_text=True)
    assert admin.post("/rights/retention", data={"kind": "service_user", "years": str(2**63)}).status_code == 422


def test_retention_review_lists_only_service_users_whose_every_referral_ended_before_the_cutoff(app, planted):
    """The review's rule, person by person: every referral finished (declined or closed)
    and the last of them changed state before the period began; the date shown is the last."""
    from peerapp.referrals.models import Referral, ServiceUser
    from peerapp.personal import ERASED
    from peerapp.referrals.rights import past_retention

    with app.app_context():
        ids = [r for (r,) in Referral.select(Referral.id).order_by(Referral.id).limit(6).tuples()]
        assert len(ids) == 6, "the demo has six referrals to share out"
        team = Referral.get_by_id(ids[0]).team_id
        past, still_open, recent = (ServiceUser.create(name=n, team=team) for n in ("Zq Past", "Zq Open", "Zq Recent"))
        ServiceUser.create(name="Zq Never referred", team=team)
        erased = ServiceUser.create(name=ERASED, team=team)  # erased already: nothing left to review
        for rid, su, state, at in ((ids[0], past, "closed", dt.datetime(2003, 1, 2)),
                                   (ids[1], past, "declined", dt.datetime(2005, 6, 1, 9)),
                                   (ids[2], still_open, "closed", dt.datetime(2003, 1, 2)),
                                   (ids[3], still_open, "active", dt.datetime(2003, 1, 2)),
                                   (ids[4], recent, "closed", dt.datetime(2007, 1, 2)),
                                   (ids[5], erased, "closed", dt.datetime(2003, 1, 2))):
            Referral.update(service_user=su, state=state, state_changed_at=at).where(Referral.id == rid).execute()
        Referral.update(state_changed_at=dt.datetime(2026, 1, 1)).where(Referral.id.not_in(ids)).execute()
        found = past_retention({"service_user": 20}, dt.date(2026, 12, 1))
        assert [(f.person.kind, f.person.id, f.name, f.detail) for f in found] == [
            ("service_user", past.id, "Zq Past", "support ended 2005-06-01")]
        assert {f.person.id for f in past_retention({"service_user": 18}, dt.date(2026, 12, 1))} == {past.id, recent.id}
        assert past_retention({}, dt.date(2026, 12, 1)) == []


def test_owner_erases_their_work_wrap_with_every_version_and_share(app, planted):
    from peerapp.wrap.models import WrapEntry, WrapPlan, WrapShare, WrapVersion

    sam = _signed_in(app, "peer@demo.peerapp")
    with app.app_context():
        plan = WrapPlan.of(User.get_by_id(planted["sam"]))
        assert WrapVersion.select().where(WrapVersion.plan == plan).count() >= 2
        assert WrapShare.select().where(WrapShare.plan == plan).exists()
    assert sam.post("/wrap/erase", data={}).status_code == 422  # not confirmed: nothing deleted
    assert sam.post("/wrap/erase", data={"confirm": "y"}).status_code == 302
    with app.app_context():
        assert WrapPlan.of(User.get_by_id(planted["sam"])) is None
        assert not WrapVersion.select().where(WrapVersion.plan == plan.id).exists()
        assert not WrapShare.select().where(WrapShare.plan == plan.id).exists()
        assert not WrapEntry.select().where(WrapEntry.text == CANARY["wrap"]).exists()
        views = AuditEvent.select().where(AuditEvent.record_type == "wrap_plan", AuditEvent.record_id == str(plan.id))
        assert views.where(AuditEvent.action == "erase").exists()  # the log keeps that a plan existed
        db.close()
    assert CANARY["wrap"].encode() not in _file_bytes(app)


def test_the_wrap_goes_when_the_peer_leaves(app, planted):
    from peerapp.workforce import services
    from peerapp.workforce.models import PeerRole
    from peerapp.wrap.models import WrapPlan

    with app.app_context():
        role = PeerRole.get_by_id(planted["role"])
        lead = User.get_by_id(role.supervisor_id)
        services.change_status(role, "ended", by=lead, reason="moved away")
        assert WrapPlan.of(User.get_by_id(planted["sam"])) is None


# --- change history -----------------------------------------------------------------------
def test_history_rows_for_every_editable_field_of_a_service_user(app, planted):
    lead = _signed_in(app, "lead@demo.peerapp")
    url = f"/referrals/service-users/{planted['service_user']}/edit"
    form = lead.get(url).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="([^"]+)"', form) or re.search(r'value="([^"]+)"[^>]*name="version"', form)
    with app.app_context():
        from peerapp.referrals.models import ServiceUser
        su = ServiceUser.get_by_id(planted["service_user"])
        team, coordinator = su.team_id, su.care_coordinator_id or 0
    data = {"name": "New Name", "preferred_name": "Newby", "date_of_birth": "1990-02-03", "gender": "agender (zq)",
            "pronouns": "ze/zir", "contact_preference": "text after 5pm", "team": str(team),
            "care_coordinator": str(coordinator), "nhs_number": "", "languages": "Welsh", "interests": "chess",
            "availability": ["mon-am"], "area": "Eastgate", "consent_referral": "y", "consent_sharing": "y",
            "consent_on": "2026-11-01", "version": version.group(1)}
    response = lead.post(url, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    with app.app_context():
        fields = {c.field for c in FieldChange.select().where(FieldChange.record_type == "service_user",
                                                              FieldChange.record_id == str(planted["service_user"]))}
        assert {"name", "preferred_name", "date_of_birth", "gender", "pronouns", "contact_preference", "languages",
                "interests", "availability", "area", "consent_referral_on", "consent_sharing_on",
                "preferences"} <= fields, fields
        name = FieldChange.get(FieldChange.field == "name", FieldChange.record_type == "service_user")
        assert (name.old_value, name.new_value, name.user.email) == (CANARY["su_name"], "New Name", "lead@demo.peerapp")
    page = lead.get(f"/rights/history/service_user/{planted['service_user']}")
    assert page.status_code == 200 and "New Name" in page.get_data(as_text=True)
    with app.app_context():
        assert AuditEvent.select().where(AuditEvent.summary == "change history viewed").exists()
    # Not theirs: 404, as for the record itself.
    assert _signed_in(app, "viewer@demo.peerapp").get(f"/rights/history/service_user/{planted['service_user']}").status_code == 404
    assert _signed_in(app, "volunteer@demo.peerapp").get(f"/rights/history/referral/{planted['referral']}").status_code == 404
    assert lead.get("/rights/history/nonsense/1").status_code == 404


def test_history_rows_for_every_editable_field_of_a_role_and_a_candidate(app, planted):
    from peerapp.workforce import services
    from peerapp.workforce.models import PeerRole

    with app.app_context():
        role = PeerRole.get_by_id(planted["role"])
        lead = User.get_by_id(role.supervisor_id)
        details = {"hours_per_week": 23.25, "working_days": "mon,tue", "max_caseload": 5, "interests": "art",
                   "languages": "Urdu", "areas": "Westfield", "availability": "fri-am", "gender": "agender (zq)",
                   "age_band": "30-39", "backgrounds": "carer", "intervention_kinds": "groups",
                   "start_date": role.start_date - dt.timedelta(days=1)}
        services.update_details(role, by=lead, supervisor=lead, **details)
        changed = {c.field for c in FieldChange.select().where(FieldChange.record_type == "peer_role")}
        assert set(details) <= changed, set(details) - changed
        services.change_status(PeerRole.get_by_id(role.id), "paused", by=lead, reason="leave")
        status = FieldChange.get(FieldChange.field == "status", FieldChange.record_type == "peer_role")
        assert (status.old_value, status.new_value) == ("active", "paused")
        assert FieldChange.get(FieldChange.field == "status_reason").free_text is False  # a CharField
    facilitator = _signed_in(app, "facilitator@demo.peerapp")
    url = f"/training/candidates/{planted['candidate']}/edit"
    response = facilitator.post(url, data={"name": "Pat New", "preferred_name": "Pat", "pronouns": "they/them",
                                           "email": "pat@example.org", "phone": "01234 567890",
                                           "nominated_on": "2026-01-05"})
    assert response.status_code == 302
    with app.app_context():
        changed = {c.field for c in FieldChange.select().where(FieldChange.record_type == "candidate")}
        assert {"name", "preferred_name", "pronouns", "email", "phone", "nominated_on"} <= changed


def test_free_text_is_shown_only_to_those_who_may_read_it():
    from peerapp.history import FieldChange as Change, fingerprint, shown_value

    note = Change(field="summary", old_value="was unwell", new_value="", free_text=True)
    assert shown_value(note, True, "old") == "was unwell"
    hidden = shown_value(note, False, "old")
    assert "was unwell" not in hidden and fingerprint("was unwell") in hidden
    assert shown_value(note, False, "new") == "(empty)"


# --- every page that shows a person's name writes an audit row -----------------------------
def _urls(app, ids=(1, 2, 3)):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods or rule.rule.endswith((".csv", ".json")):
            continue
        if any(not isinstance(rule._converters[a], IntegerConverter) for a in rule.arguments):
            continue
        for n in ids if rule.arguments else (None,):
            url = rule.rule
            for name in rule.arguments:
                url = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">", str(n), url)
            yield url


@pytest.mark.same_on_every_engine("which views write an audit row is decided in Python")
def test_every_page_showing_a_planted_name_writes_an_audit_row(app):
    from peerapp.referrals.models import ServiceUser
    from peerapp.training.models import Candidate

    with app.app_context():
        load_demo()
        # A planted name on every service user's record and every candidate's (a peer's
        # candidate record too: its name is the one their role, checks and supervision
        # pages show, while rotas and boards show the sign-in account's name).
        with db.atomic():
            for model, tag in ((ServiceUser, "Servuser"), (Candidate, "Trainee")):
                for (record_id,) in model.select(model.id).tuples():
                    model.update(name=f"Zqplanted {tag}{record_id:03d}").where(model.id == record_id).execute()
        names = {f"Zqplanted Servuser{i:03d}" for (i,) in ServiceUser.select(ServiceUser.id).tuples()}
        names |= {f"Zqplanted Trainee{i:03d}" for (i,) in Candidate.select(Candidate.id).tuples()}
    assert len(names) > 15
    urls = sorted(set(_urls(app)))
    missing = []
    for spec in DEMO_USERS:
        client = _signed_in(app, spec["email"])
        own = {spec["name"]}  # everyone sees their own name in the header
        for url in urls:
            with app.app_context():
                before = AuditEvent.select().count()
            text = client.get(url).get_data(as_text=True)
            # Choices in a list of people (whom to offer a role, who declares) name staff to
            # pick from, not anyone's record; the audit log names who acted, never whose record.
            text = re.sub(r'value="[^"]*"|<option[^>]*>[^<]*</option>', "", text)
            if url == "/admin/audit":
                continue
            shown = [n for n in names - own if n in text]
            if not shown:
                continue
            with app.app_context():
                after = AuditEvent.select().count()
            if after == before:
                missing.append((spec["key"], url, shown[:2]))
    assert missing == [], missing


def test_the_three_pages_that_named_peers_without_an_audit_row_now_write_one(app):
    """The workforce team page ("paused automatically: DBS ..."), the training candidates
    list and the role edit page each write a view row (they wrote none before)."""
    with app.app_context():
        load_demo()
    lead = _signed_in(app, "lead@demo.peerapp")
    for url, action in (("/workforce/", "view_list"), ("/training/candidates", "view_list"),
                        ("/workforce/roles/1/edit", "view")):
        with app.app_context():
            before = AuditEvent.select().where(AuditEvent.action == action).count()
        assert lead.get(url).status_code == 200, url
        with app.app_context():
            assert AuditEvent.select().where(AuditEvent.action == action).count() == before + 1, url
