"""Referrals: casework on one referral, from the lists through screening, matching,
the first meeting and contacts to closing."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from ... import clock, history
from ...access import allow
from ...audit import audit
from ...forms import ActionForm
from ...changes import StaleEdit, record_version
from ...pages import render, render_form, render_stale
from ...paging import paged
from ...workforce.models import PeerRole
from .. import lists, services, states
from ..forms import (AnswerForm, ArrangeMeetingForm, AssignForm, CloseForm, ContactCorrectionForm, ContactForm, ListFilterForm,
                     MeetingOutcomeForm, ScreeningForm)
from ..models import Contact, Intervention, Referral, caseload
from . import bp
from .common import (REFUSED, audit_list, is_lead_of, lead_referral_or_404, my_doors, not_now, opening_role,
                     peer_role, referral_or_404, refused)

# --- lists ----------------------------------------------------------------------

def _list_page(title: str, list_name: str, doors, values, intro: str = "", finished: bool = False):
    """A list of the referrals these doors open, with its filter (state and team)."""
    form = ListFilterForm(request.args, only_team=Referral.only_team_seen_by(current_user, opening_role()))
    if finished:
        form.state.choices = [("", "Any state")] + [(s, s.capitalize()) for s in states.FINISHED_STATES]
    page = None
    if form.validate():
        page = lists.referrals_page(doors, values, finished=finished, state=form.state.data, team=form.team.data)
    rows = page.rows if page else []
    audit_list(list_name, rows)
    return render("referrals/list.html", "referrals/_referral_list.html", title=title, intro=intro,
                  form=form, referrals=rows, page=page)


def _queue_page(title: str, page, queue: str):
    """A queue of cards, 50 at a time, with the referrer joined (not looked up per card)."""
    audit_list(title.lower(), page.rows)
    return render("referrals/queue.html", title=title, referrals=page.rows, page=page, queue=queue)


@bp.get("/")
@allow("peer_lead", "manager")
def index():
    """Peer leads and managers: every referral of their team, filtered by state."""
    return _list_page("Team referrals", "team referrals", *my_doors())


@bp.get("/mine")
@allow("clinician")
def mine():
    """Clinicians: the referrals they made or whose service user they care-co-ordinate."""
    return _list_page("My referrals", "my referrals", *Referral.clinicians_door(current_user),
                      intro="Referrals you made, and referrals of people you care-co-ordinate.")


@bp.get("/screening")
@allow("peer_lead", "manager")
def screening_queue():
    """Peer leads and managers: referrals of their team waiting for a screening decision."""
    return _queue_page("Screening queue", lists.screening_page(current_user.team_id or -1), "screening")


@bp.get("/awaiting-match")
@allow("peer_lead", "manager")
def awaiting():
    """Peer leads and managers: accepted referrals of their team waiting for a peer."""
    return _queue_page("Awaiting match", lists.awaiting_page(current_user.team_id or -1), "awaiting")


@bp.get("/closed")
@allow("clinician", "peer_lead", "manager")
def closed():
    """Clinicians, peer leads and managers: closed and declined referrals they may see."""
    return _list_page("Closed referrals", "closed referrals", *my_doors(),
                      finished=True)


@bp.get("/caseload", endpoint="caseload")
@allow("peer")
def caseload_page():
    """Peers: the people they support now. Volunteers see cards only (first name, how to
    contact, agreed intervention, risk level and the peer lead's safety note, never the clinician's
    risk summary); paid peers can open each referral."""
    role = peer_role()
    rows = list(Referral.assigned_to(role)) if role else []
    Referral.requested_for(rows)  # the cards' agreed interventions, in one query
    audit_list("caseload", rows)
    return render("referrals/caseload.html", role=role, referrals=rows,
                  notes_allowed=bool(role and not role.is_volunteer))



@bp.get("/debrief")
@allow("peer_lead")
def debrief():
    """Peer leads: volunteers of their team and the referrals whose contacts they report
    at the end-of-day debrief, each with a link to enter a contact."""
    team = current_user.team_id or -1
    volunteers = [r for r in PeerRole.for_team(team) if r.is_volunteer and r.status in ("active", "paused")]
    assigned = Referral.assigned_to_each(volunteers)
    rows = [(role, assigned[role.id]) for role in volunteers]
    audit_list("debrief", [ref for _, refs in rows for ref in refs])
    return render("referrals/debrief.html", rows=rows)


# --- one referral -------------------------------------------------------------------

@bp.get("/<int:referral_id>")
@allow("clinician", "peer_lead", "manager", "peer")
def show(referral_id: int):
    """Clinicians (their referrals), peer leads and managers (their team's), paid peers
    (assigned to them): the referral with its history, screening, first meeting and contacts."""
    referral = referral_or_404(referral_id)
    # A year of weekly contacts is 50; 50 at a time, newest first, like every list.
    page = paged(referral.contacts_in_order(), Contact.contact_on.desc(), Contact.id.desc())
    contacts = page.rows
    audit("view", referral, summary=f"referral viewed with service user #{referral.service_user_id} "
                                    f"and {len(contacts)} contact(s)")
    role = peer_role()
    return render("referrals/show.html", referral=referral, su=referral.service_user, contacts=contacts,
                  page=page,
                  # Asked once for the whole table (a contact's history is its referral's readers').
                  contact_history=bool(contacts) and history.readable_record(
                      current_user._get_current_object(), "contact", contacts[0].id) is not None,
                  corrects_any=is_lead_of(referral),
                  corrects_role=role.id if role is not None and not role.is_volunteer else None,
                  is_lead=is_lead_of(referral), assignment=referral.current_assignment(),
                  meetings=list(referral.first_meetings()), history=list(referral.history()),
                  questions=referral.conversation(), action_form=ActionForm())




@bp.route("/<int:referral_id>/screen", methods=["GET", "POST"])
@allow("peer_lead")
def screen(referral_id: int):
    """Peer leads: the screening decision (accept, decline, or questions to the referrer),
    with reasons, risk considerations, suitable interventions and whether a volunteer may take it."""
    referral = lead_referral_or_404(referral_id, "viewed for screening")
    if request.method == "GET" and (away := not_now(referral, states.SUBMITTED, states.SCREENING)):
        return away
    form = ScreeningForm()
    if request.method == "GET":
        form.risk_level.data = referral.risk_level
        form.interventions.data = [i.id for i in referral.requested_interventions()]
        form.volunteer_allowed.data = referral.volunteer_allowed
        form.reasons.data = referral.screening_reasons
        form.risk_considerations.data = referral.risk_considerations
        form.safety_note.data = referral.safety_note
    if form.validate_on_submit():
        try:
            services.screen(referral, form.decision.data, by=current_user._get_current_object(),
                            reasons=form.reasons.data or "", questions=form.questions.data or "",
                            risk_considerations=form.risk_considerations.data or "",
                            interventions=list(Intervention.select().where(
                                Intervention.id.in_(form.interventions.data or []))),
                            volunteer_allowed=form.volunteer_allowed.data, risk_level=form.risk_level.data,
                            safety_note=form.safety_note.data or "")
        except REFUSED as error:
            referral = Referral.get_by_id(referral.id)
            refused(form, error)
        else:
            flash({states.AWAITING_MATCH: f"{referral.label} accepted and added to the waiting list for a peer.",
                   states.DECLINED: f"{referral.label} declined. The referrer can see your reasons.",
                   states.MORE_INFO: f"Your questions have gone back to the referrer of {referral.label}."
                   }.get(referral.state, "Screening saved."), "success")
            return redirect(url_for("referrals.screening_queue"))
    # The whole conversation with the referrer sits beside the decision it informs.
    return render_form("referrals/screen.html", form, referral=referral, su=referral.service_user,
                       questions=referral.conversation())


@bp.route("/<int:referral_id>/answer", methods=["GET", "POST"])
@allow("clinician", "peer_lead")
def answer(referral_id: int):
    """The referrer (or their care co-ordinator colleague), or a peer lead taking the answer by
    phone: answer the screening questions; the referral returns to screening."""
    referral = referral_or_404(referral_id, "viewed to answer questions")
    if not (referral.referrer_id == current_user.id or referral.service_user.care_coordinator_id == current_user.id
            or is_lead_of(referral)):
        abort(404)
    if request.method == "GET" and (away := not_now(referral, states.MORE_INFO)):
        return away
    form = AnswerForm()
    request_ = referral.open_questions()
    if form.validate_on_submit():
        try:
            services.answer_questions(referral, form.answer.data, by=current_user._get_current_object())
        except REFUSED as error:
            refused(form, error)
        else:
            flash("Thank you: your answer is with the peer leads.", "success")
            return redirect(url_for("referrals.show", referral_id=referral.id))
    return render_form("referrals/answer.html", form, referral=referral, request_=request_)


def _assignable(referral: Referral):
    """(role, caseload, problems) for every current peer of the team: those with no
    problems are offered, the others are listed with the reasons."""
    return [(role, caseload(role), referral.assignment_problems(role))
            for role in PeerRole.for_team(referral.team_id) if role.status in ("active", "paused")]


@bp.route("/<int:referral_id>/assign", methods=["GET", "POST"])
@allow("peer_lead")
def assign(referral_id: int):
    """Peer leads: assign a peer by hand. Only peers ready to practise, with capacity, and
    (for volunteers) allowed by screening, interventions and risk are offered."""
    referral = lead_referral_or_404(referral_id, "viewed to assign a peer")
    if request.method == "GET" and (away := not_now(referral, states.AWAITING_MATCH)):
        return away
    rows = _assignable(referral)
    offered = [(role, load) for role, load, problems in rows if not problems]
    not_offered = [(role, problems) for role, _, problems in rows if problems]
    form = AssignForm()
    form.peer_role.choices = [(role.id, f"{role.display_name} ({role.kind_label.lower()}), "
                                        f"{load} of {role.max_caseload} places taken") for role, load in offered]
    if form.validate_on_submit():
        role = PeerRole.get_or_none(PeerRole.id == form.peer_role.data) or abort(404)
        try:
            assignment = services.assign(referral, role, by=current_user._get_current_object(), how="by hand")
        except REFUSED as error:
            referral = Referral.get_by_id(referral.id)
            refused(form, error)
        else:
            flash(f"{assignment.peer_role.display_name} assigned to {referral.label}. "
                  "Next: arrange the first meeting.", "success")
            return redirect(url_for("referrals.show", referral_id=referral.id))
    elif request.method == "POST":
        # A peer who is not offered (a stale page: no longer ready, or full since it was
        # shown) is refused with the reasons, not WTForms' bare "Not a valid choice".
        stale = {role.id: (role, problems) for role, problems in not_offered}.get(form.peer_role.data)
        if stale is not None:
            role, problems = stale
            form.peer_role.errors = [f"{role.display_name} cannot be assigned: {'; '.join(problems)}."]
    return render_form("referrals/assign.html", form, referral=referral, su=referral.service_user,
                       offered=offered, not_offered=not_offered)


@bp.post("/<int:referral_id>/end-assignment")
@allow("peer_lead")
def end_assignment(referral_id: int):
    """Peer leads: end a match before the first meeting; the referral goes back to awaiting match."""
    referral = lead_referral_or_404(referral_id)
    reason = (request.form.get("reason") or "").strip()[:200]
    if ActionForm().validate_on_submit():
        try:
            services.end_assignment(referral, reason, by=current_user._get_current_object())
            flash(f"{referral.label} is back on the waiting list.", "success")
        except REFUSED as error:
            flash(str(error), "error")
    return redirect(url_for("referrals.show", referral_id=referral.id))


@bp.route("/<int:referral_id>/first-meeting/arrange", methods=["GET", "POST"])
@allow("peer_lead")
def first_meeting_arrange(referral_id: int):
    """Peer leads: arrange the first meeting of a matched referral (date, place, who attends)."""
    referral = lead_referral_or_404(referral_id, "viewed to arrange the first meeting")
    if referral.state == states.FIRST_MEETING and request.method == "POST":
        # The arrange form sent twice (a double tap): it is arranged, say so kindly.
        flash("The first meeting is already arranged. Record how it went here afterwards.", "info")
        return redirect(url_for("referrals.show", referral_id=referral.id))
    if request.method == "GET" and (away := not_now(referral, states.MATCHED)):
        return away
    assignment = referral.current_assignment()
    form = ArrangeMeetingForm(referral=referral)
    if request.method == "GET":
        form.place.data = referral.team.base_address.split("\n")[0] if referral.team.base_address else ""
        form.attendees.data = (f"{referral.service_user.first_name}, "
                               f"{assignment.peer_role.display_name if assignment else 'the peer'}, "
                               f"{current_user.name}")
    if form.validate_on_submit():
        try:
            services.arrange_first_meeting(referral, by=current_user._get_current_object(),
                                           meeting_on=form.meeting_on.data, place=form.place.data,
                                           attendees=form.attendees.data)
        except REFUSED as error:
            refused(form, error)
        else:
            flash("First meeting arranged. Record how it went here afterwards.", "success")
            return redirect(url_for("referrals.show", referral_id=referral.id))
    return render_form("referrals/first_meeting.html", form, referral=referral, assignment=assignment,
                       stage="arrange")


@bp.route("/<int:referral_id>/first-meeting/outcome", methods=["GET", "POST"])
@allow("peer_lead")
def first_meeting_outcome(referral_id: int):
    """Peer leads: record how the first meeting went: go ahead (active) or not a good fit
    (back to awaiting match; the assignment ends and the pair is not proposed again)."""
    referral = lead_referral_or_404(referral_id, "viewed to record the first meeting")
    if request.method == "GET" and (away := not_now(referral, states.FIRST_MEETING)):
        return away
    assignment = referral.current_assignment()
    meeting = referral.first_meetings().first()
    form = MeetingOutcomeForm()
    if request.method == "GET" and meeting:
        form.attendees.data = meeting.attendees
    if form.validate_on_submit():
        go_ahead = form.outcome.data == "go ahead"
        try:
            services.record_first_meeting(referral, go_ahead, form.reason.data or "",
                                          by=current_user._get_current_object(), attendees=form.attendees.data)
        except REFUSED as error:
            refused(form, error)
        else:
            flash("Peer support has started." if go_ahead else
                  f"{referral.label} is back on the waiting list; this pair will not be proposed again.",
                  "success")
            return redirect(url_for("referrals.show", referral_id=referral.id))
    return render_form("referrals/first_meeting.html", form, referral=referral, assignment=assignment,
                       meeting=meeting, stage="outcome")


@bp.route("/<int:referral_id>/contacts/new", methods=["GET", "POST"])
@allow("peer_lead", "peer")
def contact_new(referral_id: int):
    """Paid peers: record their own contact. Peer leads: enter a contact, for a volunteer
    as reported at the end-of-day debrief. Volunteers: 404, they have no electronic records."""
    referral = referral_or_404(referral_id, "viewed to record a contact")
    lead = is_lead_of(referral)
    assignment = referral.current_assignment()
    role = peer_role()
    own = role is not None and assignment is not None and assignment.peer_role_id == role.id
    if not (lead or own):
        abort(404)
    debrief = lead and assignment is not None and assignment.peer_role.is_volunteer
    if request.method == "GET" and (away := not_now(referral, states.FIRST_MEETING, states.ACTIVE)):
        return away
    form = ContactForm(referral=referral)
    if request.method == "GET":
        form.contact_on.data = clock.today()
        if debrief:
            form.debrief_on.data = clock.today()
    if form.validate_on_submit():
        if debrief and not form.debrief_on.data:
            form.debrief_on.errors = ["Enter the date of the debrief"]
        elif debrief and form.debrief_on.data < form.contact_on.data:
            form.debrief_on.errors = ["The debrief cannot be before the contact"]
        else:
            try:
                services.record_contact(
                    referral, by=current_user._get_current_object(), contact_on=form.contact_on.data,
                    minutes=form.minutes.data, intervention=form.intervention.data or None,
                    setting=form.setting.data, attendance=form.attendance.data,
                    cancelled_by=form.cancelled_by.data if form.attendance.data == "cancelled" else "",
                    summary=(form.summary.data or "").strip(),
                    debrief_on=form.debrief_on.data if debrief else None)
            except REFUSED as error:
                refused(form, error)
            else:
                flash("Contact recorded.", "success")
                return redirect(url_for("referrals.debrief" if debrief else "referrals.show",
                                        **({} if debrief else {"referral_id": referral.id})))
    return render_form("referrals/contact_form.html", form, referral=referral, assignment=assignment,
                       debrief=debrief)



@bp.route("/<int:referral_id>/contacts/<int:contact_id>/correct", methods=["GET", "POST"])
@allow("peer_lead", "peer")
def contact_correct(referral_id: int, contact_id: int):
    """Correct a contact, by whoever may record it: the team's peer lead (also for
    contacts entered at a volunteer's debrief), or the paid peer whose contact it is.
    Every changed field goes in the contact's history with the reason."""
    referral = referral_or_404(referral_id, "viewed to correct a contact")
    contact = Contact.get_or_none((Contact.id == contact_id) & (Contact.referral == referral.id)) or abort(404)
    if not may_correct_contact(referral, contact):
        abort(404)
    debrief = contact.debrief_on is not None
    form = ContactCorrectionForm(obj=contact if request.method == "GET" else None, referral=referral, contact=contact)
    if request.method == "GET":
        form.intervention.data = contact.intervention_id or 0
        form.version.data = record_version(contact)
    if form.validate_on_submit():
        if debrief and not form.debrief_on.data:
            form.debrief_on.errors = ["Enter the date of the debrief"]
        else:
            try:
                changed = services.correct_contact(
                    contact, by=current_user._get_current_object(), reason=form.reason.data or "",
                    seen=form.version.data, contact_on=form.contact_on.data, minutes=form.minutes.data,
                    intervention=form.intervention.data or None, setting=form.setting.data,
                    attendance=form.attendance.data,
                    cancelled_by=form.cancelled_by.data if form.attendance.data == "cancelled" else "",
                    summary=(form.summary.data or "").strip(),
                    **({"debrief_on": form.debrief_on.data} if debrief else {}))
            except StaleEdit:
                contact = Contact.get_by_id(contact.id)
                form.version.data = record_version(contact)
                return render_stale("referrals/contact_form.html", form, referral=referral, contact=contact,
                                    debrief=debrief, correcting=True)
            except REFUSED as error:
                refused(form, error)
            else:
                flash("Contact corrected." if changed else "Nothing was changed.", "success")
                return redirect(url_for("referrals.show", referral_id=referral.id))
    return render_form("referrals/contact_form.html", form, referral=referral, contact=contact, debrief=debrief,
                       correcting=True)


def may_correct_contact(referral, contact) -> bool:
    """The team's peer lead, or the paid peer whose contact it is (volunteers never
    reach here: they have no electronic records)."""
    if is_lead_of(referral):
        return True
    role = peer_role()
    return role is not None and not role.is_volunteer and contact.peer_role_id == role.id

@bp.route("/<int:referral_id>/close", methods=["GET", "POST"])
@allow("peer_lead", "manager")
def close(referral_id: int):
    """Peer leads and managers of the team: close a referral with an outcome and a summary."""
    referral = referral_or_404(referral_id, "viewed to close")
    if referral.team_id != current_user.team_id or not current_user.has_role("peer_lead", "manager"):
        abort(404)
    if request.method == "GET" and (away := not_now(referral, states.AWAITING_MATCH, states.MATCHED,
                                                     states.FIRST_MEETING, states.ACTIVE)):
        return away
    form = CloseForm()
    if form.validate_on_submit():
        try:
            services.close(referral, form.outcome.data, form.summary.data, by=current_user._get_current_object())
        except REFUSED as error:
            referral = Referral.get_by_id(referral.id)
            refused(form, error)
        else:
            flash(f"{referral.label} closed.", "success")
            return redirect(url_for("referrals.show", referral_id=referral.id))
    return render_form("referrals/close.html", form, referral=referral)
