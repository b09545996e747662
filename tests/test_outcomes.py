"""Outcomes: definitions checked field by field, scoring against hand-worked
examples, peers' own measures private, the report suppressed, pages on demo data."""
import json

import pytest

from peerapp import clock
from peerapp.db import db
from peerapp.demo import load_demo
from peerapp.models import User
from peerapp.outcomes import definition as definitions
from peerapp.outcomes import scoring

DEMO = open("docs/measures/demo-measure.json", encoding="utf-8").read()


def _def(**changes):
    data = json.loads(DEMO)
    data.update(changes)
    return data


def test_the_demo_measure_scores_by_hand():
    d = definitions.parse(DEMO)
    # stuck is reverse-scored on 1..5: 2 counts as 1 + 5 - 2 = 4.
    s = scoring.score(d, {"looking_forward": 4, "stuck": 2, "small_steps": 3, "choices": 5})
    assert s.total == 16 and s.subscales == {"hope": 8, "agency": 8}
    # Jacobson & Truax: 1.96 x 3.5 x sqrt(2) x sqrt(1 - 0.8) = 4.3386...
    assert d.reliable_change == pytest.approx(4.33864, abs=1e-4)
    assert scoring.classify(d, 10, 15) == scoring.IMPROVED
    assert scoring.classify(d, 10, 14) == scoring.NO_CHANGE
    assert scoring.classify(d, 15, 10) == scoring.DETERIORATED


def test_mean_scoring_lower_is_better_and_a_given_threshold():
    data = _def(scoring={"method": "mean", "higher_is_better": False}, reliable_change={"threshold": 1},
                clinical_cutoff=3)
    d = definitions.check(data)
    assert (d.minimum, d.maximum) == (1, 5)
    s = scoring.score(d, {"looking_forward": 4, "stuck": 1, "small_steps": 3, "choices": 5})
    assert s.total == pytest.approx((4 + 5 + 3 + 5) / 4)
    assert scoring.classify(d, 4, 3) == scoring.IMPROVED and scoring.classify(d, 3, 4) == scoring.DETERIORATED


def test_an_unanswered_item_is_refused():
    with pytest.raises(scoring.Unanswered):
        scoring.score(definitions.parse(DEMO), {"looking_forward": 4})


def test_mean_change_has_a_95_percent_interval():
    mean, low, high = scoring.mean_with_ci([2, 4, 6])
    # sd 2, n 3, t(0.975, 2) = 4.3027: half-width 4.3027 x 2 / sqrt(3) = 4.968
    assert mean == 4 and low == pytest.approx(-0.968, abs=1e-3) and high == pytest.approx(8.968, abs=1e-3)


@pytest.mark.parametrize("changes, problem", [
    ({"key": "Bad Key"}, "key: use lower-case"),
    ({"name": ""}, "name: must be text"),
    ({"licence": None}, "licence: missing"),
    ({"colour": "blue"}, "colour: not a field"),
    ({"items": []}, "items: missing"),
    ({"items": [{"key": "a", "text": "x", "reverse": "yes"}]}, "items[0].reverse: must be true or false"),
    ({"items": [{"key": "a", "text": "x", "subscale": "nope"}]}, "items[0].subscale"),
    ({"items": [{"key": "a", "text": "x", "options": [{"value": 1, "label": "a"}]}]}, "items[0].options: needs a list"),
    ({"options": [{"value": 1.5, "label": "a"}, {"value": 2, "label": "b"}]}, "options[0].value"),
    ({"options": [{"value": 1, "label": "a"}, {"value": 1, "label": "b"}]}, "options[1].value: 1 is used twice"),
    ({"scoring": {"method": "median", "higher_is_better": True}}, "scoring.method"),
    ({"scoring": {"method": "sum", "higher_is_better": "yes"}}, "scoring.higher_is_better"),
    ({"scoring": {"method": "sum", "higher_is_better": True, "max": 21}}, "scoring.max: 21 does not match"),
    ({"reliable_change": {"threshold": 0}}, "reliable_change.threshold"),
    ({"reliable_change": {"sd": 3, "reliability": 1.2}}, "reliable_change.reliability"),
    ({"reliable_change": {"sd": -1, "reliability": 0.8}}, "reliable_change.sd"),
    ({"reliable_change": {"threshold": 3, "sd": 3}}, "not both"),
    ({"clinical_cutoff": 99}, "clinical_cutoff: 99 is outside"),
])
def test_each_malformed_field_is_named(changes, problem):
    with pytest.raises(definitions.DefinitionErrors) as caught:
        definitions.check(_def(**changes), "m.json")
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_a_syntax_error_names_the_line():
    with pytest.raises(definitions.DefinitionErrors) as caught:
        definitions.parse('{\n  "key": "x",\n  oops\n}', "m.json")
    assert "line 3" in caught.value.problems[0]


def test_import_command_versions_a_changed_definition(app, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "m.json"
    path.write_text(DEMO)
    assert "version 1" in runner.invoke(args=["import-measure", str(path)]).output
    assert "nothing changed" in runner.invoke(args=["import-measure", str(path)]).output
    data = json.loads(DEMO)
    data["items"][0]["text"] = "(Demo) Reworded."
    path.write_text(json.dumps(data))
    assert "version 2" in runner.invoke(args=["import-measure", str(path)]).output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_def(scoring={"method": "x", "higher_is_better": True})))
    result = runner.invoke(args=["import-measure", str(bad)])
    assert result.exit_code == 1 and "scoring.method" in result.output


@pytest.fixture
def demo_app(app):
    with db.connection_context():
        load_demo()
    return app


def _user(key):
    with db.connection_context():
        return User.get(User.email == f"{key}@demo.peerapp")


def test_pages_on_demo_data(demo_app, login):
    lead = login(_user("lead"))
    for path in ("/outcomes/", "/outcomes/measures", "/outcomes/measures/1", "/outcomes/team",
                 "/outcomes/report", "/outcomes/me"):
        assert lead.get(path).status_code == 200, path
    page = lead.get("/outcomes/team").get_data(as_text=True)
    assert "reliable improvement" in page and "<svg" in page


def test_a_peers_own_scores_are_theirs_alone_until_shared(demo_app, login):
    peer = _user("peer")
    mine = login(peer).get("/outcomes/me").get_data(as_text=True)
    assert "Your own measures" in mine and "<svg" in mine
    for key in ("lead", "lead2", "manager", "admin", "clinician", "viewer", "volunteer", "facilitator"):
        other = login(_user(key))
        assert other.get(f"/outcomes/peers/{peer.id}").status_code in (403, 404), key
    with db.connection_context():
        from peerapp.outcomes import services
        from peerapp.workforce.models import PeerRole
        supervisor = User.get_by_id(PeerRole.current_for(peer).supervisor_id)
        share = services.share_scores(peer, peer)
    reader = login(supervisor)
    assert reader.get(f"/outcomes/peers/{peer.id}").status_code == 200
    with db.connection_context():
        services.revoke_share(peer, share.id, peer)
    assert reader.get(f"/outcomes/peers/{peer.id}").status_code == 404


def test_the_viewer_report_shows_suppressed_counts_only(demo_app, login):
    viewer = login(_user("viewer"))
    page = viewer.get("/outcomes/report").get_data(as_text=True)
    assert "Outcomes report" in page
    # Four demo service users with pairs: every count of them is a small number.
    assert "*" in page
    assert viewer.get("/outcomes/referrals/1").status_code in (403, 404)
    assert viewer.get("/outcomes/me").status_code in (403, 404)


def _open_referral_without_measures():
    from peerapp.outcomes.models import MeasureResponse
    from peerapp.referrals.models import Referral
    with db.connection_context():
        measured = MeasureResponse.select(MeasureResponse.referral).where(MeasureResponse.referral.is_null(False))
        return Referral.select().where(Referral.state.in_(("active", "first meeting")),
                                       Referral.id.not_in(measured)).first()


def _version_id():
    from peerapp.outcomes.models import MeasureVersion
    with db.connection_context():
        return MeasureVersion.select().first().id


TODAY = clock.today().isoformat()
ANSWERS = {"item_looking_forward": "4", "item_stuck": "2", "item_small_steps": "3", "item_choices": "5"}


def _stored(referral_id):
    from peerapp.outcomes.models import MeasureResponse
    with db.connection_context():
        return list(MeasureResponse.select().where(MeasureResponse.referral == referral_id).order_by(MeasureResponse.id))


def test_a_lead_records_a_baseline_on_one_page_and_a_second_baseline_is_refused(demo_app, login):
    referral, version = _open_referral_without_measures(), _version_id()
    lead = login(_user("lead"))
    url = f"/outcomes/referrals/{referral.id}/record/{version}"
    page = lead.get(url).get_data(as_text=True)
    assert "(Demo) I feel stuck where I am." in page
    data = {"occasion": "baseline", "taken_on": TODAY, "status": "completed", "mode": "page", "step": "0",
            "reported_by_role": "0", **ANSWERS}
    response = lead.post(url, data=data)
    assert response.status_code == 302, [m for m in response.get_data(as_text=True).split("nhsuk-error-message")[1:]]
    [stored] = _stored(referral.id)
    assert stored.total == 16 and stored.status == "completed" and stored.entered_by_id == _user("lead").id
    again = lead.post(url, data=data)
    assert again.status_code == 422 and "already recorded" in again.get_data(as_text=True)
    assert len(_stored(referral.id)) == 1


def test_one_question_per_screen_works_without_javascript(demo_app, login):
    referral, version = _open_referral_without_measures(), _version_id()
    lead = login(_user("lead"))
    url = f"/outcomes/referrals/{referral.id}/record/{version}?mode=step"
    data = {"occasion": "baseline", "taken_on": TODAY, "status": "completed", "mode": "step", "step": "0",
            "reported_by_role": "0"}
    page = lead.post(url, data=data).get_data(as_text=True)
    assert "Question 1 of 4" in page
    keys = list(ANSWERS)
    for step in range(1, 5):
        data = {**data, "step": str(step), keys[step - 1]: ANSWERS[keys[step - 1]]}
        if step == 2:  # a screen left unanswered asks again
            missed = lead.post(url, data={k: v for k, v in data.items() if k != keys[1]})
            assert missed.status_code == 422 and "Choose an answer" in missed.get_data(as_text=True)
        response = lead.post(url, data=data)
        if step < 4:
            assert f"Question {step + 1} of 4" in response.get_data(as_text=True)
    assert response.status_code == 302
    assert _stored(referral.id)[0].total == 16


def test_declined_has_no_score_and_a_volunteers_report_is_attributed(demo_app, login):
    from peerapp.workforce.models import PeerRole
    referral, version = _open_referral_without_measures(), _version_id()
    with db.connection_context():
        volunteer_role = PeerRole.get(PeerRole.kind == "volunteer", PeerRole.status == "active")
    lead = login(_user("lead"))
    url = f"/outcomes/referrals/{referral.id}/record/{version}"
    response = lead.post(url, data={"occasion": "baseline", "taken_on": TODAY, "status": "declined",
                                    "mode": "page", "step": "0", "reported_by_role": str(volunteer_role.id),
                                    "debrief_on": TODAY, **ANSWERS})
    assert response.status_code == 302
    [stored] = _stored(referral.id)
    assert stored.total is None and stored.answers == {} and stored.reported_by_role_id == volunteer_role.id
    with db.connection_context():
        assert f"at debrief on {clock.today():%-d %b %Y}" in stored.provenance


def test_closing_asks_for_the_end_measure_or_why_not(demo_app, login):
    referral, version = _open_referral_without_measures(), _version_id()
    lead = login(_user("lead"))
    close = lead.get(f"/referrals/{referral.id}/close").get_data(as_text=True)
    assert "Before closing, record the Demo Hope and Agency check (fictional) end measure" in close
    url = f"/outcomes/referrals/{referral.id}/record/{version}?occasion=end&status=not+done&next=close"
    refused = lead.post(url, data={"occasion": "end", "taken_on": TODAY, "status": "not done",
                                   "mode": "page", "step": "0", "reported_by_role": "0"})
    assert refused.status_code == 422 and "Say why" in refused.get_data(as_text=True)
    done = lead.post(url, data={"occasion": "end", "taken_on": TODAY, "status": "not done", "reason": "Moved away",
                                "mode": "page", "step": "0", "reported_by_role": "0"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/referrals/{referral.id}/close")
    close = lead.get(f"/referrals/{referral.id}/close").get_data(as_text=True)
    assert "not done: Moved away" in close


def test_the_csv_asks_for_the_password_again_escapes_formulas_and_is_audited(demo_app, login, clock):
    import datetime as dt

    from peerapp.audit import AuditEvent
    from peerapp.outcomes.views import _csv_cell
    assert _csv_cell("=SUM(A1)") == "'=SUM(A1)" and _csv_cell("-3") == "'-3" and _csv_cell("12") == "12"
    viewer = login(_user("viewer"))
    fresh = viewer.get("/outcomes/report.csv")
    assert fresh.status_code == 200 and fresh.mimetype == "text/csv"
    body = fresh.get_data(as_text=True)
    assert body.startswith("\ufeff") and "Reliable improvement" in body
    # Every count of the demo's few people is hidden: no 1-7 in a number column.
    for line in body.splitlines()[1:]:
        value = line.rsplit(",", 1)[-1]
        assert not (value.isdigit() and 1 <= int(value) <= 7), line
    with db.connection_context():
        assert AuditEvent.select().where(AuditEvent.action == "export",
                                         AuditEvent.record_type == "outcomes_report").count() == 1
    from peerapp import clock as app_clock
    clock.freeze(app_clock.now() + dt.timedelta(minutes=20))
    stale = viewer.get("/outcomes/report.csv")
    assert stale.status_code == 302 and "/account/confirm" in stale.headers["Location"]


def test_impact_gives_the_monitoring_page_raw_counts(demo_app):
    import datetime as dt

    from peerapp.models import Team
    from peerapp.outcomes.change import impact
    with demo_app.app_context(), db.connection_context():
        team = Team.get(Team.name.contains("North Hill"))
        section = impact(dt.date(2020, 1, 1), clock.today(), [team.id])
        other = impact(dt.date(2020, 1, 1), clock.today(), [0])
    assert section.key == "impact" and section.tables
    change = next(t for t in section.tables if t.key == "demo-hope-agency-su-change")
    counts = dict(change.rows)
    # Raw, unsuppressed numbers: every demo service user with two completed scores.
    from peerapp.outcomes.models import MeasureResponse
    with db.connection_context():
        rows = MeasureResponse.select(MeasureResponse.referral).where(
            MeasureResponse.status == "completed", MeasureResponse.subject == "service user",
            MeasureResponse.team_id == team.id)
        per = {}
        for r in rows:
            per[r.referral_id] = per.get(r.referral_id, 0) + 1
    paired = sum(1 for n in per.values() if n >= 2)
    assert paired >= 3
    assert counts["People with a first and a latest score"] == [paired] and change.total_row
    assert sum(v[0] for k, v in change.rows[:-1]) == paired
    assert other.tables == [] and "No outcome measures" in other.note


def test_a_supervisor_enters_a_supervisees_measure_but_reads_it_only_when_shared(demo_app, login):
    from peerapp.outcomes.models import MeasureResponse
    from peerapp.workforce.models import PeerRole
    with db.connection_context():
        role = PeerRole.select().where(PeerRole.kind == "volunteer", PeerRole.status == "active").first()
        volunteer, supervisor = role.user, User.get_by_id(role.supervisor_id)
    lead = login(supervisor)
    url = f"/outcomes/peers/{volunteer.id}/record/{_version_id()}"
    response = lead.post(url, data={"occasion": "baseline", "taken_on": TODAY, "status": "completed",
                                    "mode": "page", "step": "0", **ANSWERS})
    assert response.status_code == 302
    with db.connection_context():
        stored = MeasureResponse.get(MeasureResponse.peer == volunteer.id)
    assert stored.subject == "peer" and stored.entered_by_id == supervisor.id and stored.total == 16
    assert lead.get(f"/outcomes/peers/{volunteer.id}").status_code == 404
    other_lead = login(_user("lead2") if supervisor.email != "lead2@demo.peerapp" else _user("lead"))
    assert other_lead.post(url, data={"occasion": "review", "taken_on": TODAY, "status": "declined",
                                      "mode": "page", "step": "0"}).status_code == 404
