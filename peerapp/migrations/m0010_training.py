"""Training: curriculum (seeded with the default six sessions), candidates,
cohorts and their sessions, facilitators, enrolments, the register, equivalents."""
import datetime as dt

import peewee as pw

from . import existing, snapshot_base

DEFAULT_SESSIONS = [
    "Principles and impact of peer support",
    "Your own recovery and readiness for peer work",
    "Using lived experience to help others' recovery",
    "Writing your own work-WRAP",
    "Rehearsing the SOP's policies and procedures",
    "Boundaries, self-care and next steps",
]


def upgrade(database, migrator):
    Base = snapshot_base(database)

    Team = existing(Base, "team")
    User = existing(Base, "user")

    class Curriculum(Base):
        name = pw.CharField(max_length=120, default="Peer support training")
        minimum_sessions = pw.IntegerField(default=6)
        required_sessions = pw.CharField(max_length=60, default="")
        updated_at = pw.DateTimeField()

    class CurriculumSession(Base):
        curriculum = pw.ForeignKeyField(Curriculum, on_delete="CASCADE")
        number = pw.IntegerField()
        title = pw.CharField(max_length=160)

        class Meta:
            indexes = ((("curriculum", "number"), True),)

    class Candidate(Base):
        name = pw.CharField(max_length=120)
        preferred_name = pw.CharField(max_length=120, default="")
        pronouns = pw.CharField(max_length=40, default="")
        email = pw.CharField(max_length=254, default="")
        phone = pw.CharField(max_length=40, default="")
        team = pw.ForeignKeyField(Team, on_delete="RESTRICT")
        nominated_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
        nominated_on = pw.DateField()
        user = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = pw.DateTimeField()

    class Cohort(Base):
        name = pw.CharField(max_length=120, unique=True)
        venue = pw.CharField(max_length=200, default="")
        places = pw.IntegerField(constraints=[pw.Check("places >= 1")])
        created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = pw.DateTimeField()

    class CohortFacilitator(Base):
        cohort = pw.ForeignKeyField(Cohort, on_delete="CASCADE")
        user = pw.ForeignKeyField(User, on_delete="RESTRICT")

        class Meta:
            indexes = ((("cohort", "user"), True),)

    class CohortSession(Base):
        cohort = pw.ForeignKeyField(Cohort, on_delete="CASCADE")
        number = pw.IntegerField()
        held_on = pw.DateField()

        class Meta:
            indexes = ((("cohort", "number"), True),)

    class Enrolment(Base):
        cohort = pw.ForeignKeyField(Cohort, on_delete="CASCADE")
        candidate = pw.ForeignKeyField(Candidate, on_delete="RESTRICT")
        status = pw.CharField(max_length=12, constraints=[pw.Check("status IN ('place', 'waiting', 'withdrawn')")])
        offered_on = pw.DateField(null=True)
        withdrawn_on = pw.DateField(null=True)
        withdrawal_reason = pw.CharField(max_length=500, default="")
        created_at = pw.DateTimeField()

        class Meta:
            indexes = ((("cohort", "candidate"), True),)

    class Attendance(Base):
        session = pw.ForeignKeyField(CohortSession, on_delete="CASCADE")
        enrolment = pw.ForeignKeyField(Enrolment, on_delete="CASCADE")
        status = pw.CharField(max_length=12, constraints=[
            pw.Check("status IN ('present', 'late', 'absent', 'caught_up')"),
            pw.Check("status <> 'caught_up' OR caught_up_on IS NOT NULL")])
        caught_up_on = pw.DateField(null=True)
        caught_up_with = pw.CharField(max_length=120, default="")
        recorded_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
        recorded_at = pw.DateTimeField()

        class Meta:
            indexes = ((("session", "enrolment"), True),)

    class EquivalentTraining(Base):
        candidate = pw.ForeignKeyField(Candidate, on_delete="CASCADE")
        provider = pw.CharField(max_length=200)
        completed_on = pw.DateField()
        evidence = pw.TextField(default="")
        recognised_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
        recognised_on = pw.DateField()
        created_at = pw.DateTimeField()

    database.create_tables([Curriculum, CurriculumSession, Candidate, Cohort, CohortFacilitator,
                            CohortSession, Enrolment, Attendance, EquivalentTraining])

    # The default curriculum is data from the start, so no page has to create it.
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    curriculum = Curriculum.create(name="Peer support training", minimum_sessions=6,
                                   required_sessions="", updated_at=now)
    for number, title in enumerate(DEFAULT_SESSIONS, start=1):
        CurriculumSession.create(curriculum=curriculum, number=number, title=title)
