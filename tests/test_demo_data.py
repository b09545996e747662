"""The demo data is data a person could have typed: every demo record passes its
own form's validation, an induction signed off has every item done, and people
are greeted by name.

Records with an edit page are opened there and sent back unchanged, as a person
pressing Save would; records whose form only creates them are filled into that
form from the stored row and validated."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

from peerapp.db import db
from peerapp.demo import DEMO_USERS, load_demo
from peerapp.models import LoginSession, User
from tests.test_optional_fields import forms_on

# edit page -> (model, demo logins that may open it, first that can wins)
EDIT_PAGES = {
    "/admin/teams/{id}": ("peerapp.models:Team", ["admin"]),
    "/admin/users/{id}": ("peerapp.models:User", ["admin"]),
    "/training/cohorts/{id}/edit": ("peerapp.training.models:Cohort", ["facilitator"]),
    "/training/candidates/{id}/edit": ("peerapp.training.models:Candidate", ["lead", "lead2", "facilitator"]),
    "/workforce/roles/{id}/edit": ("peerapp.workforce.models:PeerRole", ["lead", "lead2", "manager"]),
    "/wrap/sections/{id}": ("peerapp.wrap.models:WrapSection", ["admin", "lead"]),
    "/referrals/interventions/{id}": ("peerapp.referrals.models:Intervention", ["lead", "admin"]),
    "/referrals/service-users/{id}/edit": ("peerapp.referrals.models:ServiceUser", ["lead", "lead2", "clinician"]),
}
SETTINGS_PAGES = {"/training/curriculum": ["facilitator"], "/workforce/settings": ["manager", "lead"],
                  "/matching/settings": ["lead"]}


def _model(spec):
    import importlib
    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name)


def _clients(app):
    clients = {}
    for spec in DEMO_USERS:
        client = app.test_client()
        with app.app_context():
            user = User.by_email(spec["email"])
            token = LoginSession.start(user)
        with client.session_transaction() as session:
            session["sid"], session["_user_id"], session["_fresh"] = token, str(user.id), True
        clients[spec["key"]] = client
    return clients


def _send_unchanged(client, url):
    """Open the edit page and press its Save without changing anything: None when
    accepted, else what the page said."""
    page = client.get(url)
    if page.status_code != 200:
        return "not opened"
    forms = [f for f in forms_on(page.get_data(as_text=True)) if f["action"] in ("", url)]
    if not forms:
        return "no form"
    answer = client.post(url, data=MultiDict(forms[0]["data"]), csrf=False)
    if answer.status_code in (302, 303):
        return None
    text = answer.get_data(as_text=True)
    errors = [part.split("</span>", 1)[1].split("</span>", 1)[0].strip()
              for part in text.split('class="nhsuk-error-message"')[1:]]
    return f"{answer.status_code}: {errors or text[:200]}"


def test_every_demo_record_with_an_edit_page_saves_unchanged(app):
    with app.app_context():
        load_demo()
        ids = {url: [r.id for r in _model(spec).select()] for url, (spec, _) in EDIT_PAGES.items()}
    clients = _clients(app)
    problems, saved = [], 0
    for url, (_, who) in EDIT_PAGES.items():
        for record_id in ids[url]:
            path = url.format(id=record_id)
            said = "not opened"
            for key in who:
                said = _send_unchanged(clients[key], path)
                if said != "not opened":
                    break
            if said in ("not opened", "no form"):
                continue  # a record this demo login may not edit (another team, say)
            saved += said is None
            if said is not None:
                problems.append(f"{path}: {said}")
    for url, who in SETTINGS_PAGES.items():
        said = next((s for s in (_send_unchanged(clients[k], url) for k in who) if s != "not opened"), "not opened")
        saved += said is None
        if said is not None:
            problems.append(f"{url}: {said}")
    assert problems == [], "\n".join(problems)
    assert saved >= 40


def test_demo_records_without_an_edit_page_pass_the_form_that_makes_them(app):
    """Supervision, debriefs and recruitment checks, filled from the stored row."""
    from peerapp.workforce.forms import CheckForm, DebriefForm, SupervisionForm
    from peerapp.workforce.models import CheckType, Debrief, RecruitmentCheck, Supervision

    with app.app_context():
        load_demo()
    problems, checked = [], 0
    with app.test_request_context("/", method="POST"):
        app.preprocess_request()
        types = list(CheckType.select())
        rows = ([(SupervisionForm, s, {}) for s in Supervision.select()] +
                [(DebriefForm, d, {}) for d in Debrief.select()] +
                [(CheckForm, c, {"check_types": types}) for c in RecruitmentCheck.select()])
        for form_class, row, kwargs in rows:
            shown = form_class(formdata=None, obj=row, meta={"csrf": False}, **kwargs)
            if form_class is CheckForm:
                shown.check_type.data = row.check_type_id
                shown.dbs_update_service.data = {True: "yes", False: "no"}.get(row.dbs_update_service)
            sent = MultiDict()
            for name, f in shown._fields.items():
                if f.type in ("CheckboxesField",):
                    for value in f.data or []:
                        sent.add(name, value)
                elif f.data is not None:
                    sent[name] = f._value() if hasattr(f, "_value") else str(f.data)
            form = form_class(formdata=sent, meta={"csrf": False}, **kwargs)
            checked += 1
            if not form.validate():
                problems.append(f"{type(row).__name__} #{row.id}: {form.errors}")
    assert checked >= 10
    assert problems == [], "\n".join(problems)


def test_every_signed_off_induction_has_every_item_done(app):
    from peerapp.workforce.models import InductionItem, InductionTick, PeerRole

    with app.app_context():
        load_demo()
        with db.connection_context():
            items = {i.id for i in InductionItem.checklist()}
            signed = list(PeerRole.select().where(PeerRole.induction_signed_off_on.is_null(False)))
            assert signed
            for role in signed:
                done = {t.item_id for t in InductionTick.select().where(InductionTick.role == role)}
                assert items <= done, f"{role.display_name}: signed off with {len(items - done)} item(s) not done"


def test_people_are_greeted_by_name_not_by_title(app, make_user, login):
    doctor = make_user("clinician", name="Dr Hannah Cole")
    page = login(doctor).get("/").get_data(as_text=True)
    assert "Hello, Hannah" in page and "Hello, Dr" not in page


def test_the_demo_made_at_any_hour_shows_people_in_the_base(app, clock):
    """`make run` may be started at any hour: the demo's three people in the base are
    in, not "did not sign out", even when it is made after the closing hour (20:00)."""
    import datetime as dt

    from peerapp.presence.services import day_board

    clock.freeze(dt.datetime(2026, 12, 1, 21, 30))  # London is on GMT in December
    with app.app_context():
        load_demo()
        with db.connection_context():
            lead = User.get(User.email == "lead@demo.peerapp")
            rows = day_board(lead.team_id, clock())
    inside = sorted(row["person"].name for row in rows if row["where"] == "in")
    assert len(inside) == 3 and not any(row["auto_closed"] for row in rows), inside
