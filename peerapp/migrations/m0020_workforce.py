"""Workforce: peer roles, recruitment checks (kinds as data), peer leads, induction,
team-meeting agreements, supervision, debriefs and staff conflicts."""

import peewee as pw

from . import existing, snapshot_base

CHECK_TYPES = [
    # code, name, volunteer, paid, lapses, valid months
    ("dbs", "DBS check", True, True, True, 36),
    ("confidentiality_agreement", "Signed confidentiality agreement", True, True, False, None),
    ("ig_training", "Information governance training", True, True, True, 12),
    ("confidentiality_training", "Confidentiality training", True, True, True, 12),
    ("safeguarding_training", "Safeguarding training", True, True, True, 36),
    ("occupational_health", "Occupational health clearance", False, True, False, None),
    ("references", "References", False, True, False, None),
    ("right_to_work", "Right to work", False, True, False, None),
]

INDUCTION_ITEMS = [
    "Base access and signing in and out",
    "Lone working policy",
    "Record keeping",
    "Confidentiality agreement",
    "Meeting the team",
]


def upgrade(database, migrator):
    Base = snapshot_base(database)

    Team = existing(Base, "team")
    User = existing(Base, "user")
    Candidate = existing(Base, "candidate")  # made by the training area (m0010)

    class WorkforceSetting(Base):
        name = pw.CharField(max_length=60, primary_key=True)
        value = pw.CharField(max_length=200)

    class CheckType(Base):
        code = pw.CharField(max_length=40, unique=True)
        name = pw.CharField(max_length=120)
        for_volunteer = pw.BooleanField(default=True)
        for_paid = pw.BooleanField(default=True)
        lapses = pw.BooleanField(default=False)
        valid_months = pw.IntegerField(null=True)
        position = pw.IntegerField(default=0)
        active = pw.BooleanField(default=True)

    class RecruitmentCheck(Base):
        candidate = pw.ForeignKeyField(Candidate, on_delete="RESTRICT")
        check_type = pw.ForeignKeyField(CheckType, on_delete="RESTRICT")
        completed_on = pw.DateField()
        expires_on = pw.DateField(null=True)
        dbs_level = pw.CharField(max_length=20, default="")
        dbs_update_service = pw.BooleanField(null=True)
        dbs_outcome = pw.CharField(max_length=20, default="")
        recorded_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        recorded_at = pw.DateTimeField()

        class Meta:
            constraints = [pw.Check("expires_on IS NULL OR expires_on > completed_on")]

    class PeerLeadDesignation(Base):
        team = pw.ForeignKeyField(Team, on_delete="CASCADE")
        user = pw.ForeignKeyField(User, on_delete="CASCADE")
        paid = pw.BooleanField(default=True)
        designated_on = pw.DateField()
        designated_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")

        class Meta:
            indexes = ((("team", "user"), True),)

    class PeerRole(Base):
        candidate = pw.ForeignKeyField(Candidate, on_delete="RESTRICT")
        user = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        team = pw.ForeignKeyField(Team, on_delete="RESTRICT")
        kind = pw.CharField(max_length=20)
        hours_per_week = pw.FloatField(default=0)
        working_days = pw.CharField(max_length=100, default="")
        start_date = pw.DateField()
        supervisor = pw.ForeignKeyField(User, on_delete="RESTRICT")
        max_caseload = pw.IntegerField(default=0)
        interests = pw.TextField(default="")
        languages = pw.TextField(default="")
        areas = pw.TextField(default="")
        availability = pw.TextField(default="")
        gender = pw.CharField(max_length=60, default="")
        age_band = pw.CharField(max_length=20, default="")
        backgrounds = pw.TextField(default="")
        intervention_kinds = pw.TextField(default="")
        status = pw.CharField(max_length=20, default="offered", index=True)
        status_reason = pw.CharField(max_length=300, default="")
        ended_on = pw.DateField(null=True)
        previous_role = pw.ForeignKeyField("self", null=True, on_delete="RESTRICT")
        induction_signed_off_on = pw.DateField(null=True)
        induction_signed_off_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        base_access_on = pw.DateField(null=True)
        base_access_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        auto_paused_since = pw.DateField(null=True)
        offered_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            constraints = [pw.Check("kind IN ('volunteer', 'paid')"),
                           pw.Check("status IN ('offered', 'onboarding', 'active', 'paused', 'ended')"),
                           pw.Check("max_caseload >= 0"), pw.Check("hours_per_week >= 0")]

    class InductionItem(Base):
        title = pw.CharField(max_length=160)
        position = pw.IntegerField(default=0)
        active = pw.BooleanField(default=True)

    class InductionTick(Base):
        role = pw.ForeignKeyField(PeerRole, on_delete="CASCADE")
        item = pw.ForeignKeyField(InductionItem, on_delete="RESTRICT")
        done_on = pw.DateField()
        ticked_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        ticked_at = pw.DateTimeField()

        class Meta:
            indexes = ((("role", "item"), True),)

    class TeamMeetingAgreement(Base):
        role = pw.ForeignKeyField(PeerRole, unique=True, on_delete="CASCADE")
        attends = pw.BooleanField(default=True)
        arrangement = pw.CharField(max_length=300, default="")
        manager = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        manager_on = pw.DateField(null=True)
        lead = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        lead_on = pw.DateField(null=True)
        peer_on = pw.DateField(null=True)
        updated_at = pw.DateTimeField()

    class Supervision(Base):
        role = pw.ForeignKeyField(PeerRole, on_delete="RESTRICT")
        held_on = pw.DateField()
        duration_minutes = pw.IntegerField()
        how_they_are = pw.TextField(default="")
        actions = pw.TextField(default="")
        next_on = pw.DateField(null=True)
        recorded_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
        recorded_at = pw.DateTimeField()

        class Meta:
            constraints = [pw.Check("duration_minutes > 0"), pw.Check("next_on IS NULL OR next_on >= held_on")]

    class Debrief(Base):
        role = pw.ForeignKeyField(PeerRole, on_delete="RESTRICT")
        held_on = pw.DateField()
        summary = pw.TextField(default="")
        wellbeing = pw.TextField(default="")
        recorded_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
        recorded_at = pw.DateTimeField()

    class StaffConflict(Base):
        staff = pw.ForeignKeyField(User, on_delete="RESTRICT")
        role = pw.ForeignKeyField(PeerRole, on_delete="CASCADE")
        declared_on = pw.DateField()
        recorded_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        recorded_at = pw.DateTimeField()

        class Meta:
            indexes = ((("staff", "role"), True),)

    database.create_tables([WorkforceSetting, CheckType, RecruitmentCheck, PeerLeadDesignation, PeerRole,
                            InductionItem, InductionTick, TeamMeetingAgreement, Supervision, Debrief,
                            StaffConflict])
    # One person, at most one current (active or paused) role per team: the
    # database is the real guard against a second active role.
    database.execute_sql(
        "CREATE UNIQUE INDEX peer_role_one_current_per_team ON peer_role (candidate_id, team_id) "
        "WHERE status IN ('active', 'paused')")

    WorkforceSetting.create(name="supervision_days", value="30")
    for position, (code, name, volunteer, paid, lapses, months) in enumerate(CHECK_TYPES, start=1):
        CheckType.create(code=code, name=name, for_volunteer=volunteer, for_paid=paid, lapses=lapses,
                         valid_months=months, position=position, active=True)
    for position, title in enumerate(INDUCTION_ITEMS, start=1):
        InductionItem.create(title=title, position=position, active=True)
