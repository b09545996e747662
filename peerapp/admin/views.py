"""Administration: teams, users and the audit log. Admins only."""
from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from peewee import JOIN, IntegrityError

from .. import history, passwords
from ..access import allow, recent_login
from ..audit import AuditEvent, audit
from ..changes import Refusal, StaleEdit, check_version, record_version, unique_violation
from ..db import db
from ..forms import ActionForm, int_arg
from ..models import Team, User, UserRole
from ..navigation import home_panel, nav_item
from ..pages import render, render_form, render_stale
from ..paging import paged
from .forms import AuditFilterForm, TeamForm, UserFilterForm, UserForm

bp = Blueprint("admin", __name__, url_prefix="/admin")
nav_item("Admin", "admin.users", order=90, hint="Teams, users and the audit log")
home_panel("admin/_home_panel.html", "admin.users", order=90)

TEAM_NAME_TAKEN = "There is already a team with this name"
LAST_ADMIN = ("This is the last active administrator: give another person the administrator "
              "role first, so someone can still manage users.")


def _user_extra(user: User) -> tuple:
    # password_hash and the one-time expiry change on sign-in: not part of what the form edits.
    return tuple(sorted(user.roles))


def _user_or_404(user_id: int) -> User:
    return User.get_or_none(User.id == user_id) or abort(404)


@bp.get("/teams")
@allow("admin")
def teams():
    """Admins: every team with its base and number of active members."""
    return render_template("admin/teams.html", teams=Team.listed())


@bp.route("/teams/new", methods=["GET", "POST"])
@allow("admin")
def team_new():
    """Admins: create a team."""
    form = TeamForm()
    if form.validate_on_submit():
        try:
            with db.atomic():
                team = Team.create(name=form.name.data.strip(), base_address=form.base_address.data or "",
                                   active=form.active.data)
                audit("create", team, summary="team created")
        except IntegrityError as error:
            if not unique_violation(error):
                raise
            form.name.errors.append(TEAM_NAME_TAKEN)  # someone else created it a moment ago
        else:
            flash(f"Team {team.name} created.", "success")
            return redirect(url_for("admin.teams"))
    return render_form("admin/team_form.html", form, team=None)


@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
@allow("admin")
def team_edit(team_id: int):
    """Admins: rename a team, change its base address, or retire it."""
    team = Team.get_or_none(Team.id == team_id) or abort(404)
    form = TeamForm(obj=team, team=team)
    if request.method == "GET":
        form.version.data = record_version(team)
    if form.validate_on_submit():
        try:
            with db.atomic():
                check_version(team, form.version.data)
                team.name = form.name.data.strip()
                team.base_address = form.base_address.data or ""
                team.active = form.active.data
                team.save()
                audit("update", team, summary="team details changed")
        except StaleEdit:
            team = Team.get_by_id(team_id)
            form.version.data = record_version(team)
            return render_stale("admin/team_form.html", form, team=team)
        except IntegrityError as error:
            if not unique_violation(error):
                raise
            form.name.errors.append(TEAM_NAME_TAKEN)
        else:
            flash("Team saved.", "success")
            return redirect(url_for("admin.teams"))
    return render_form("admin/team_form.html", form, team=team)


def _name_or_email(needle: str):
    """Whom a typed name or email finds (the user list and the audit log's "Who")."""
    return User.name.contains(needle) | User.email.contains(needle.lower())


def _filtered_users(form: UserFilterForm):
    query = User.select(User, Team).join(Team, JOIN.LEFT_OUTER, on=(User.team == Team.id))
    status = form.status.data or "active"
    if status != "all":
        query = query.where(User.active == (status == "active"))
    if form.q.data:
        query = query.where(_name_or_email(form.q.data.strip()))
    if form.role.data:
        query = query.where(User.id.in_(UserRole.select(UserRole.user).where(UserRole.role == form.role.data)))
    if form.team.data:
        query = query.where(User.team == form.team.data)
    return query


def _with_roles(users: list[User]) -> list[User]:
    """Everyone's roles in one query (the list showed them with a query per row)."""
    roles: dict[int, set[str]] = {u.id: set() for u in users}
    for user_id, role in UserRole.select(UserRole.user, UserRole.role).where(
            UserRole.user.in_(list(roles))).tuples():
        roles[user_id].add(role)
    for user in users:
        user.__dict__["_roles"] = roles[user.id]
    return users


@bp.route("/users", methods=["GET", "POST"])
@allow("admin")
def users():
    """Admins: the user list, 50 a page. The filter is a POST so names stay out of
    URLs (its pages are POSTs too); htmx swaps just the list, without JavaScript
    the whole page comes back."""
    form = UserFilterForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "POST" and not form.validate():
        return render_form("admin/users.html", form, fragment="admin/_user_list.html", users=[], page=None)
    page = paged(_filtered_users(form), User.name, User.id)
    with db.atomic():
        audit("view_list", record_type="user", summary=f"user list: {len(page.rows)} user(s)")
    return render("admin/users.html", "admin/_user_list.html", form=form, users=_with_roles(page.rows),
                  page=page, pager_form=form if request.method == "POST" else None)


@bp.route("/users/new", methods=["GET", "POST"])
@allow("admin")
@recent_login
def user_new():
    """Admins: create a user with a one-time password they must change at first login."""
    form = UserForm()
    if form.validate_on_submit():
        one_time = _one_time_password()
        try:
            with db.atomic():
                user = User.create(email=User.normalise_email(form.email.data), name=form.name.data.strip(),
                                   team=form.team.data or None, must_change_password=True,
                                   one_time_expires_at=passwords.one_time_expiry(),
                                   password_hash=passwords.hash_password(one_time))
                user.set_roles(form.roles.data)
                audit("create", user, summary=f"user created with roles {', '.join(sorted(form.roles.data))}")
        except IntegrityError as error:
            if not unique_violation(error):
                raise
            form.email.errors.append("Someone already has this email address")
        else:
            return render_template("admin/one_time_password.html", user=user, password=one_time)
    return render_form("admin/user_form.html", form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@allow("admin")
@recent_login
def user_edit(user_id: int):
    """Admins: change a user's name, email, team and roles. A change of roles or
    team ends their sessions, so the new rights apply from their next request."""
    user = _user_or_404(user_id)
    form = UserForm(obj=user, user=user)
    if request.method == "GET":
        form.team.data = user.team_id or 0
        form.roles.data = sorted(user.roles)
        form.version.data = record_version(user, *_user_extra(user))
    if form.validate_on_submit():
        before = (sorted(user.roles), user.team_id)
        try:
            with db.atomic():
                check_version(user, form.version.data, _user_extra)
                fields_before = history.snapshot(user)
                user.name = form.name.data.strip()
                user.email = User.normalise_email(form.email.data)
                user.team = form.team.data or None
                user.save()
                user.set_roles(form.roles.data)
                history.record_changes(fields_before, user)
                history.record_values("user", user.id, {"roles": before[0]}, {"roles": sorted(user.roles)})
                if User.active_admins() == 0:
                    raise Refusal(LAST_ADMIN)
                changed_rights = before != (sorted(user.roles), user.team_id)
                if changed_rights:
                    user.end_sessions()
                audit("update", user, summary="roles or team changed" if changed_rights else "details changed")
        except StaleEdit:
            user = _user_or_404(user_id)
            form.version.data = record_version(user, *_user_extra(user))
            return render_stale("admin/user_form.html", form, user=user,
                                history=AuditEvent.for_record("user", user.id).limit(20))
        except Refusal as refusal:
            form.roles.errors.append(str(refusal))
        except IntegrityError as error:
            if not unique_violation(error):
                raise
            form.email.errors.append("Someone already has this email address")
        else:
            flash("User saved." + (" Their sessions have ended so new rights apply." if changed_rights else ""),
                  "success")
            return redirect(url_for("admin.users"))
        user = _user_or_404(user_id)  # the refused change was rolled back
    return render_form("admin/user_form.html", form, user=user,
                       history=AuditEvent.for_record("user", user.id).limit(20))


@bp.post("/users/<int:user_id>/deactivate")
@allow("admin")
@recent_login
def user_deactivate(user_id: int):
    """Admins: stop someone logging in. Their history stays."""
    user = _user_or_404(user_id)
    if ActionForm().validate_on_submit():
        if user.id == current_user.id:
            flash("You cannot deactivate your own account.", "error")
        else:
            try:
                with db.atomic():
                    history.record_update(user, {"active": False})
                    user.active = False
                    user.save()
                    if User.active_admins() == 0:
                        raise Refusal(LAST_ADMIN)
                    user.end_sessions()
                    audit("deactivate", user, summary="account deactivated")
            except Refusal as refusal:
                flash(str(refusal), "error")
            else:
                flash(f"{user.name} can no longer sign in. Their records are kept.", "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/reactivate")
@allow("admin")
@recent_login
def user_reactivate(user_id: int):
    """Admins: let a deactivated person sign in again."""
    user = _user_or_404(user_id)
    if ActionForm().validate_on_submit():
        with db.atomic():
            history.record_update(user, {"active": True})
            user.active = True
            user.save()
            audit("reactivate", user, summary="account reactivated")
        flash(f"{user.name} can sign in again.", "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/reset-password")
@allow("admin")
@recent_login
def user_reset_password(user_id: int):
    """Admins: give a one-time password, shown once; all their sessions end."""
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    one_time = _one_time_password()
    with db.atomic():
        user.password_hash = passwords.hash_password(one_time)
        user.must_change_password = True
        user.one_time_expires_at = passwords.one_time_expiry()
        user.save()
        user.end_sessions()
        audit("password_reset", user, summary="one-time password issued by an admin")
    return render_template("admin/one_time_password.html", user=user, password=one_time)


@bp.post("/users/<int:user_id>/sign-out")
@allow("admin")
def user_sign_out(user_id: int):
    """Admins: end every session of this user (a lost tablet, a leaver)."""
    user = _user_or_404(user_id)
    if ActionForm().validate_on_submit():
        with db.atomic():
            ended = user.end_sessions()
            audit("signed_out_everywhere", user, summary=f"by an admin ({ended} session(s))")
        flash(f"{user.name} has been signed out everywhere.", "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


AUDIT_FILTERS = ("action", "record_type", "record_id")
PEOPLE_OFFERED = 20


def _audit_filters(form: AuditFilterForm, user_id: int | None = None) -> dict:
    """The filters as query parameters: never a name, at most a person's id."""
    args = {name: (form[name].data or "").strip() for name in AUDIT_FILTERS}
    args = {name: value for name, value in args.items() if value}
    if user_id:
        args["user"] = user_id
    return args


@bp.route("/audit", methods=["GET", "POST"])
@allow("admin")
def audit_log():
    """Admins: read the audit log, newest first, filtered. Nobody can edit it. The filter
    form is posted (a typed name stays out of URLs) and leads to the GET page, whose
    query string carries the other filters and the chosen person's id; several people
    matching the name are offered to choose from."""
    form = AuditFilterForm(formdata=request.form if request.method == "POST" else request.args)
    if request.method == "POST":
        if not form.validate():
            return render_form("admin/audit.html", form, events=None, page=None, people=[])
        words = " ".join((form.who.data or "").split())
        if not words:
            return redirect(url_for("admin.audit_log", **_audit_filters(form)))
        kept = int_arg("user", source=request.form)
        kept_name = User.select(User.name).where(User.id == kept).scalar() if kept else None
        if kept_name is not None and words == " ".join(kept_name.split()):
            return redirect(url_for("admin.audit_log", **_audit_filters(form, kept)))
        people = list(User.select().where(_name_or_email(words)).order_by(User.name, User.id)
                      .limit(PEOPLE_OFFERED + 1))
        if len(people) == 1:
            return redirect(url_for("admin.audit_log", **_audit_filters(form, people[0].id)))
        if not people:
            form.who.errors.append("No one's name or email address contains this: check the spelling")
            return render_form("admin/audit.html", form, events=None, page=None, people=[])
        return render("admin/audit.html", form=form, events=None, page=None, people=people[:PEOPLE_OFFERED],
                      more_people=len(people) > PEOPLE_OFFERED, filters=_audit_filters(form))
    if not form.validate():
        # A filter too long to be real (or a fuzzed number) filters nothing.
        for name in form.errors:
            if name in AUDIT_FILTERS:
                form[name].data = None
    person = None
    user_id = int_arg("user")
    if user_id:
        person = User.select(User.id, User.name).where(User.id == user_id).first()
    form.user.data, form.who.data = (person.id, person.name) if person else ("", "")
    query = AuditEvent.select(AuditEvent, User).join(User, on=(AuditEvent.user == User.id), join_type=JOIN.LEFT_OUTER)
    if form.action.data:
        query = query.where(AuditEvent.action == form.action.data.strip())
    if form.record_type.data:
        query = query.where(AuditEvent.record_type == form.record_type.data.strip())
    if form.record_id.data:
        query = query.where(AuditEvent.record_id == form.record_id.data.strip())
    if person:
        query = query.where(AuditEvent.user == person.id)
    # Keyset pages (issue #17): page 400 of 2 M rows costs what page 1 does.
    page = paged(query, AuditEvent.at.desc(), AuditEvent.id.desc())
    return render("admin/audit.html", "admin/_audit_rows.html", form=form, events=page.rows, page=page,
                  people=[], person=person, filters=_audit_filters(form))


@bp.get("/sign-in-failures")
@allow("admin")
def sign_in_failures():
    """Admins: accounts under attack (3+ wrong passwords in 24 hours), with how many addresses tried."""
    from .. import clock
    from ..auth.throttle import under_attack
    rows = under_attack(clock.now(), minimum=3)
    with db.atomic():
        audit("view", record_type="login_failure", record_id="", summary=f"sign-in failures read ({len(rows)} accounts)")
    return render_template("admin/sign_in_failures.html", rows=rows, minimum=3,
                           max_delay=current_app.config["LOGIN_MAX_DELAY_MINUTES"])


def _one_time_password() -> str:
    # Four random words would be friendlier; random letters are what we can ship.
    return "-".join(secrets.token_hex(3) for _ in range(4))
