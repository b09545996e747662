"""The front door: a home page per role, and the health check."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ..access import PUBLIC, SIGNED_IN, allow
from ..db import db
from ..navigation import panels_for

bp = Blueprint("home", __name__)


@bp.get("/")
@allow(SIGNED_IN)
def index():
    """Signed-in users: what this person can do next, panel by panel per area."""
    return render_template("home/index.html", panels=panels_for(current_user))


@bp.get("/healthz")
@allow(PUBLIC)
def healthz():
    """Anyone (load balancers): 200 'ok' once the database answers."""
    db.execute_sql("SELECT 1").fetchone()
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}
