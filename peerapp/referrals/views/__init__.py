"""Referrals: clinicians refer, peer leads screen, assign and introduce, peers work.

Who sees what (404 for records that are not theirs):
- clinicians: referrals they made or whose service user they care-co-ordinate;
- peer leads and managers: their team's referrals and service users;
- paid peers: referrals assigned to them now, with notes; they record their contacts;
- volunteer peers: their caseload cards only; every notes page answers 404;
- admins: the intervention catalogue only; viewers: nothing here.
Every view of a service user, referral or contact writes one audit row.
"""
from flask import Blueprint

from ...navigation import home_panel, nav_item

bp = Blueprint("referrals", __name__, url_prefix="/referrals")
nav_item("Referrals", "referrals.index", order=40, hint="Screening queue, awaiting match and your team's referrals")
nav_item("My referrals", "referrals.mine", order=41, hint="Refer a service user for peer support and follow progress")
nav_item("My caseload", "referrals.caseload", order=42, hint="The people you support and how to contact them")
# The catalogue is reached from the referral pages' tabs (one menu entry per area keeps the
# menu's "current" highlight right); admins, who have no referral pages, get a home panel.
home_panel("referrals/_home_panel_clinician.html", "referrals.mine", order=40)
home_panel("referrals/_home_panel_lead.html", "referrals.screening_queue", order=41)
home_panel("referrals/_home_panel_peer.html", "referrals.caseload", order=42)
home_panel("referrals/_home_panel_catalogue.html", "referrals.intervention_new", order=46)

# The routes, by concern, all on this one blueprint: who may see what (common.py),
# service users and new referrals, the intervention catalogue, and casework on one referral.
from . import casework, catalogue, common, service_users  # noqa: E402,F401
