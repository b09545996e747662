"""Demo presence, with times relative to when the demo is loaded: Sam, Priya and Tom
(phoned in) in the base,
Chris (a volunteer, started by Priya when he phoned) due back in 10 minutes, Aisha
overdue with Priya calling her, Ben escalated and waiting for the manager. Names
and places are invented."""
from __future__ import annotations

import datetime as dt

from .. import clock
from .models import BaseSignIn, PresenceSettings, Visit, VisitEvent
from .services import closing_time
from .status import Thresholds


def _visit(team, worker, by, *, left, back, place, phone, buddy=None, lead_ack=None, manager_ack=None,
           ended=None, by_note=""):
    now = clock.now()
    due_soon, overdue, escalate = Thresholds().moments(now + back)
    visit = Visit.create(team=team, worker=worker, planned_by=by, planned_at=now + left - dt.timedelta(minutes=30),
                         starts_at=now + left, expected_return_at=now + back, place=place, contact_phone=phone,
                         buddy=buddy, state="ended" if ended else "started", version=2, started_at=now + left,
                         started_by=by, due_soon_at=due_soon, overdue_at=overdue, escalate_at=escalate)
    VisitEvent.create(visit=visit, at=visit.planned_at, by=by, kind="planned")
    VisitEvent.create(visit=visit, at=visit.started_at, by=by, kind="started", note=by_note)
    if lead_ack:
        lead, minutes = lead_ack
        Visit.update(lead_ack_at=now + minutes, lead_ack_by=lead).where(Visit.id == visit.id).execute()
        VisitEvent.create(visit=visit, at=now + minutes, by=lead, kind="ack_peer_lead")
    if manager_ack:
        manager, minutes = manager_ack
        Visit.update(manager_ack_at=now + minutes, manager_ack_by=manager).where(Visit.id == visit.id).execute()
        VisitEvent.create(visit=visit, at=now + minutes, by=manager, kind="ack_manager")
    if ended:
        Visit.update(ended_at=now + ended, ended_by=worker, outcome="checked_out").where(Visit.id == visit.id).execute()
        VisitEvent.create(visit=visit, at=now + ended, by=worker, kind="checked_out")
    return visit


def seed(demo) -> None:
    team, now = demo.team, clock.now()
    lead, peer, volunteer = demo.users["lead"], demo.users["peer"], demo.users["volunteer"]
    minutes = lambda n: dt.timedelta(minutes=n)  # noqa: E731
    settings = PresenceSettings.create(team=team, **PresenceSettings.DEFAULTS)
    aisha = demo.add_user("presence_aisha", "aisha.khan@demo.peerapp", "Aisha Khan", ["peer"], "")
    ben = demo.add_user("presence_ben", "ben.carter@demo.peerapp", "Ben Carter", ["peer"], "")

    # In the base: Priya and Sam signed themselves in; Tom phoned in and Priya recorded it.
    # Their stays close at the closing hour after now, not after they signed in: the demo
    # shows a team at work whatever the hour it is made (made after 20:00, a stay begun
    # before 20:00 would already read "did not sign out").
    for person, since, by in ((peer, 95, peer), (lead, 120, lead), (demo.users["lead2"], 40, lead)):
        BaseSignIn.create(team=team, user=person, signed_in_at=now - minutes(since), signed_in_by=by,
                          closes_at=closing_time(settings, now))
    # Sam's morning visit, back safe; a planned one later today.
    _visit(team, peer, peer, left=-minutes(240), back=-minutes(150), place="Eastgate Community Café",
           phone="07700 900101", ended=-minutes(155))
    Visit.create(team=team, worker=peer, planned_by=peer, planned_at=now - minutes(20), starts_at=now + minutes(60),
                 expected_return_at=now + minutes(150), place="Westbrook Recovery College, room 2",
                 contact_phone="07700 900101", buddy=lead)
    # Chris (volunteer) phoned in; Priya started the visit: due back in 10 minutes.
    _visit(team, volunteer, lead, left=-minutes(50), back=minutes(10), place="Northfield Library, café area",
           phone="07700 900102", buddy=lead, by_note="started by a peer lead (phoned in)")
    # Aisha: overdue, Priya calling her.
    _visit(team, aisha, aisha, left=-minutes(75), back=-minutes(15), place="14 Mill Lane, Northfield",
           phone="07700 900103", buddy=peer, lead_ack=(lead, -minutes(8)))
    # Ben: escalated, the peer lead called with no answer; waiting for the manager.
    _visit(team, ben, ben, left=-minutes(110), back=-minutes(45), place="Station Road park, by the bandstand",
           phone="07700 900104", lead_ack=(lead, -minutes(36)))
