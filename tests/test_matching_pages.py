"""Matching pages: starting a run (stored, audited), approving one, several and all,
overriding with another eligible peer (and refusing an ineligible one), stale approvals,
the htmx contract, access per role and per team, bad settings input, and the inputs
built from the database."""
from __future__ import annotations

import datetime as dt
import json
import re
from types import SimpleNamespace


import pytest

from peerapp.audit import AuditEvent
from peerapp.db import db
from peerapp.matching import inputs
from peerapp.matching.models import (APPROVED, OVERRIDDEN, PROPOSED, SUPERSEDED, MatchingRun, MatchingSettings,
                                     RunProposal, RunUnmatched)
from peerapp.models import Team
from peerapp.referrals import services, states
from peerapp.referrals.demo import ready_peer, seed_catalogue
from peerapp.referrals.models import (Assignment, DeclaredConflict, PeerPreference, Referral, ServiceUser)
from peerapp.training.models import Candidate, EquivalentTraining
from peerapp.workforce.models import PeerRole, RecruitmentCheck
from tests.dom import parse

TODAY = dt.date(2026, 5, 1)
NHS = "9434765919"


def trained(team, by, name, user=None) -> Candidate:
    candidate = Candidate.create(name=name, team=team, nominated_by=by, nominated_on=TODAY - dt.timedelta(days=200),
                                 user=user)
    EquivalentTraining.create(candidate=candidate, provider="Recovery College", completed_on=TODAY - dt.timedelta(days=150),
                              recognised_by=by, recognised_on=TODAY - dt.timedelta(days=140))
    return candidate


def peer(w, name, kind="paid", limit=2, **details):
    return ready_peer(candidate=trained(w.team, w.lead, name), team=w.team, user=None, kind=kind,
                      supervisor=w.lead, max_caseload=limit, today=TODAY, **details)


def waiting(w, name, *, risk="low", wanted=("1:1 recovery conversations",), volunteer=True, languages=("English",),
            interests=(), prefs=(), nhs=None, team=None) -> Referral:
    """A referral accepted at screening, now awaiting a match."""
    team = team or w.team
    su = ServiceUser.create(name=name, team=team, care_coordinator=w.clinician, nhs_number=nhs,
                            consent_referral_on=TODAY, consent_sharing_on=TODAY, languages=list(languages),
                            interests=list(interests), area="Northfield")
    for kind, value, must in prefs:
        PeerPreference.create(service_user=su, kind=kind, value=value, must=must)
    referral = Referral.create(service_user=su, team=team, referrer=w.clinician, referred_on=TODAY - dt.timedelta(days=10),
                               own_words="OWN-WORDS", risk_level=risk, last_risk_review_on=TODAY)
    services.set_interventions(referral, [w.items[n] for n in wanted])
    services.screen(referral, states.ACCEPTED, by=w.lead, interventions=referral.requested_interventions(),
                    volunteer_allowed=volunteer, reasons="fits")
    return referral


@pytest.fixture
def w(app, clock, team, users, make_user):
    """A team with three peers (Pat and Robin paid, Val a volunteer) and three referrals
    awaiting a match; an Urdu speaker makes Pat the clear best fit for Amira."""
    clock.freeze(dt.datetime(2026, 5, 1, 9))
    with app.app_context(), db.connection_context():
        items = seed_catalogue()
        ns = SimpleNamespace(team=team, items=items, lead=users["peer_lead"], clinician=users["clinician"],
                             users=users)
        ns.pat = peer(ns, "Pat Urdu", languages="English, Urdu", gender="woman", interests="cooking")
        ns.robin = peer(ns, "Robin Paid", limit=2, interests="football")
        ns.val = peer(ns, "Val Volunteer", kind="volunteer", limit=1, interests="art")
        ns.amira = waiting(ns, "Amira Planted", languages=("English", "Urdu"), interests=("cooking",),
                           prefs=[("gender", "woman", True)], nhs=NHS)
        ns.tomek = waiting(ns, "Tomek Planted", interests=("football",))
        ns.kez = waiting(ns, "Kezia Planted", interests=("art",))
        ns.other_team = Team.create(name="Other team")
    yield ns


def start(client) -> MatchingRun:
    response = client.post("/matching/runs")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    run_id = int(re.search(r"/matching/runs/(\d+)", response.headers["Location"]).group(1))
    with db.connection_context():
        return MatchingRun.get_by_id(run_id)


def why_not_page(client, run, referral) -> str:
    """The "why not other peers?" of one referral of a run, worked out when asked."""
    response = client.get(f"/matching/runs/{run.id}/why-not/{referral.id}")
    assert response.status_code == 200
    return parse(response).text


def proposal_for(run, referral) -> RunProposal:
    with db.connection_context():
        return RunProposal.get(RunProposal.run == run.id, RunProposal.referral == referral.id)


# --- inputs from the database --------------------------------------------------------

def test_inputs_carry_preferences_conflicts_not_a_good_fit_and_waiting_days(app, w):
    with app.app_context(), db.connection_context():
        DeclaredConflict.create(service_user=w.tomek.service_user, peer_role=w.robin, declared_by_side="service user",
                                recorded_by=w.lead)
        DeclaredConflict.create(service_user=w.kez.service_user, peer_role=w.val, declared_by_side="peer",
                                recorded_by=w.lead)
        data = inputs.for_team(w.team)
        refs = {r.id: r for r in data.referrals}
        peers = {p.id: p for p in data.peers}
        amira = refs[w.amira.id]
        assert amira.label == w.amira.label and "Amira" not in amira.label and NHS not in repr(amira)
        assert [(p.kind, p.value, p.must) for p in amira.preferences] == [("gender", "woman", True)]
        assert amira.languages == {"English", "Urdu"} and amira.volunteer_allowed
        assert amira.interventions == {w.items["1:1 recovery conversations"].id}
        assert refs[w.tomek.id].excluded_peers == {w.robin.id}
        assert peers[w.val.id].excluded_service_users == {w.kez.service_user_id}
        assert peers[w.val.id].volunteer and peers[w.pat.id].ready and peers[w.pat.id].max_caseload == 2
        assert amira.waiting_days == 0
    # Ten days later the referral has waited ten days since it was accepted.
    with app.app_context(), db.connection_context():
        from peerapp import clock as house_clock
        app.config["CLOCK"].freeze(dt.datetime(2026, 5, 11, 9))
        assert {r.id: r.waiting_days for r in inputs.for_team(w.team).referrals}[w.amira.id] == 10
        assert house_clock.today() == dt.date(2026, 5, 11)


def test_a_peer_not_ready_is_in_the_run_with_the_reason(app, w, client_for):
    with app.app_context(), db.connection_context():
        for check in RecruitmentCheck.select().where(RecruitmentCheck.candidate == w.robin.candidate_id):
            if check.check_type.is_dbs:
                check.completed_on, check.expires_on = TODAY - dt.timedelta(days=900), TODAY - dt.timedelta(days=3)
                check.save()
        peers = {p.id: p for p in inputs.for_team(w.team).peers}
        assert not peers[w.robin.id].ready
        assert "DBS check expired" in peers[w.robin.id].not_ready_reason
    run = start(client_for("peer_lead"))
    page = why_not_page(client_for("peer_lead"), run, w.amira)
    assert "not ready to practise: DBS check expired" in page


# --- starting a run -------------------------------------------------------------------

def test_starting_a_run_stores_it_with_proposals_and_is_audited(app, w, client_for):
    run = start(client_for("peer_lead"))
    with db.connection_context():
        assert run.team_id == w.team.id and run.started_by_id == w.lead.id
        assert run.referral_count == 3 and run.peer_count == 3
        assert run.proposal_count + run.unmatched_count == 3
        assert json.loads(run.settings_json)["weights"]["interests"] == 1.0
        proposals = {p.referral_id: p for p in run.proposals()}
        assert proposals[w.amira.id].peer_role_id == w.pat.id
        assert proposals[w.amira.id].status == PROPOSED
        assert "both speak English and Urdu" in proposals[w.amira.id].reason_list
        why_not = {e["peer"]: e for e in proposals[w.amira.id].excluded}
        assert why_not[w.robin.id]["reason"] == "must have a woman peer" and not why_not[w.robin.id]["eligible"]
        assert run.total_score == pytest.approx(sum(p.score for p in proposals.values()), abs=1e-3)
        events = list(AuditEvent.for_record("matching_run", run.id))
        assert [e.action for e in events] == ["create"] and events[0].user_id == w.lead.id
        assert "Amira" not in events[0].summary
        # Nothing is assigned until a peer lead approves.
        assert Referral.get_by_id(w.amira.id).state == states.AWAITING_MATCH


def test_run_page_shows_reasons_alternatives_why_not_and_is_audited(app, w, client_for):
    run = start(client_for("peer_lead"))
    response = client_for("peer_lead").get(f"/matching/runs/{run.id}")
    assert response.status_code == 200
    doc = parse(response)
    row = doc.select_one(f"#proposal-{proposal_for(run, w.amira).id}")
    text = row.text
    assert w.amira.label in text and "Amira" in text and "Pat Urdu" in text
    assert "Planted" not in text and NHS not in response.get_data(as_text=True)  # first name only, no NHS number
    assert "both speak English and Urdu" in text and "Next best:" in text
    details = row.select_one("details.matching-why-not")
    assert "Why not other peers?" in details.select_one("summary").text
    # The reasons are worked out when the row's "why not" is opened, not carried by the page.
    why_url = f"/matching/runs/{run.id}/why-not/{w.amira.id}"
    assert details.select_one("a")["href"] == why_url and details["hx-get"] == why_url
    assert "Robin Paid" not in details.text
    why = why_not_page(client_for("peer_lead"), run, w.amira)
    assert "Robin Paid" in why and "must have a woman peer" in why
    fragment = parse(client_for("peer_lead").get(why_url, headers={"HX-Request": "true"}))
    assert "Robin Paid" in fragment.text and not fragment.select("html")
    assert row.select_one(f"form[action='/matching/proposals/{proposal_for(run, w.amira).id}/approve']")
    with db.connection_context():  # the page, the why-not page and its fragment: each opening audited
        assert AuditEvent.for_record("matching_run", run.id).where(AuditEvent.action == "view").count() == 3


def test_unmatched_referrals_say_why(app, w, client_for):
    with app.app_context(), db.connection_context():
        polish = waiting(w, "Joanna Planted", languages=("Polish",), prefs=[("language", "Polish", True)])
    run = start(client_for("peer_lead"))
    with db.connection_context():
        row = RunUnmatched.get(RunUnmatched.run == run.id, RunUnmatched.referral == polish.id)
        assert row.reason == "no peer with capacity speaks Polish"
    page = parse(client_for("peer_lead").get(f"/matching/runs/{run.id}"))
    item = page.select_one(f"#unmatched-{row.id}")
    assert "no peer with capacity speaks Polish" in item.text and "Joanna" in item.text
    assert "must have a Polish-speaking peer" in why_not_page(client_for("peer_lead"), run, polish)


def test_nothing_awaiting_means_no_run(app, client_for, users):
    response = client_for("peer_lead").post("/matching/runs", follow_redirects=True)
    assert "nothing to run" in response.get_data(as_text=True)
    with db.connection_context():
        assert MatchingRun.select().count() == 0


def test_a_new_run_supersedes_open_proposals_of_the_last(app, w, client_for):
    lead = client_for("peer_lead")
    first = start(lead)
    second = start(lead)
    with db.connection_context():
        assert {p.status for p in first.proposals()} == {SUPERSEDED}
        assert {p.status for p in second.proposals()} == {PROPOSED}
    page = lead.get(f"/matching/runs/{first.id}").get_data(as_text=True)
    assert "Superseded" in page and 'id="superseded-note"' in page
    # A superseded proposal cannot be approved.
    response = lead.post(f"/matching/proposals/{proposal_for(first, w.amira).id}/approve")
    assert response.status_code == 303
    with db.connection_context():
        assert Referral.get_by_id(w.amira.id).state == states.AWAITING_MATCH


# --- approving ------------------------------------------------------------------------

def test_approving_assigns_the_peer_through_referrals(app, w, client_for):
    run = start(client_for("peer_lead"))
    proposal = proposal_for(run, w.amira)
    response = client_for("peer_lead").post(f"/matching/proposals/{proposal.id}/approve")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"#proposal-{proposal.id}")
    with db.connection_context():
        referral = Referral.get_by_id(w.amira.id)
        assert referral.state == states.MATCHED
        assignment = referral.current_assignment()
        assert assignment.peer_role_id == w.pat.id and assignment.how == "matching run"
        assert assignment.assigned_by_id == w.lead.id
        proposal = RunProposal.get_by_id(proposal.id)
        assert proposal.status == APPROVED and proposal.decided_by_id == w.lead.id
        assert proposal.assigned_role_id == w.pat.id
        events = list(AuditEvent.for_record("run_proposal", proposal.id))
        assert [e.action for e in events] == ["approve"] and "Amira" not in events[0].summary
    page = client_for("peer_lead").get(f"/matching/runs/{run.id}").get_data(as_text=True)
    assert "matched with Pat Urdu" in page  # the flash


def test_approve_with_htmx_returns_the_row_only(app, w, client_for):
    run = start(client_for("peer_lead"))
    proposal = proposal_for(run, w.amira)
    response = client_for("peer_lead").htmx("post", f"/matching/proposals/{proposal.id}/approve")
    assert response.status_code == 200
    assert "HX-Request" in response.headers.get("Vary", "")
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith(f'<tr id="proposal-{proposal.id}"') and "<html" not in body
    row = parse(response).select_one("tr")
    assert row["data-status"] == APPROVED and "Approved" in row.text
    assert not row.select_one("form")  # nothing left to do on this row


def _approve_all_label(node) -> str:
    actions = node.select_one("#approve-many-actions")
    buttons = [b.text for b in actions.select("button")] if actions else []
    return next((b for b in buttons if b.startswith("Approve all")), "")


def test_each_htmx_decision_updates_approve_all_out_of_band(app, w, client_for):
    """'Approve all (N)' counts what is still open after every approve and override
    made in place; when nothing is left the buttons go."""
    lead = client_for("peer_lead")
    run = start(lead)
    page = parse(lead.get(f"/matching/runs/{run.id}"))
    open_ids = [int(tr["id"].split("-")[1]) for tr in page.select("tr") if tr.attrs.get("data-status") == PROPOSED]
    assert len(open_ids) >= 2 and _approve_all_label(page) == f"Approve all ({len(open_ids)})"
    for proposal_id in open_ids:
        response = lead.htmx("post", f"/matching/proposals/{proposal_id}/approve")
        fragment = parse(response)
        oob = fragment.select_one("#approve-many-actions")
        assert oob is not None and oob.attrs.get("hx-swap-oob") == "true"
        with db.connection_context():
            left = RunProposal.select().where(RunProposal.run == run.id, RunProposal.status == PROPOSED).count()
        assert _approve_all_label(fragment) == (f"Approve all ({left})" if left else "")
        assert _approve_all_label(parse(lead.get(f"/matching/runs/{run.id}"))) == _approve_all_label(fragment)


def test_the_run_page_is_a_full_page_without_htmx_and_with_it(app, w, client_for):
    run = start(client_for("peer_lead"))
    plain = client_for("peer_lead").get(f"/matching/runs/{run.id}")
    assert "<html" in plain.get_data(as_text=True) and "HX-Request" in plain.headers.get("Vary", "")


def test_a_stale_approval_is_refused_and_nothing_changes(app, w, client_for):
    run = start(client_for("peer_lead"))
    amira = proposal_for(run, w.amira)
    # Since the run, Pat was assigned two other referrals by hand: no capacity left.
    with app.app_context(), db.connection_context():
        for name in ("Extra One", "Extra Two"):
            extra = waiting(w, name, prefs=[("gender", "woman", True)])
            services.assign(extra, w.pat, by=w.lead, how="by hand")
    response = client_for("peer_lead").htmx("post", f"/matching/proposals/{amira.id}/approve")
    assert response.status_code == 409
    text = parse(response).text
    assert "Pat Urdu cannot take" in text and "no capacity left" in text and "Nothing was changed" in text
    with db.connection_context():
        assert Referral.get_by_id(w.amira.id).state == states.AWAITING_MATCH
        assert RunProposal.get_by_id(amira.id).status == PROPOSED
        assert not AuditEvent.for_record("run_proposal", amira.id).exists()
    # A plain POST says the same through the page.
    response = client_for("peer_lead").post(f"/matching/proposals/{amira.id}/approve", follow_redirects=True)
    assert "no capacity left" in response.get_data(as_text=True)


def test_a_referral_matched_since_the_run_is_refused(app, w, client_for):
    run = start(client_for("peer_lead"))
    tomek = proposal_for(run, w.tomek)
    with app.app_context(), db.connection_context():
        services.assign(Referral.get_by_id(w.tomek.id), w.val if tomek.peer_role_id != w.val.id else w.robin, by=w.lead)
    response = client_for("peer_lead").htmx("post", f"/matching/proposals/{tomek.id}/approve")
    assert response.status_code == 409
    assert "matched with a peer now" in response.get_data(as_text=True)
    with db.connection_context():
        assert Assignment.select().where(Assignment.referral == w.tomek.id).count() == 1
        assert RunProposal.get_by_id(tomek.id).status == PROPOSED


def test_run_page_reads_decided_rows_without_a_query_each(app, w, client_for, users):
    """Who approved, and whom an override assigned, are read for the page at once: a
    page of decided rows sends the same queries as a page of open ones."""
    from peerapp.db import counting_queries
    lead = client_for("peer_lead")
    run = start(lead)
    assert lead.get(f"/matching/runs/{run.id}").status_code == 200  # the connection's own setup, once
    with counting_queries() as undecided:
        assert lead.get(f"/matching/runs/{run.id}").status_code == 200
    proposal, other = _override_target(run, w.tomek, w)
    lead.post(f"/matching/proposals/{proposal.id}/override", data={"peer_role": str(other), "reason": "Knows them"})
    lead.post(f"/matching/runs/{run.id}/approve", data={"scope": "all"})
    with counting_queries() as decided:
        page = parse(lead.get(f"/matching/runs/{run.id}"))
    assert decided.n == undecided.n, (undecided.sql, decided.sql)
    with db.connection_context():
        chosen = PeerRole.get_by_id(other).display_name
    approved = page.select_one(f"#proposal-{proposal_for(run, w.amira).id}")
    assert approved["data-status"] == APPROVED and f"by {users['peer_lead'].name}" in approved.text
    overridden = page.select_one(f"#proposal-{proposal.id}")
    assert overridden["data-status"] == OVERRIDDEN and f"{chosen} assigned instead" in overridden.text


def test_approve_selected_and_approve_all(app, w, client_for):
    lead = client_for("peer_lead")
    run = start(lead)
    amira, tomek, kez = (proposal_for(run, r) for r in (w.amira, w.tomek, w.kez))
    response = lead.post(f"/matching/runs/{run.id}/approve", data={"scope": "selected", "proposal": [str(amira.id), str(tomek.id)]})
    assert response.status_code == 303
    with db.connection_context():
        assert RunProposal.get_by_id(amira.id).status == APPROVED
        assert RunProposal.get_by_id(tomek.id).status == APPROVED
        assert RunProposal.get_by_id(kez.id).status == PROPOSED
    response = lead.post(f"/matching/runs/{run.id}/approve", data={"scope": "all"}, follow_redirects=True)
    assert "Approved 1" in response.get_data(as_text=True)
    with db.connection_context():
        assert RunProposal.get_by_id(kez.id).status == APPROVED
        assert Referral.awaiting_match(w.team).count() == 0
        assert Assignment.select().where(Assignment.how == "matching run").count() == 3
        assert AuditEvent.select().where(AuditEvent.action == "approve").count() == 3


def test_approve_all_approves_what_still_fits_and_lists_what_was_refused(app, w, client_for):
    lead = client_for("peer_lead")
    run = start(lead)
    with db.connection_context():
        proposals = list(run.proposals())
    pats = [p for p in proposals if p.peer_role_id == w.pat.id]
    others = [p for p in proposals if p.peer_role_id != w.pat.id]
    assert pats and others
    # Since the run, Pat was assigned two other referrals by hand: no capacity left.
    with app.app_context(), db.connection_context():
        for name in ("Extra One", "Extra Two"):
            services.assign(waiting(w, name, prefs=[("gender", "woman", True)]), w.pat, by=w.lead, how="by hand")
    response = lead.post(f"/matching/runs/{run.id}/approve", data={"scope": "all"}, follow_redirects=True)
    text = parse(response).text
    assert f"Approved {len(others)}:" in text
    assert f"Not approved ({len(pats)}):" in text and "Pat Urdu cannot take" in text and "no capacity left" in text
    with db.connection_context():
        assert {RunProposal.get_by_id(p.id).status for p in others} == {APPROVED}
        assert {RunProposal.get_by_id(p.id).status for p in pats} == {PROPOSED}
        assert {Referral.get_by_id(p.referral_id).state for p in pats} == {states.AWAITING_MATCH}


def test_approve_selected_with_nothing_ticked_or_junk_ids(app, w, client_for):
    lead = client_for("peer_lead")
    run = start(lead)
    response = lead.post(f"/matching/runs/{run.id}/approve", data={"scope": "selected", "proposal": ["x", "9" * 40, "\u00b2", "\u0663", " 1"]},
                         follow_redirects=True)
    assert response.status_code == 200 and "Tick the proposals" in response.get_data(as_text=True)
    with db.connection_context():
        assert RunProposal.select().where(RunProposal.status != PROPOSED).count() == 0


# --- overriding -----------------------------------------------------------------------

def _override_target(run, referral, w):
    """An eligible peer other than the proposed one."""
    proposal = proposal_for(run, referral)
    eligible = [e["peer"] for e in proposal.excluded if e["eligible"]]
    assert eligible, proposal.excluded
    return proposal, eligible[0]


def test_override_with_another_eligible_peer(app, w, client_for):
    lead = client_for("peer_lead")
    run = start(lead)
    proposal, other = _override_target(run, w.tomek, w)
    # The run page's row carries no choices: opening "Choose another peer" loads them
    # (htmx), and without JavaScript its link opens the same form as a page.
    row = parse(lead.get(f"/matching/runs/{run.id}")).select_one(f"#proposal-{proposal.id}")
    override_url = f"/matching/proposals/{proposal.id}/override"
    details = row.select_one("details.matching-override")
    assert not row.select("select") and not details.has("open")
    assert details["hx-get"] == override_url and details.select_one("a")["href"] == override_url
    fragment = parse(lead.htmx("get", override_url))
    assert not fragment.select("html") and not fragment.select("tr")
    label = fragment.select_one(f"label[for='override-{proposal.id}-peer']")
    assert label.text == "Peer to assign instead"
    offered = {int(o["value"]) for o in fragment.select_one(f"#override-{proposal.id}-peer").select("option")
               if o["value"] != "0"}
    assert other in offered and proposal.peer_role_id not in offered
    form = fragment.select_one("form")
    assert form["method"] == "post" and form["hx-target"] == f"#proposal-{proposal.id}"
    assert form.select_one("button[type=submit]").text.startswith("Assign this peer instead")
    page = parse(lead.get(override_url))
    assert page.select_one(f"#override-{proposal.id}-peer") and page.select_one("details.matching-override").has("open")
    response = lead.htmx("post", f"/matching/proposals/{proposal.id}/override",
                         data={"peer_role": str(other), "reason": "They met at the allotment group and got on."})
    assert response.status_code == 200
    row = parse(response).select_one("tr")
    assert row["data-status"] == OVERRIDDEN and "They met at the allotment group" in row.text
    with db.connection_context():
        referral = Referral.get_by_id(w.tomek.id)
        assert referral.state == states.MATCHED and referral.current_assignment().peer_role_id == other
        assert referral.current_assignment().how == "matching run"
        stored = RunProposal.get_by_id(proposal.id)
        assert stored.status == OVERRIDDEN and stored.assigned_role_id == other
        assert AuditEvent.for_record("run_proposal", proposal.id).first().action == "override"


def test_an_override_reads_as_an_override_on_the_referral_page_and_its_history(app, w, client_for, users):
    """Not 'assigned matching run': whom the run proposed, who chose otherwise, and why."""
    lead = client_for("peer_lead")
    run = start(lead)
    proposal, other = _override_target(run, w.tomek, w)
    lead.post(f"/matching/proposals/{proposal.id}/override",
              data={"peer_role": str(other), "reason": "They met at the allotment group and got on."})
    with db.connection_context():
        proposed = PeerRole.get_by_id(proposal.peer_role_id).display_name
        chosen = PeerRole.get_by_id(other).display_name
    page = parse(lead.get(f"/referrals/{w.tomek.id}"))
    assigned = page.select_one("#assigned-peer").text
    assert "by overriding the matching run's proposal" in assigned and users["peer_lead"].name in assigned
    override = page.select_one("#override").text
    assert proposed in override and chosen in override and users["peer_lead"].name in override
    assert "They met at the allotment group and got on." in override
    history = page.select_one("#history").text
    assert f"overriding the matching run's proposal of {proposed}" in history
    assert "Reason: They met at the allotment group and got on." in history


def test_override_refuses_an_ineligible_peer_with_a_clear_message(app, w, client_for):
    lead = client_for("peer_lead")
    run = start(lead)
    proposal = proposal_for(run, w.amira)  # must have a woman peer: Robin is not one
    response = lead.post(f"/matching/proposals/{proposal.id}/override",
                         data={"peer_role": str(w.robin.id), "reason": "Robin is free"})
    assert response.status_code == 422
    text = parse(response).text
    assert "Robin Paid cannot take" in text and "must have a woman peer" in text
    # htmx: the row comes back with the message, open.
    response = lead.htmx("post", f"/matching/proposals/{proposal.id}/override",
                         data={"peer_role": str(w.robin.id), "reason": "Robin is free"})
    assert response.status_code == 200 and "must have a woman peer" in response.get_data(as_text=True)
    assert parse(response).select_one("details.matching-override").has("open")
    with db.connection_context():
        assert Referral.get_by_id(w.amira.id).state == states.AWAITING_MATCH
        assert RunProposal.get_by_id(proposal.id).status == PROPOSED


@pytest.mark.parametrize("data, message", [
    ({"peer_role": "", "reason": "x"}, "Choose the peer to assign instead"),
    ({"peer_role": "PLACEHOLDER", "reason": ""}, "Write why you chose another peer"),
    ({"peer_role": "abc", "reason": "x"}, None),
    ({"peer_role": "999999999999999999999999", "reason": "x"}, None),
])
def test_override_bad_input_gets_a_message_never_a_500(app, w, client_for, data, message):
    lead = client_for("peer_lead")
    run = start(lead)
    proposal, other = _override_target(run, w.tomek, w)
    data = {k: (str(other) if v == "PLACEHOLDER" else v) for k, v in data.items()}
    response = lead.post(f"/matching/proposals/{proposal.id}/override", data=data)
    assert response.status_code == 422
    if message:
        assert message in response.get_data(as_text=True)
    with db.connection_context():
        assert RunProposal.get_by_id(proposal.id).status == PROPOSED


def test_override_page_without_javascript(app, w, client_for):
    lead = client_for("peer_lead")
    run = start(lead)
    proposal = proposal_for(run, w.tomek)
    response = lead.get(f"/matching/proposals/{proposal.id}/override")
    assert response.status_code == 200
    assert parse(response).select_one(f"#proposal-{proposal.id}")


# --- settings -------------------------------------------------------------------------

def _settings_data(**changes):
    from peerapp.matching.engine import DEFAULT_WEIGHTS
    data = {f"weight_{name}": str(value) for name, value in DEFAULT_WEIGHTS.items()}
    data["most_matches_first"] = "y"
    data.update(changes)
    return data


def test_settings_are_saved_per_team_and_used_by_the_next_run(app, w, client_for):
    lead = client_for("peer_lead")
    before = proposal_for(start(lead), w.tomek)
    page = parse(lead.get("/matching/settings"))
    from peerapp.matching.engine import WEIGHT_LABELS
    labels = page.text
    assert all(label in labels for label in WEIGHT_LABELS.values())
    response = lead.post("/matching/settings", data=_settings_data(weight_interests="4.5",
                                                                   volunteer_risk_levels=["low", "medium", "high"]))
    assert response.status_code == 303
    with db.connection_context():
        row = MatchingSettings.for_team(w.team)
        # Volunteers' risk levels are the SOP's rule, not a setting: a posted value changes nothing.
        assert row.weights["interests"] == 4.5 and row.volunteer_levels == ["low"]
        assert AuditEvent.for_record("matching_settings", row.id).first().action == "update"
        assert MatchingSettings.for_team(w.other_team).weights["interests"] == 1.0
    run = start(lead)
    assert run.settings_used["weights"]["interests"] == 4.5
    # The new weight changes what the run proposes, not just what it records.
    after = proposal_for(run, w.tomek)
    # With the defaults Pat (English) and Robin (football) tie for Tomek at 3.00; with
    # interests weighted 4.5 Robin wins by the extra 3.5.
    assert before.peer_role_id == w.pat.id and "Robin Paid (score 3.00)" in before.alternative_list
    assert after.peer_role_id == w.robin.id and "shares an interest: football" in after.reason_list
    assert after.score == pytest.approx(3.0 + 3.5, abs=1e-3)


@pytest.mark.parametrize("value", ["1e400", "nan", "NaN", "-1", "10.01", "inf", "-inf", "abc", "", "9" * 400])
def test_bad_weights_get_a_message_never_a_500(app, w, client_for, value):
    lead = client_for("peer_lead")
    response = lead.post("/matching/settings", data=_settings_data(weight_area=value))
    assert response.status_code == 422
    doc = parse(response)
    assert doc.select_one(".nhsuk-error-summary")
    assert doc.select_one("#weight_area-error")
    with db.connection_context():
        assert MatchingSettings.select().count() == 0


def test_the_settings_page_states_the_volunteer_risk_rule(app, w, client_for):
    text = parse(client_for("peer_lead").get("/matching/settings")).text
    assert "Volunteers take low-risk referrals only" in text


# --- access -----------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["clinician", "peer", "facilitator", "viewer", "admin"])
def test_other_roles_are_refused_everything(app, w, client_for, role):
    run = start(client_for("peer_lead"))
    proposal = proposal_for(run, w.amira)
    client = client_for(role)
    for url in ("/matching/", f"/matching/runs/{run.id}", "/matching/settings",
                f"/matching/proposals/{proposal.id}/override"):
        assert client.get(url).status_code == 403, url
    for url in ("/matching/runs", f"/matching/proposals/{proposal.id}/approve", f"/matching/runs/{run.id}/approve"):
        assert client.post(url).status_code == 403, url
    with db.connection_context():
        assert RunProposal.get_by_id(proposal.id).status == PROPOSED


def test_managers_may_read_runs_but_not_act(app, w, client_for):
    run = start(client_for("peer_lead"))
    proposal = proposal_for(run, w.amira)
    manager = client_for("manager")
    page = manager.get(f"/matching/runs/{run.id}")
    assert page.status_code == 200
    doc = parse(page)
    assert doc.select_one(f"#proposal-{proposal.id}") and not doc.select_one(f"#proposal-{proposal.id}").select_one("form")
    assert not doc.select_one("#approve-many")
    assert manager.get("/matching/").status_code == 200
    assert manager.post(f"/matching/proposals/{proposal.id}/approve").status_code == 403
    assert manager.post("/matching/runs").status_code == 403
    assert manager.get("/matching/settings").status_code == 403


def test_another_teams_runs_answer_404(app, w, client_for, make_user, login):
    run = start(client_for("peer_lead"))
    proposal = proposal_for(run, w.amira)
    stranger = login(make_user("peer_lead", "manager", team_=w.other_team))
    assert stranger.get(f"/matching/runs/{run.id}").status_code == 404
    assert stranger.get(f"/matching/proposals/{proposal.id}/override").status_code == 404
    assert stranger.post(f"/matching/proposals/{proposal.id}/approve").status_code == 404
    assert stranger.post(f"/matching/proposals/{proposal.id}/override",
                         data={"peer_role": str(w.robin.id), "reason": "x"}).status_code == 404
    assert stranger.post(f"/matching/runs/{run.id}/approve", data={"scope": "all"}).status_code == 404
    index = stranger.get("/matching/").get_data(as_text=True)
    assert f"/matching/runs/{run.id}" not in index
    with db.connection_context():
        assert RunProposal.get_by_id(proposal.id).status == PROPOSED
    # Unknown ids are 404 too.
    assert client_for("peer_lead").get("/matching/runs/999999").status_code == 404


def test_approve_needs_the_csrf_token(app, w, client_for):
    run = start(client_for("peer_lead"))
    proposal = proposal_for(run, w.amira)
    response = client_for("peer_lead").post(f"/matching/proposals/{proposal.id}/approve", csrf=False)
    assert response.status_code == 400
    with db.connection_context():
        assert RunProposal.get_by_id(proposal.id).status == PROPOSED


# --- navigation -------------------------------------------------------------------------

def test_menu_and_home_panel(app, w, client_for):
    home = parse(client_for("peer_lead").get("/"))
    assert [a for a in home.select("a[href='/matching/']") if a.text == "Matching"]
    panel = home.select_one("#panel-matching")
    assert panel and "3 referrals awaiting a match" in panel.text
    manager_home = parse(client_for("manager").get("/"))
    assert manager_home.select_one("a[href='/matching/']") and not manager_home.select_one("#panel-matching")
    assert not parse(client_for("clinician").get("/")).select_one("a[href='/matching/']")


def test_index_lists_runs_and_offers_start_to_leads_only(app, w, client_for):
    run = start(client_for("peer_lead"))
    doc = parse(client_for("peer_lead").get("/matching/"))
    assert doc.select_one(f"a[href='/matching/runs/{run.id}']")
    assert doc.select_one("form[action='/matching/runs']")
    assert not parse(client_for("manager").get("/matching/")).select_one("form[action='/matching/runs']")


# --- migration and demo -----------------------------------------------------------------

def test_demo_leaves_referrals_for_a_live_run(tmp_path):
    from peerapp import create_app
    from peerapp.cli import upgrade_schema
    from peerapp.demo import load_demo
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "demo.sqlite3"), "SECRET_KEY": "x"})
    with app.app_context():
        upgrade_schema()
        with db.connection_context():
            load_demo()
            team = Team.get(Team.name.startswith("North Hill"))
            assert MatchingSettings.get_or_none(MatchingSettings.team == team)
            runs = list(MatchingRun.for_team(team))
            assert len(runs) == 1 and runs[0].proposal_count >= 3
            assert Referral.awaiting_match(team).count() >= 5
            from peerapp.matching.services import start_run
            from peerapp.models import User
            live = start_run(team, by=User.by_email("lead@demo.peerapp"))
            assert live.proposal_count >= 3 and live.unmatched_count >= 1
            assert {p.status for p in runs[0].proposals()} == {SUPERSEDED}


def test_approving_twice_assigns_once(app, w, client_for, login, make_user):
    """A second peer lead with the same page open: the second approval is refused."""
    other_lead = login(make_user("peer_lead"))
    run = start(client_for("peer_lead"))
    proposal = proposal_for(run, w.amira)
    assert client_for("peer_lead").post(f"/matching/proposals/{proposal.id}/approve").status_code == 303
    response = other_lead.htmx("post", f"/matching/proposals/{proposal.id}/approve")
    assert response.status_code == 409 and "already approved" in response.get_data(as_text=True)
    with db.connection_context():
        assert Assignment.select().where(Assignment.referral == w.amira.id).count() == 1


@pytest.mark.sqlite_only(reason="upgrades a database built with raw SQL in SQLite's dialect; on PostgreSQL every migration runs from empty for the template")
def test_the_migration_applies_to_a_database_of_the_previous_schema(tmp_path):
    """m0050 on a database made by m0040, with data in it: nothing lost, tables made."""
    import peewee as pw

    from peerapp import migrations
    database = pw.SqliteDatabase(str(tmp_path / "old.sqlite3"), pragmas={"foreign_keys": 1})
    earlier = [m for m in migrations.available() if m < "m0050"]
    migrations.upgrade(database, target=earlier[-1])
    database.execute_sql("INSERT INTO team (name, base_address, active, created_at) "
                         "VALUES ('Kept team', '', 1, '2026-01-01 00:00:00')")
    assert "matching_run" not in database.get_tables()
    ran = migrations.upgrade(database)
    assert "m0050_matching" in ran
    tables = set(database.get_tables())
    assert {"matching_settings", "matching_run", "run_proposal", "run_unmatched"} <= tables
    assert database.execute_sql("SELECT name FROM team").fetchall() == [("Kept team",)]
    database.close()


def test_model_columns_match_the_migration(app):
    """The live models and the migration's snapshot describe the same columns."""
    from peerapp.matching.models import MODELS
    with db.connection_context():
        for model in MODELS:
            columns = {c.name for c in db.get_columns(model._meta.table_name)}
            assert columns == {f.column_name for f in model._meta.sorted_fields}, model
