"""Demo training data: the default curriculum (from the migration), a finished
round with completions, a catch-up, an equivalent and a withdrawal, and a round
running now with today's session still to register. All names are invented;
dates follow today, so the demo always looks current."""
from __future__ import annotations

import datetime as dt

from .. import clock
from .models import (ABSENT, CAUGHT_UP, LATE, PLACE, PRESENT, WAITING, WITHDRAWN, Attendance, Candidate, Cohort,
                     CohortFacilitator, CohortSession, Enrolment, EquivalentTraining)


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour))


def seed(demo) -> None:
    today = clock.today()
    facilitator = demo.users["facilitator"]
    team = demo.team
    by = {"lead": demo.users["lead"], "lead2": demo.users["lead2"], "manager": demo.users["manager"]}

    def candidate(name, who, nominated_days_ago, preferred="", pronouns="", user=None, phone=""):
        email = name.lower().replace(" ", ".").replace("'", "") + "@example.org"
        nominated_on = today - dt.timedelta(days=nominated_days_ago)
        return Candidate.create(name=name, preferred_name=preferred, pronouns=pronouns, email=email, phone=phone,
                                team=team, nominated_by=by[who], nominated_on=nominated_on, user=user,
                                created_at=_at(nominated_on, 10))

    def cohort(name, venue, places, first_day):
        row = Cohort.create(name=name, venue=venue, places=places, created_by=facilitator,
                            created_at=_at(first_day - dt.timedelta(days=30)))
        CohortFacilitator.create(cohort=row, user=facilitator)
        sessions = [CohortSession.create(cohort=row, number=n, held_on=first_day + dt.timedelta(weeks=n - 1))
                    for n in range(1, 7)]
        return row, sessions

    def enrol(row, who, status=PLACE):
        return Enrolment.create(cohort=row, candidate=who, status=status,
                                offered_on=row.created_at.date() if status == PLACE else None,
                                created_at=row.created_at + dt.timedelta(days=1))

    def register(sessions, enrolment, marks):
        """marks: one letter per session: P present, L late, A absent, C caught up, - not recorded."""
        for session, mark in zip(sessions, marks):
            if mark == "-" or session.held_on > today:
                continue
            status = {"P": PRESENT, "L": LATE, "A": ABSENT, "C": CAUGHT_UP}[mark]
            caught = session.held_on + dt.timedelta(days=3) if mark == "C" else None
            Attendance.create(session=session, enrolment=enrolment, status=status, caught_up_on=caught,
                              caught_up_with=facilitator.name if mark == "C" else "",
                              recorded_by=facilitator, recorded_at=_at(caught or session.held_on, 16))

    # A finished round: ended seven weeks ago.
    round1, s1 = cohort("Round 1 – Spring", "North Hill Health Centre, Room 2", 10,
                        today - dt.timedelta(weeks=12))
    finished = [
        (candidate("Sam Rivers", "lead", 120, pronouns="he/him", user=demo.users["peer"]), "PPPPPP"),
        (candidate("Chris Lee", "lead2", 118, pronouns="they/them", user=demo.users["volunteer"]), "PPCPPP"),
        (candidate("Amara Okonkwo", "lead", 115, preferred="Amara", pronouns="she/her", phone="07700 900123"), "PPPPPP"),
        (candidate("Daniel Price", "manager", 112, preferred="Dan", pronouns="he/him"), "PLPPPP"),
        (candidate("Fatima Hussain", "lead2", 110, pronouns="she/her", phone="07700 900456"), "PPPPPP"),
        (candidate("Gareth Morgan", "lead", 108, pronouns="he/him"), "PPPPAP"),
        (candidate("Ravi Kumar", "manager", 105, pronouns="he/him"), "PPPLPP"),
    ]
    for person, marks in finished:
        register(s1, enrol(round1, person), marks)
    leah = candidate("Leah Thompson", "lead2", 104, pronouns="she/her")
    leaving = enrol(round1, leah)
    register(s1, leaving, "PP----")
    leaving.status = WITHDRAWN
    leaving.withdrawn_on = s1[2].held_on
    leaving.withdrawal_reason = "Started a full-time college course"
    leaving.save()

    # Training done elsewhere, recognised as equivalent.
    niamh = candidate("Niamh O'Connor", "lead", 70, pronouns="she/her")
    EquivalentTraining.create(candidate=niamh, provider="Northfield Recovery College",
                              completed_on=today - dt.timedelta(days=200),
                              evidence="Certificate seen; copy kept on the personnel file",
                              recognised_by=facilitator, recognised_on=today - dt.timedelta(days=60),
                              created_at=_at(today - dt.timedelta(days=60)))

    # A round running now: two sessions held, the third is today.
    round2, s2 = cohort("Round 2 – Autumn", "Northfield Library, Meeting Room 1", 8,
                        today - dt.timedelta(weeks=2))
    running = [
        (candidate("Olu Adeyemi", "lead", 40, pronouns="he/him"), "PP"),
        (candidate("Beth Carter", "lead2", 39, pronouns="she/her"), "PP"),
        (candidate("Marek Nowak", "manager", 38, pronouns="he/him"), "PP"),
        (candidate("Grace Lewis", "lead", 37, pronouns="she/her"), "PP"),
        (candidate("Jamie Walsh", "lead2", 36, pronouns="they/them"), "PP"),
        (candidate("Yusuf Ali", "lead", 35, pronouns="he/him"), "CP"),
        (candidate("Zoe Martin", "manager", 34, preferred="Zo", pronouns="she/her"), "PL"),
        (candidate("Kwame Boateng", "lead2", 33, pronouns="he/him"), "PA"),
    ]
    for person, marks in running:
        register(s2, enrol(round2, person), marks)
    for name, who, days in [("Ellie Brooks", "lead", 30), ("Tariq Aziz", "manager", 28)]:
        enrol(round2, candidate(name, who, days), status=WAITING)

    # Just nominated, not yet offered a place.
    candidate("Sophie Turner", "lead", 2, pronouns="she/her")
