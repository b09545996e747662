"""Fictional people for a first look (``flask --app peerapp demo-data``).

The house makes one team and staff of every role; each area then adds its own
records through ``peerapp/<area>/demo.py``, which has ``seed(demo: Demo)``.
Every name here is invented. Never load this into a real install.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from . import passwords
from .db import db
from .models import Team, User

DEMO_PASSWORD = "demo-peer-support-2026"
DEMO_DOMAIN = "demo.peerapp"  # every demo login is name@demo.peerapp

# key, email, name, roles, label shown by `make run`
DEMO_USERS = [
    {"key": "admin", "email": "admin@demo.peerapp", "name": "Alex Admin", "roles": ["admin"], "label": "administrator: users, teams, audit log"},
    {"key": "manager", "email": "manager@demo.peerapp", "name": "Morgan Reid", "roles": ["manager"], "label": "team manager: workforce, referrals, training figures"},
    {"key": "lead", "email": "lead@demo.peerapp", "name": "Priya Shah", "roles": ["peer_lead"], "label": "peer lead (paid): workforce, screening, matching, shared work-WRAP"},
    {"key": "lead2", "email": "lead2@demo.peerapp", "name": "Tom Okafor", "roles": ["peer_lead"], "label": "second peer lead (paid)"},
    {"key": "clinician", "email": "clinician@demo.peerapp", "name": "Dr Hannah Cole", "roles": ["clinician"], "label": "clinician (care co-ordinator): make and follow referrals"},
    {"key": "facilitator", "email": "facilitator@demo.peerapp", "name": "Jo Bennett", "roles": ["facilitator"], "label": "training facilitator: cohorts, registers, certificates"},
    {"key": "peer", "email": "peer@demo.peerapp", "name": "Sam Rivers", "roles": ["peer"], "label": "peer worker (paid): caseload and contacts, own role, work-WRAP"},
    {"key": "volunteer", "email": "volunteer@demo.peerapp", "name": "Chris Lee", "roles": ["peer"], "label": "peer worker (volunteer): caseload cards, no notes"},
    {"key": "viewer", "email": "viewer@demo.peerapp", "name": "Vic Patel", "roles": ["viewer"], "label": "viewer: counts only, never a person's record"},
]


def demo_accounts() -> list[str]:
    """Active accounts of the demo (published password): none may exist on a real install."""
    if not User.table_exists():
        return []
    query = User.select(User.email).where(User.email.endswith("@" + DEMO_DOMAIN), User.active == True)  # noqa: E712
    return [u.email for u in query.order_by(User.email)]


@dataclass
class Demo:
    """What area seeders build on: the demo team and users by key."""
    team: Team
    users: dict[str, User] = field(default_factory=dict)
    password_hash: str = ""
    logins: list[tuple[str, str]] = field(default_factory=list)

    def add_user(self, key: str, email: str, name: str, roles: list[str], label: str, team: Team | None = None) -> User:
        """For seeders that need more accounts (e.g. more peers)."""
        user = User.create(email=email, name=name, team=team or self.team, password_hash=self.password_hash)
        user.set_roles(roles)
        self.users[key] = user
        if label:
            self.logins.append((email, label))
        return user


def area_seeders() -> list:
    """Each area's ``seed(demo)``, in the order of the domain map (later areas build on
    earlier ones' records). A new area with demo data adds its import and name here."""
    from .matching.demo import seed as matching
    from .outcomes.demo import seed as outcomes
    from .presence.demo import seed as presence
    from .readiness.demo import seed as readiness
    from .referrals.demo import seed as referrals
    from .training.demo import seed as training
    from .workforce.demo import seed as workforce
    from .wrap.demo import seed as wrap
    return [training, workforce, wrap, referrals, matching, outcomes, presence, readiness]


@lru_cache(maxsize=1)
def _demo_password_hash() -> str:
    """argon2 is slow on purpose (~60 ms): the demo's one published password is hashed
    once a process (the test suite loads the demo some 200 times)."""
    return passwords.hash_password(DEMO_PASSWORD)


def load_demo() -> list[tuple[str, str]]:
    with db.atomic():
        team = Team.create(name="North Hill Early Intervention in Psychosis Team",
                           base_address="Unit 4, North Hill Health Centre\n12 Station Road\nNorthfield NF1 2AB")
        demo = Demo(team=team, password_hash=_demo_password_hash())
        for spec in DEMO_USERS:
            demo.add_user(spec["key"], spec["email"], spec["name"], spec["roles"], spec["label"])
        Team.create(name="South Vale Community Mental Health Team", base_address="South Vale Clinic, Mill Lane")
        for seed in area_seeders():
            seed(demo)
    return demo.logins
