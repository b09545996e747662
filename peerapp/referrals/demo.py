"""Demo referrals: a realistic catalogue, ten fictional service users, and referrals in
every state (five or more awaiting a match with varied languages, interests, availability
and preferences), a declared conflict, and the demo peers' caseloads with contacts,
one of them entered at a volunteer's debrief. Every name is invented; dates follow today.

``ready_peer()`` makes a peer who is ready to practise through the workforce and
training models; the tests use it too.
"""
from __future__ import annotations

import datetime as dt

from .. import clock
from ..db import db
from ..workforce.models import CheckType, InductionItem, InductionTick, PeerRole, RecruitmentCheck
from . import states
from .models import (Assignment, Contact, DeclaredConflict, FirstMeeting, InformationRequest, Intervention,
                     PeerPreference, Referral, ReferralEvent, ReferralIntervention, ServiceUser)

# name, duties, delivery, settings, sessions, minutes, frequency, volunteers, risk levels
CATALOGUE = [
    ("1:1 recovery conversations",
     "Meets the service user to talk about recovery, sharing their own lived experience where it helps; "
     "explores hopes, strengths and next steps.", "1:1", ["community", "team base", "home"], 8, 60, "weekly",
     True, ["low", "medium"]),
    ("Accompanying to appointments",
     "Goes with the service user to health, housing or benefits appointments; helps them prepare questions "
     "and make sense of what was said.", "1:1", ["community"], 4, 120, "as needed", True, ["low"]),
    ("Accompanying to community activities",
     "Goes with the service user to try a community activity (a gym, a class, a faith group, a café) "
     "until they feel able to go on their own.", "1:1", ["community"], 6, 90, "weekly", True, ["low"]),
    ("WRAP co-writing",
     "Writes a Wellness Recovery Action Plan together with the service user, at their pace, in their words.",
     "1:1", ["team base", "community", "video"], 6, 60, "weekly", False, ["low", "medium"]),
    ("Welcome to the team",
     "Welcomes new service users: explains how the team works, what to expect, and who is who.",
     "1:1", ["team base", "phone", "home"], 2, 45, "weekly", True, ["low", "medium"]),
    ("Group peer support",
     "Co-runs a peer support group: sets the group agreement, shares experience, keeps the group safe.",
     "group", ["team base", "community"], 10, 90, "weekly", False, ["low", "medium"]),
    ("Phone check-ins",
     "Short regular calls to keep in touch between other support, and to notice early warning signs.",
     "1:1", ["phone"], 8, 20, "weekly", True, ["low"]),
    ("Support on the ward before discharge",
     "Visits the service user on the ward to plan leaving hospital and the first weeks at home.",
     "1:1", ["ward"], 3, 60, "twice weekly", False, ["low", "medium", "high"]),
    ("Hearing voices group co-facilitation",
     "Co-facilitates a hearing voices group alongside a trained facilitator.",
     "group", ["team base", "community"], 12, 90, "fortnightly", False, ["low", "medium"]),
]
RETIRED = ("Drop-in café", "An open weekly drop-in at the old day centre (closed).", "group", ["community"],
           None, 120, "weekly", True, ["low"])


def seed_catalogue() -> dict[str, Intervention]:
    items = {}
    for name, duties, delivery, settings, sessions, minutes, freq, vols, risks in [*CATALOGUE, RETIRED]:
        items[name] = Intervention.create(name=name, duties=duties, delivery=delivery, settings=settings,
                                          typical_sessions=sessions, session_minutes=minutes, frequency=freq,
                                          volunteers_allowed=vols, risk_levels=risks,
                                          retired=(name == RETIRED[0]), created_at=clock.now())
    return items


def ready_peer(*, candidate, team, user, kind: str, supervisor, max_caseload: int = 4,
               today: dt.date | None = None, **details) -> PeerRole:
    """An active role whose peer is ready to practise: every required check recorded and in
    date, induction signed off with every item done. The candidate must have completed
    training already. Everything is as its own form would take it (hours within the role
    form's limits, a DBS check saying whether it is on the Update Service)."""
    today = today or clock.today()
    details.setdefault("hours_per_week", 22.5 if kind == "paid" else 6)
    signed_off = today - dt.timedelta(days=30)
    role = PeerRole.create(candidate=candidate, user=user, team=team, kind=kind, start_date=today - dt.timedelta(days=60),
                           supervisor=supervisor, max_caseload=max_caseload, status="active",
                           induction_signed_off_on=signed_off, induction_signed_off_by=supervisor,
                           **details)
    for item in InductionItem.checklist():
        InductionTick.create(role=role, item=item, done_on=signed_off, ticked_by=supervisor)
    for check_type in CheckType.required_for(kind):
        completed = today - dt.timedelta(days=90)
        RecruitmentCheck.create(candidate=candidate, check_type=check_type, completed_on=completed,
                                expires_on=completed + dt.timedelta(days=700) if check_type.lapses else None,
                                dbs_level="enhanced" if check_type.is_dbs else "",
                                dbs_update_service=True if check_type.is_dbs else None,
                                dbs_outcome="clear" if check_type.is_dbs else "", recorded_by=supervisor)
    return role


def _demo_role(demo, key: str, kind: str, interests: str, languages: str) -> PeerRole | None:
    """The demo peer's role from the workforce demo; if that area seeded none, one made
    here for a trained demo candidate, so the referrals demo still shows every state."""
    user = demo.users.get(key)
    role = PeerRole.current_for(user)
    if role is not None or user is None:
        return role
    from ..training.models import Candidate
    candidate = Candidate.select().where(Candidate.user == user).first()
    if candidate is None or candidate.completed_training() is None:
        return None
    return ready_peer(candidate=candidate, team=demo.team, user=user, kind=kind, supervisor=demo.users["lead"],
                      max_caseload=4 if kind == "paid" else 2, interests=interests, languages=languages,
                      areas="Northfield, Eastgate", availability="mon-pm, wed-pm, thu-eve, sat-am")


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour))


def seed(demo) -> None:
    today = clock.today()
    team = demo.team
    lead, clinician = demo.users["lead"], demo.users["clinician"]
    with db.atomic():
        items = seed_catalogue()
        peer_role = _demo_role(demo, "peer", "paid", "football, music, cooking", "English")
        volunteer_role = _demo_role(demo, "volunteer", "volunteer", "art, dogs, walking", "English, Polish")

        def person(name, preferred, nhs, born, gender, pronouns, contact, languages, interests, slots, area,
                   prefs=()):
            su = ServiceUser.create(name=name, preferred_name=preferred, nhs_number=nhs, date_of_birth=born,
                                    gender=gender, pronouns=pronouns, contact_preference=contact, team=team,
                                    care_coordinator=clinician, languages=languages, interests=interests,
                                    availability=slots, area=area, consent_referral_on=today - dt.timedelta(days=70),
                                    consent_sharing_on=today - dt.timedelta(days=70), consent_recorded_by=clinician,
                                    created_by=clinician, created_at=_at(today - dt.timedelta(days=70)))
            for kind, value, must in prefs:
                PeerPreference.create(service_user=su, kind=kind, value=value, must=must)
            return su

        def refer(su, days_ago, own_words, goals, wanted, risk, risk_summary, referrer=clinician):
            day = today - dt.timedelta(days=days_ago)
            referral = Referral.create(service_user=su, team=team, referrer=referrer, referred_on=day,
                                       own_words=own_words, goals=goals, risk_level=risk, risk_summary=risk_summary,
                                       last_risk_review_on=day - dt.timedelta(days=5), state=states.SUBMITTED,
                                       state_changed_at=_at(day), created_at=_at(day))
            for name in wanted:
                ReferralIntervention.create(referral=referral, intervention=items[name])
            return referral

        def move(referral, target, by, days_ago, reason=""):
            at = _at(today - dt.timedelta(days=days_ago), 11)
            ReferralEvent.create(referral=referral, from_state=referral.state, to_state=target, by_user=by,
                                 at=at, reason=reason)
            referral.state, referral.state_changed_at = target, at
            referral.save()

        def accept(referral, days_ago, wanted=None, volunteer=False, reasons="Peer support fits their goals."):
            move(referral, states.SCREENING, lead, days_ago)
            referral.screening_reasons = reasons
            referral.risk_considerations = "Reviewed with the care co-ordinator; usual lone-working plan."
            referral.screened_by, referral.screened_on = lead, today - dt.timedelta(days=days_ago)
            referral.volunteer_allowed = volunteer
            # What the screening form asks for when a volunteer may take it: a note written for the peer.
            referral.safety_note = (
                "Meet somewhere public, such as the library café, not at home. Keep to the agreed time, "
                "check out with the base after each visit, and call the peer lead if they talk about "
                "harming themselves or you feel unsafe." if volunteer else
                "Usual lone-working plan: check in and out with the base, and call the peer lead if worried.")
            for name in (wanted or [i.name for i in referral.requested_interventions()]):
                ReferralIntervention.create(referral=referral, intervention=items[name], chosen_at_screening=True)
            move(referral, states.ACCEPTED, lead, days_ago, reasons)
            move(referral, states.AWAITING_MATCH, lead, days_ago)

        def assign(referral, role, days_ago):
            move(referral, states.MATCHED, lead, days_ago, f"{role.display_name} assigned by hand")
            return Assignment.create(referral=referral, peer_role=role, assigned_by=lead,
                                     assigned_at=_at(today - dt.timedelta(days=days_ago), 11), how="by hand")

        def meet(referral, assignment, days_ago, go_ahead=True, reason=""):
            day = today - dt.timedelta(days=days_ago)
            move(referral, states.FIRST_MEETING, lead, days_ago + 3, f"first meeting arranged for {day:%-d %b %Y}")
            meeting = FirstMeeting.create(referral=referral, assignment=assignment, meeting_on=day,
                                          place="North Hill Health Centre, quiet room",
                                          attendees=f"{referral.service_user.first_name}, "
                                                    f"{assignment.peer_role.display_name}, {lead.name}",
                                          facilitated_by=lead, recorded_at=_at(day, 15))
            if go_ahead is None:
                return meeting
            meeting.outcome = "go ahead" if go_ahead else "not a good fit"
            meeting.outcome_reason = reason
            meeting.save()
            if go_ahead:
                move(referral, states.ACTIVE, lead, days_ago, reason or "go ahead after the first meeting")
            else:
                move(referral, states.AWAITING_MATCH, lead, days_ago, reason)
                assignment.ended_at, assignment.ended_reason, assignment.ended_by = _at(day, 15), "not a good fit", lead
                assignment.save()
            return meeting

        def contact(referral, role, days_ago, intervention, setting, summary, minutes=60, attendance="attended",
                    cancelled_by="", debrief=False):
            day = today - dt.timedelta(days=days_ago)
            Contact.create(referral=referral, peer_role=role, contact_on=day, minutes=minutes,
                           intervention=items[intervention], setting=setting, attendance=attendance,
                           cancelled_by=cancelled_by, summary=summary,
                           recorded_by=lead if debrief else role.user, recorded_at=_at(day, 17),
                           debrief_on=day if debrief else None)

        # --- ten service users ------------------------------------------------------
        amira = person("Amira Hussain", "Amira", "9434765919", dt.date(1999, 4, 12), "woman", "she/her",
                       "Text first, then call after 11am.", "English, Urdu", "cooking, walking, art",
                       ["mon-pm", "wed-pm", "fri-am"], "Northfield",
                       [("gender", "woman", True), ("language", "Urdu", False)])
        tomasz = person("Tomasz Nowak", "Tomek", "9995260182", dt.date(1994, 9, 3), "man", "he/him",
                        "Phone calls are fine any weekday.", "Polish, English", "football, gaming, cycling",
                        ["tue-eve", "thu-eve", "sat-am"], "Eastgate",
                        [("language", "Polish", False), ("age_band", "26-35", False)])
        kezia = person("Kezia Morgan", "", None, dt.date(2002, 1, 22), "woman", "she/her",
                       "Email or text only; no voicemails.", "English", "music, poetry, animals",
                       ["mon-am", "tue-am", "wed-am"], "Northfield",
                       [("background", "care experienced", False)])
        daniel = person("Daniel Osei", "Danny", "9991590838", dt.date(1997, 6, 30), "man", "he/him",
                        "Call his mobile; his mum may answer.", "English, Twi", "basketball, church, music",
                        ["wed-eve", "sat-pm"], "South Vale", [("gender", "man", False)])
        rhiannon = person("Rhiannon Price", "Rhi", None, dt.date(2004, 11, 8), "woman", "she/they",
                          "Through the ward until discharge, then text.", "English, Welsh", "swimming, baking",
                          ["tue-pm", "thu-pm"], "Northfield", [("age_band", "18-25", False)])
        bilal = person("Bilal Ahmed", "", "9990166137", dt.date(2000, 2, 14), "man", "he/him",
                       "Text; he prefers afternoons.", "English, Urdu, Punjabi", "cricket, cooking, mosque",
                       ["mon-pm", "thu-pm"], "Eastgate",
                       [("language", "Urdu", False), ("background", "British Pakistani", False)])
        joanna = person("Joanna Kowalska", "Asia", None, dt.date(1991, 7, 19), "woman", "she/her",
                        "Call in the morning.", "Polish", "gardening, reading, photography",
                        ["mon-am", "fri-am"], "Westbrook", [("language", "Polish", True)])
        liam = person("Liam Carter", "", None, dt.date(2001, 3, 2), "man", "he/him",
                      "Text only.", "English", "gym, films", ["fri-pm", "sat-pm"], "Northfield")
        grace = person("Grace Adeyemi", "", None, dt.date(1996, 12, 5), "woman", "she/her",
                       "Call or text any time after 10am.", "English, Yoruba", "singing, hair and beauty, church",
                       ["wed-am", "thu-am"], "South Vale", [("gender", "woman", False)])
        owen = person("Owen Fletcher", "", None, dt.date(1988, 5, 27), "man", "he/him",
                      "Letters to his flat; he rarely answers the phone.", "English", "fishing, history",
                      ["tue-am"], "Westbrook")

        # --- submitted, screening, more information, declined --------------------------
        refer(liam, 2, "I'd like someone who gets it to help me get back to the gym.",
              "Go to the gym twice a week on my own.", ["Accompanying to community activities"], "low",
              "No current concerns. Some low mood in the evenings.")
        r_info = refer(owen, 9, "Don't know really. Someone to talk to who isn't a doctor.",
                       "Get out of the flat more.", ["1:1 recovery conversations"], "medium",
                       "Recent self-neglect; ongoing alcohol use. Reviewed at MDT.")
        move(r_info, states.SCREENING, lead, 7)
        questions = "Is Owen's alcohol use being addressed elsewhere? Would he meet at the base, or only at home?"
        move(r_info, states.MORE_INFO, lead, 7, questions)
        InformationRequest.create(referral=r_info, questions=questions, asked_by=lead, asked_at=_at(today - dt.timedelta(days=7)))
        r_declined = refer(daniel, 40, "My mum thinks it'd help.", "Not sure yet.", ["Phone check-ins"], "low",
                           "No current concerns.")
        move(r_declined, states.SCREENING, lead, 35)
        r_declined.decline_reason = ("Danny told his care co-ordinator he does not want peer support now; "
                                     "re-refer if that changes.")
        r_declined.screened_by, r_declined.screened_on = lead, today - dt.timedelta(days=35)
        r_declined.save()
        move(r_declined, states.DECLINED, lead, 35, r_declined.decline_reason)

        # --- awaiting match: five with varied languages, interests, availability, preferences ---
        r_amira = refer(amira, 30, "Talking to someone who has been through it, maybe in Urdu with my mum there.",
                        "Feel less alone; start cooking for the family again.", ["1:1 recovery conversations"],
                        "low", "No current concerns.")
        accept(r_amira, 25, volunteer=True)
        r_tomek = refer(tomasz, 21, "I want to get back to football. Somebody to go with at first.",
                        "Play five-a-side weekly.", ["Accompanying to community activities"], "low",
                        "No current concerns; cannabis use reducing.")
        accept(r_tomek, 18, volunteer=True)
        r_asia = refer(joanna, 16, "Chcę rozmawiać po polsku. I want to talk in Polish with someone who understands.",
                       "Go back to the allotment.", ["1:1 recovery conversations", "Phone check-ins"], "low",
                       "No current concerns.")
        accept(r_asia, 12, volunteer=True)
        r_rhi = refer(rhiannon, 10, "Help me plan going home so I don't end up back here.",
                      "A safe discharge and a routine at home.", ["Support on the ward before discharge"], "high",
                      "Admitted after an overdose four weeks ago; on 1:1 observations until last week.")
        accept(r_rhi, 8, reasons="Peer support on the ward helps discharge; paid peer only, with the ward team.")
        r_bilal = refer(bilal, 14, "Somebody to do WRAP with, who knows what voices are like.",
                        "Write my WRAP and share it with my family.", ["WRAP co-writing"], "medium",
                        "Hears voices; no current risk to others. Last review stable.")
        accept(r_bilal, 11)

        # --- assigned to the demo peers, when the workforce area has made their roles -------
        mo = person("Mohammed Rahman", "Mo", "9991860916", dt.date(1993, 8, 17), "man", "he/him",
                    "Text, then he calls back.", "English, Bengali", "fishing, cooking", ["sat-am", "sun-am"],
                    "Eastgate")
        ellie = person("Ellie Shaw", "", "9993909963", dt.date(2003, 10, 1), "woman", "she/her",
                       "Phone after 4pm (college).", "English", "drawing, anime, dogs", ["mon-eve", "thu-eve"],
                       "Northfield", [("age_band", "18-25", True)])
        hana = person("Hana Begum", "", "9990308241", dt.date(2005, 3, 9), "woman", "she/her",
                      "Text her; her sister helps with English.", "Bengali, English", "college, sewing",
                      ["tue-am", "thu-am"], "Eastgate", [("gender", "woman", False), ("language", "Bengali", False)])
        if peer_role is not None:
            # Closed with the paid peer: goals met, with contacts.
            r_grace_old = refer(grace, 120, "I want to understand what happened to me.", "Make sense of it.",
                                ["1:1 recovery conversations"], "low", "No current concerns.")
            accept(r_grace_old, 115)
            a = assign(r_grace_old, peer_role, 110)
            meet(r_grace_old, a, 100)
            contact(r_grace_old, peer_role, 93, "1:1 recovery conversations", "community",
                    "Met at the café. Talked about what recovery means to her.")
            contact(r_grace_old, peer_role, 86, "1:1 recovery conversations", "community", "", minutes=None,
                    attendance="cancelled", cancelled_by="service user")
            contact(r_grace_old, peer_role, 79, "1:1 recovery conversations", "team base",
                    "Goals reviewed; she feels ready to finish.")
            move(r_grace_old, states.CLOSED, lead, 70, "goals met: Grace feels she understands her story.")
            r_grace_old.outcome, r_grace_old.closing_summary = "goals met", "Grace feels she understands her story."
            r_grace_old.closed_on = today - dt.timedelta(days=70)
            r_grace_old.save()
            a.ended_at, a.ended_reason, a.ended_by = _at(today - dt.timedelta(days=70)), "referral closed", lead
            a.save()
            # Active with the paid peer, with contacts (Danny, re-referred after declining).
            r_danny2 = refer(daniel, 20, "OK, I'll give it a go now. Basketball would help.",
                             "Get back to playing basketball.", ["Accompanying to community activities",
                                                                 "1:1 recovery conversations"], "low",
                             "No current concerns.")
            accept(r_danny2, 18)
            b = assign(r_danny2, peer_role, 16)
            meet(r_danny2, b, 12)
            contact(r_danny2, peer_role, 9, "Accompanying to community activities", "community",
                    "Went to the leisure centre together; Danny played for 20 minutes.", minutes=90)
            contact(r_danny2, peer_role, 2, "1:1 recovery conversations", "phone",
                    "Short call: he wants to go on his own next week.", minutes=20)
            # First meeting with the paid peer tomorrow, outcome still to record.
            r_mo = refer(mo, 15, "Fishing with somebody. That's it.", "Go fishing once a month.",
                         ["Accompanying to community activities"], "low", "No current concerns.")
            accept(r_mo, 12)
            c = assign(r_mo, peer_role, 5)
            meet(r_mo, c, -1, go_ahead=None)
            # Matched with the paid peer yesterday; the first meeting is still to arrange.
            r_hana = refer(hana, 9, "Help to get back on the bus on my own.", "Travel to college alone.",
                           ["Accompanying to appointments"], "low", "No current concerns.")
            accept(r_hana, 6)
            assign(r_hana, peer_role, 1)
            # A declared conflict: Kezia and the paid peer know each other from school. Their match
            # ended "not a good fit" at the first meeting, when they recognised each other.
            DeclaredConflict.create(service_user=kezia, peer_role=peer_role, declared_by_side="service user",
                                    note="They were at school together.", recorded_by=lead,
                                    recorded_on=today - dt.timedelta(days=38))
            r_kezia = refer(kezia, 50, "Someone to help me write things down so I know what to do when it gets bad.",
                            "A plan I can show my college.", ["1:1 recovery conversations"], "low",
                            "No current concerns.")
            accept(r_kezia, 45, volunteer=True)
            first = assign(r_kezia, peer_role, 44)
            meet(r_kezia, first, 38, go_ahead=False,
                 reason="Kezia and Sam recognised each other from school: not a good fit.")

        # Grace's new referral, made after her old one was closed (one open referral a team).
        r_screen = refer(grace, 6, "I want to sing again with other people, I lost that when I got ill.",
                         "Join a choir.", ["Accompanying to community activities", "1:1 recovery conversations"],
                         "low", "No current risk concerns.")
        move(r_screen, states.SCREENING, lead, 1)
        if volunteer_role is not None:
            # Active with the volunteer; contacts entered by the peer lead at the debrief.
            r_ellie = refer(ellie, 80, "Phone calls to keep me going between appointments.",
                            "Keep to my routine at college.", ["Phone check-ins"], "low", "No current concerns.")
            accept(r_ellie, 76, volunteer=True)
            v = assign(r_ellie, volunteer_role, 74)
            meet(r_ellie, v, 70)
            contact(r_ellie, volunteer_role, 6, "Phone check-ins", "phone",
                    "Ellie is keeping to her routine; a hard week at college.", minutes=20, debrief=True)
            contact(r_ellie, volunteer_role, 1, "Phone check-ins", "phone", "No answer; text sent.",
                    minutes=5, attendance="did not attend", debrief=True)
