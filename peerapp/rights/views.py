"""Data rights for administrators: find a person, answer a subject access request
(a printable page and a JSON file), retention periods and the records past them,
and erasure confirmed by a second administrator. Also each record's History page."""
from __future__ import annotations

import json

import click
from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from .. import clock, history
from ..access import SIGNED_IN, allow, recent_login
from ..audit import audit
from ..changes import Refusal, compare_and_set, unique_violation
from ..db import db
from ..forms import ActionForm, SearchForm
from ..navigation import nav_item
from ..pages import render, render_form
from ..paging import paged
from . import registry
from .forms import ErasureForm, RetentionForm
from .models import PERSON_KINDS, ErasureRequest, RetentionRule

bp = Blueprint("rights", __name__, url_prefix="/rights")

nav_item("Data rights", "rights.index", order=95, hint="Subject access, retention and erasure")

SLUGS = {"service-users": "service_user", "peers": "peer", "staff": "staff"}
SLUG_OF = {kind: slug for slug, kind in SLUGS.items()}
PAGE = 50


def _person_or_404(kind: str, person_id: int) -> registry.Person:
    person = registry.Person(kind, person_id)
    name = registry.name_of(person)
    if not name:
        abort(404)
    return person


def person_url(person, endpoint: str = "rights.subject") -> str:
    """``person``: a Person, or (kind, id)."""
    kind, person_id = (person.kind, person.id) if hasattr(person, "kind") else person
    return url_for(f"{endpoint}_{kind}", person_id=person_id)


@bp.app_context_processor
def rights_helpers():
    return {"person_url": person_url, "PERSON_KINDS": PERSON_KINDS, "RIGHTS_SLUGS": SLUG_OF}


@bp.app_template_global()
def may_read_history(record_type: str, record_id) -> bool:
    """For ``macros/history.html``: the History link only for those the page would let in."""
    return history.readable_record(current_user._get_current_object(), record_type, record_id) is not None


@bp.route("/", methods=["GET", "POST"])
@allow("admin")
def index():
    """Admins: find a person by name, e-mail or NHS number (a POST: names never go in
    a URL), and see open erasure requests."""
    form = SearchForm()
    found = None
    if form.validate_on_submit():
        found = registry.find(form.q.data or "")
        with db.atomic():
            audit("search", record_type="subject_access", summary=f"people searched: {len(found)} found")
    return render_form("rights/index.html", form, found=found, open_requests=list(ErasureRequest.open()))


@allow("admin")
def subject(slug: str, person_id: int):
    """Admins: everything peerapp holds about this person, from every area, with who
    viewed or changed each record; printable. Audited."""
    person = _person_or_404(SLUGS[slug], person_id)
    data = registry.gather(person)
    with db.atomic():
        audit("subject_access", record_type=person.kind, record_id=person.id,
              summary=f"subject access: {len(data['records'])} records, {len(data['audit'])} audit rows")
    areas: dict[str, list] = {}
    for record in data["records"]:
        areas.setdefault(record["area"], []).append(record)
    return render("rights/subject.html", person=person, name=registry.name_of(person), data=data, areas=areas,
                  erase_form=ErasureForm(), slug=slug)


@allow("admin")
@recent_login(also_get=True)
def subject_json(slug: str, person_id: int):
    """Admins: the subject access answer as a JSON file (password asked again; audited)."""
    person = _person_or_404(SLUGS[slug], person_id)
    data = registry.gather(person)
    with db.atomic():
        audit("export", record_type=person.kind, record_id=person.id,
              summary=f"subject access exported as JSON: {len(data['records'])} records")
    body = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    return Response(body.encode("utf-8"), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="subject-access-{slug}-{person_id}.json"'})


@allow("admin")
@recent_login
def request_erasure(slug: str, person_id: int):
    """Admins: ask for this person's records to be erased. Nothing is erased until a
    second administrator confirms."""
    person = _person_or_404(SLUGS[slug], person_id)
    form = ErasureForm()
    if not form.validate_on_submit():
        data = registry.gather(person)
        areas: dict[str, list] = {}
        for record in data["records"]:
            areas.setdefault(record["area"], []).append(record)
        return render_form("rights/subject.html", form, person=person, name=registry.name_of(person), data=data,
                           areas=areas, erase_form=form, slug=slug)
    try:
        with db.atomic():
            row = ErasureRequest.create(person_kind=person.kind, person_id=person.id, reason=form.reason.data.strip(),
                                        requested_by=current_user.id, requested_at=clock.now())
            audit("erasure_requested", row, summary=f"erasure of {person.kind} {person.id} requested")
    except Exception as error:  # noqa: BLE001 - only a broken "one open request" is expected
        if not unique_violation(error):
            raise
        flash("An erasure of this person is already waiting for a second administrator.", "info")
    else:
        flash("Erasure requested. Another administrator must now confirm it.", "success")
    return redirect(url_for("rights.erasures"))


def _for_kind(view, slug: str, name: str):
    """The view for one kind of person: its own URL and endpoint (``rights.subject_peer``),
    so the page walkers try each with real ids."""
    def bound(person_id: int):
        return view(slug, person_id)
    bound.__name__ = f"{name}_{SLUGS[slug]}"
    bound.__doc__ = view.__doc__
    bound.allowed_roles = view.allowed_roles
    return bound


for _slug in SLUGS:
    bp.add_url_rule(f"/{_slug}/<int:person_id>", view_func=_for_kind(subject, _slug, "subject"), methods=["GET"])
    bp.add_url_rule(f"/{_slug}/<int:person_id>.json", view_func=_for_kind(subject_json, _slug, "subject_json"),
                    methods=["GET"])
    bp.add_url_rule(f"/{_slug}/<int:person_id>/erase", view_func=_for_kind(request_erasure, _slug, "request_erasure"),
                    methods=["POST"])


@bp.get("/erasures")
@allow("admin")
def erasures():
    """Admins: erasure requests waiting for a second administrator, and those decided."""
    done = list(ErasureRequest.select().where(ErasureRequest.state != "requested")
                .order_by(ErasureRequest.decided_at.desc()).limit(PAGE))
    waiting = list(ErasureRequest.open())
    names = {(r.person_kind, r.person_id): registry.name_of(registry.Person(r.person_kind, r.person_id))
             for r in waiting}
    return render("rights/erasures.html", waiting=waiting, done=done, names=names, form=ActionForm())


@bp.post("/erasures/<int:request_id>/confirm")
@allow("admin")
@recent_login
def confirm_erasure(request_id: int):
    """Admins other than the one who asked: erase the person's records now. Personal
    fields are blanked and free text removed in every area; the rows stay (so counts in
    reports stay right); the file is compacted. The audit row names no content."""
    if not ActionForm().validate_on_submit():
        abort(400)
    row = ErasureRequest.get_or_none(ErasureRequest.id == request_id) or abort(404)
    try:
        if row.requested_by_id == current_user.id:
            raise Refusal("A second administrator must confirm an erasure: you asked for this one.")
        with db.atomic():
            compare_and_set(ErasureRequest, row.id, {"state": "requested"}, state="erased",
                            decided_by=current_user.id, decided_at=clock.now(),
                            refused="Someone has just decided this request.")
            count = registry.erase(registry.Person(row.person_kind, row.person_id))
            ErasureRequest.update(records_erased=count).where(ErasureRequest.id == row.id).execute()
            audit("erase", row, summary=f"{row.person_kind} {row.person_id} erased: {count} records blanked")
    except Refusal as refusal:
        flash(str(refusal), "error")
        return redirect(url_for("rights.erasures"))
    flash(f"Erased. {registry.compact()}", "success")
    return redirect(url_for("rights.erasures"))


@bp.post("/erasures/<int:request_id>/cancel")
@allow("admin")
def cancel_erasure(request_id: int):
    """Admins: withdraw an erasure request that has not been confirmed."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        with db.atomic():
            compare_and_set(ErasureRequest, request_id, {"state": "requested"}, state="cancelled",
                            decided_by=None, decided_at=clock.now(), refused="Someone has just decided this request.")
            audit("erasure_cancelled", record_type="erasure_request", record_id=request_id, summary="cancelled")
    except Refusal as refusal:
        flash(str(refusal), "error")
    return redirect(url_for("rights.erasures"))


@bp.route("/retention", methods=["GET", "POST"])
@allow("admin")
def retention():
    """Admins: how long each kind of record is kept (data, with its source), and the
    people whose records are past it, for review and erasure."""
    rules = list(RetentionRule.select().order_by(RetentionRule.kind))
    form = RetentionForm()
    form.kind.choices = [(r.kind, r.label) for r in rules]
    if form.validate_on_submit():
        with db.atomic():
            RetentionRule.update(years=form.years.data, updated_at=clock.now()) \
                .where(RetentionRule.kind == form.kind.data).execute()
            audit("update", record_type="retention_rule", record_id=form.kind.data,
                  summary=f"retention set to {form.years.data} years")
        flash("Retention period saved.", "success")
        return redirect(url_for("rights.retention"))
    due = registry.past_retention()
    with db.atomic():
        audit("view_list", record_type="retention_review", summary=f"records past retention: {len(due)} people")
    return render_form("rights/retention.html", form, rules=rules, due=due)


# --- History beside each record ---------------------------------------------------------
@bp.get("/history/<string:record_type>/<int:record_id>")
@allow(SIGNED_IN)
def record_history(record_type: str, record_id: int):
    """Whoever may read the record: who changed which field when, old and new values;
    free text shown only to those who may read the record's notes. Audited."""
    user = current_user._get_current_object()
    kind, record = history.readable_record(user, record_type, record_id) or abort(404)
    text_allowed = bool(kind.may_read_text(user, record))
    change = history.FieldChange
    page = paged(change.for_record(record_type, record_id).order_by(), change.at.desc(), change.id.desc())
    with db.atomic():
        audit("view", record, summary="change history viewed")
    return render("rights/history.html", kind=kind, record=record, rows=page.rows, page=page,
                  text_allowed=text_allowed, shown=history.shown_value, record_type=record_type,
                  back=kind.back(record) if kind.back else None)


# --- the same from the command line -------------------------------------------------------
@bp.cli.command("subject-access")
@click.option("--service-user", "service_user", type=int, help="service user id")
@click.option("--peer", type=int, help="candidate id of a peer (or someone nominated for training)")
@click.option("--staff", type=int, help="user id of a staff member")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="write the JSON here (default: print)")
def subject_access_command(service_user, peer, staff, out):
    """Everything held about one person, as JSON (audited)."""
    chosen = [(k, v) for k, v in (("service_user", service_user), ("peer", peer), ("staff", staff)) if v]
    if len(chosen) != 1:
        raise click.UsageError("Give exactly one of --service-user, --peer or --staff.")
    person = registry.Person(*chosen[0])
    with db.connection_context():
        if not registry.name_of(person):
            raise click.ClickException("No such person.")
        data = registry.gather(person)
        with db.atomic():
            audit("export", record_type=person.kind, record_id=person.id,
                  summary=f"subject access from the command line: {len(data['records'])} records")
    body = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(body)
        import os
        os.chmod(out, 0o600)
        click.echo(f"Wrote {len(data['records'])} records to {out}")
    else:
        click.echo(body)


@bp.cli.command("compact-db")
def compact_command():
    """Compact the database file after an erasure (VACUUM, then empty the log)."""
    with db.connection_context():
        click.echo(registry.compact())
