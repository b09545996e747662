"""Referrals: service users and their preferences, the intervention catalogue,
referrals with their interventions and history, questions to the referrer,
declared conflicts, assignments, first meetings and contacts."""
import peewee as pw

from . import existing, snapshot_base


def upgrade(database, migrator):
    Base = snapshot_base(database)

    Team = existing(Base, "team")
    User = existing(Base, "user")
    PeerRole = existing(Base, "peer_role")  # made by the workforce area (m0020)

    class ServiceUser(Base):
        name = pw.CharField(max_length=120)
        preferred_name = pw.CharField(max_length=60, default="")
        nhs_number = pw.CharField(max_length=10, null=True, unique=True)
        date_of_birth = pw.DateField(null=True)
        gender = pw.CharField(max_length=60, default="")
        pronouns = pw.CharField(max_length=30, default="")
        contact_preference = pw.TextField(default="")
        team = pw.ForeignKeyField(Team, on_delete="RESTRICT")
        care_coordinator = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        languages = pw.TextField(default="")
        interests = pw.TextField(default="")
        availability = pw.TextField(default="")
        area = pw.CharField(max_length=80, default="")
        consent_referral_on = pw.DateField(null=True)
        consent_sharing_on = pw.DateField(null=True)
        consent_recorded_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        created_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        created_at = pw.DateTimeField()

    class PeerPreference(Base):
        service_user = pw.ForeignKeyField(ServiceUser, on_delete="CASCADE")
        kind = pw.CharField(max_length=20)
        value = pw.CharField(max_length=80)
        must = pw.BooleanField(default=False)

        class Meta:
            constraints = [pw.Check("kind IN ('gender', 'age_band', 'background', 'language')")]

    class Intervention(Base):
        name = pw.CharField(max_length=120, unique=True)
        duties = pw.TextField(default="")
        delivery = pw.CharField(max_length=10, default="1:1")
        settings = pw.TextField(default="")
        typical_sessions = pw.IntegerField(null=True)
        session_minutes = pw.IntegerField(null=True)
        frequency = pw.CharField(max_length=60, default="")
        volunteers_allowed = pw.BooleanField(default=False)
        risk_levels = pw.TextField(default="low")
        retired = pw.BooleanField(default=False)
        created_at = pw.DateTimeField()

        class Meta:
            constraints = [pw.Check("delivery IN ('1:1', 'group')")]

    class Referral(Base):
        service_user = pw.ForeignKeyField(ServiceUser, on_delete="RESTRICT")
        team = pw.ForeignKeyField(Team, on_delete="RESTRICT")
        referrer = pw.ForeignKeyField(User, on_delete="RESTRICT")
        referred_on = pw.DateField()
        own_words = pw.TextField(default="")
        goals = pw.TextField(default="")
        risk_summary = pw.TextField(default="")
        risk_level = pw.CharField(max_length=10, default="low")
        last_risk_review_on = pw.DateField(null=True)
        consent_override_reason = pw.TextField(default="")
        state = pw.CharField(max_length=40, default="submitted", index=True)
        state_changed_at = pw.DateTimeField()
        volunteer_allowed = pw.BooleanField(default=False)
        screening_reasons = pw.TextField(default="")
        risk_considerations = pw.TextField(default="")
        screened_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        screened_on = pw.DateField(null=True)
        decline_reason = pw.TextField(default="")
        outcome = pw.CharField(max_length=30, default="")
        closing_summary = pw.TextField(default="")
        closed_on = pw.DateField(null=True)
        created_at = pw.DateTimeField()

        class Meta:
            constraints = [
                pw.Check("risk_level IN ('low', 'medium', 'high')"),
                pw.Check("state IN ('submitted', 'screening', 'more information requested', 'accepted', "
                         "'declined', 'awaiting match', 'matched', 'first meeting', 'active', 'closed')"),
                pw.Check("outcome IN ('', 'goals met', 'disengaged', 'not a good fit', 'moved', 'other')"),
            ]

    class ReferralIntervention(Base):
        referral = pw.ForeignKeyField(Referral, on_delete="CASCADE")
        intervention = pw.ForeignKeyField(Intervention, on_delete="RESTRICT")
        chosen_at_screening = pw.BooleanField(default=False)

        class Meta:
            indexes = ((("referral", "intervention", "chosen_at_screening"), True),)

    class ReferralEvent(Base):
        referral = pw.ForeignKeyField(Referral, on_delete="CASCADE")
        from_state = pw.CharField(max_length=40)
        to_state = pw.CharField(max_length=40)
        by_user = pw.ForeignKeyField(User, on_delete="RESTRICT")
        at = pw.DateTimeField()
        reason = pw.TextField(default="")

    class InformationRequest(Base):
        referral = pw.ForeignKeyField(Referral, on_delete="CASCADE")
        questions = pw.TextField()
        asked_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
        asked_at = pw.DateTimeField()
        answer = pw.TextField(default="")
        answered_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        answered_at = pw.DateTimeField(null=True)

    class DeclaredConflict(Base):
        service_user = pw.ForeignKeyField(ServiceUser, on_delete="CASCADE")
        peer_role = pw.ForeignKeyField(PeerRole, on_delete="CASCADE")
        declared_by_side = pw.CharField(max_length=20)
        note = pw.TextField(default="")
        recorded_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
        recorded_on = pw.DateField()

        class Meta:
            indexes = ((("service_user", "peer_role", "declared_by_side"), True),)
            constraints = [pw.Check("declared_by_side IN ('peer', 'service user')")]

    class Assignment(Base):
        referral = pw.ForeignKeyField(Referral, on_delete="CASCADE")
        peer_role = pw.ForeignKeyField(PeerRole, on_delete="RESTRICT")
        assigned_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
        assigned_at = pw.DateTimeField()
        how = pw.CharField(max_length=20, default="by hand")
        ended_at = pw.DateTimeField(null=True)
        ended_reason = pw.CharField(max_length=200, default="")
        ended_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")

        class Meta:
            constraints = [pw.Check("how IN ('by hand', 'matching run')")]

    class FirstMeeting(Base):
        referral = pw.ForeignKeyField(Referral, on_delete="CASCADE")
        assignment = pw.ForeignKeyField(Assignment, null=True, on_delete="SET NULL")
        meeting_on = pw.DateField(null=True)
        place = pw.CharField(max_length=200, default="")
        attendees = pw.TextField(default="")
        facilitated_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
        outcome = pw.CharField(max_length=20, default="")
        outcome_reason = pw.TextField(default="")
        recorded_at = pw.DateTimeField()

    class Contact(Base):
        referral = pw.ForeignKeyField(Referral, on_delete="CASCADE")
        peer_role = pw.ForeignKeyField(PeerRole, null=True, on_delete="RESTRICT")
        contact_on = pw.DateField()
        minutes = pw.IntegerField(null=True)
        intervention = pw.ForeignKeyField(Intervention, null=True, on_delete="RESTRICT")
        setting = pw.CharField(max_length=20, default="")
        attendance = pw.CharField(max_length=20, default="attended")
        cancelled_by = pw.CharField(max_length=20, default="")
        summary = pw.TextField(default="")
        recorded_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
        recorded_at = pw.DateTimeField()
        debrief_on = pw.DateField(null=True)

        class Meta:
            constraints = [pw.Check("attendance IN ('attended', 'did not attend', 'cancelled')"),
                           pw.Check("minutes IS NULL OR (minutes >= 0 AND minutes <= 1440)")]

    database.create_tables([ServiceUser, PeerPreference, Intervention, Referral, ReferralIntervention,
                            ReferralEvent, InformationRequest, DeclaredConflict, Assignment,
                            FirstMeeting, Contact])
