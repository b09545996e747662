"""Races (issue 10, items 6 and 8): N simultaneous identical submissions from real
threads against a file database save exactly one record; the others get a
message, never a 500. Stale edits of every shared record get 409 with the typed
text kept."""
from __future__ import annotations

import threading

import pytest

from peerapp.db import db
from peerapp.models import Team, User
from peerapp.referrals.models import Intervention, Referral, ServiceUser
from peerapp.training.models import Candidate
from tests.test_referrals import inside, referral_form, world  # noqa: F401 (fixture)
from tests.dom import forms

N = 6


def race(clients, url, data):
    """Every client posts ``data`` to ``url`` at the same moment; returns the statuses."""
    tokens = [client.csrf_token() for client in clients]
    barrier = threading.Barrier(len(clients))
    statuses, errors = [None] * len(clients), []

    def post(i):
        try:
            barrier.wait()
            statuses[i] = clients[i].post(url, data={**data, "csrf_token": tokens[i]}, csrf=False).status_code
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    return statuses


def clients_of(login, user, n=N):
    return [login(user) for _ in range(n)]


def count(query) -> int:
    with db.connection_context():
        return query.count()


def test_simultaneous_new_teams_with_one_name(login, users):
    statuses = race(clients_of(login, users["admin"]), "/admin/teams/new", {"name": "Crisis Team", "base_address": ""})
    assert 500 not in statuses and set(statuses) <= {302, 422}, statuses
    assert count(Team.select().where(Team.name == "Crisis Team")) == 1 and statuses.count(302) == 1


def test_simultaneous_new_users_with_one_email(login, users):
    statuses = race(clients_of(login, users["admin"]), "/admin/users/new",
                    {"name": "Nia Jones", "email": "nia.jones@test.nhs.uk", "team": "0", "roles": ["clinician"]})
    assert 500 not in statuses and set(statuses) <= {200, 422}, statuses
    assert count(User.select().where(User.email == "nia.jones@test.nhs.uk")) == 1 and statuses.count(200) == 1


def test_simultaneous_new_interventions_with_one_name(login, users):
    statuses = race(clients_of(login, users["admin"]), "/referrals/interventions/new",
                    {"name": "Walking group", "duties": "Walk together", "delivery": "group",
                     "risk_levels": ["low"], "settings": ["community"]})
    assert 500 not in statuses and set(statuses) <= {302, 422}, statuses
    assert count(Intervention.select().where(Intervention.name == "Walking group")) == 1


def test_simultaneous_identical_new_referrals(world, login):  # noqa: F811
    statuses = race(clients_of(login, world.clinician), "/referrals/new", referral_form(world))
    assert 500 not in statuses and set(statuses) <= {302, 422}, statuses
    assert count(ServiceUser.select().where(ServiceUser.nhs_number == "9434765919")) == 1
    assert count(Referral.select().join(ServiceUser).where(ServiceUser.nhs_number == "9434765919")) == 1


def test_simultaneous_identical_new_referrals_without_nhs_number(world, login):  # noqa: F811
    statuses = race(clients_of(login, world.clinician), "/referrals/new", referral_form(world, nhs_number=""))
    assert 500 not in statuses and set(statuses) <= {302, 422}, statuses
    assert count(ServiceUser.select().where(ServiceUser.name == "Nadia Brook")) == 1


def test_simultaneous_identical_referrals_of_a_recorded_service_user(world, login):  # noqa: F811
    with inside():
        su = ServiceUser.create(name="Rory Once", team=world.team, care_coordinator=world.clinician,
                                created_by=world.clinician)
    data = {k: v for k, v in referral_form(world).items()
            if k in ("own_words", "goals", "interventions", "risk_summary", "risk_level", "last_risk_review_on",
                     "consent_override_reason")}
    statuses = race(clients_of(login, world.clinician, 4), f"/referrals/service-users/{su.id}/refer",
                    {**data, "consent_override_reason": "Consent recorded on the record"})
    assert 500 not in statuses and set(statuses) <= {302, 422}, statuses
    assert count(Referral.select().where(Referral.service_user == su.id)) == 1


def test_simultaneous_identical_nominations(login, users):
    statuses = race(clients_of(login, users["peer_lead"], 4), "/training/candidates/new",
                    {"name": "Kit Harper", "email": "kit@example.org", "nominated_on": "2026-05-01"})
    assert 500 not in statuses and set(statuses) <= {302, 422}, statuses
    assert count(Candidate.select().where(Candidate.name == "Kit Harper")) == 1


# -- stale edits -------------------------------------------------------------------------

def _form(client, url) -> dict:
    for form in forms(client.get(url).get_data(as_text=True)):
        if "version" in form.names():
            return form.fields()
    raise AssertionError(f"no versioned form on {url}")


def _stale_edit(app, first, second, url, field, getter):
    mine, theirs = _form(first, url), _form(second, url)
    assert first.post(url, data={**mine, field: "Saved first"}).status_code == 302
    response = second.post(url, data={**theirs, field: "Typed second and kept"})
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Typed second and kept" in text and "Someone else changed this" in text
    with app.app_context(), db.connection_context():
        assert getter() == "Saved first"


def test_stale_edits_of_every_shared_record_get_409_with_the_text_kept(app, login, users, make_user, team):
    from peerapp.demo import load_demo
    from peerapp.training.models import Cohort
    from peerapp.wrap.models import WrapSection
    with app.app_context():
        load_demo()
        admin2 = make_user("admin", email="admin2@test.nhs.uk")
        facilitator2 = make_user("facilitator", email="fac2@test.nhs.uk")
        with db.connection_context():
            item = Intervention.select().first()
            section = WrapSection.select().first()
            cohort = Cohort.select().first()
            candidate = Candidate.select().first()
            other = User.select().where(User.email == "viewer@demo.peerapp").get()
    a, b = login(users["admin"]), login(admin2)
    f1, f2 = login(users["facilitator"]), login(facilitator2)
    cases = [
        (a, b, f"/admin/teams/{team.id}", "name", lambda: Team.get_by_id(team.id).name),
        (a, b, f"/referrals/interventions/{item.id}", "name", lambda: Intervention.get_by_id(item.id).name),
        (a, b, f"/wrap/sections/{section.id}", "title", lambda: WrapSection.get_by_id(section.id).title),
        (f1, f2, f"/training/cohorts/{cohort.id}/edit", "name", lambda: Cohort.get_by_id(cohort.id).name),
        (f1, f2, f"/training/candidates/{candidate.id}/edit", "name", lambda: Candidate.get_by_id(candidate.id).name),
        (a, b, f"/admin/users/{other.id}", "name", lambda: User.get_by_id(other.id).name),
    ]
    for first, second, url, field, getter in cases:
        _stale_edit(app, first, second, url, field, getter)


# -- 7. a field that widens who can see a record is limited in every form ----------------

def test_a_peer_lead_cannot_move_a_service_user_to_another_team(world, login):  # noqa: F811
    with inside():
        other = Team.create(name="Faraway Team")
    lead = login(world.lead)
    su_id = world.referral.service_user_id
    url = f"/referrals/service-users/{su_id}/edit"
    page = lead.get(url)
    assert page.status_code == 200 and "Faraway Team" not in page.get_data(as_text=True)
    data = _form(lead, url)
    response = lead.post(url, data={**data, "team": str(other.id)})
    assert response.status_code == 422 and "Not a valid choice" in response.get_data(as_text=True)
    with inside():
        assert ServiceUser.get_by_id(su_id).team_id == world.team.id
    # A clinician refers to any team, on both forms.
    assert "Faraway Team" in login(world.clinician).get(url).get_data(as_text=True)
