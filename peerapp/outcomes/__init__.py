"""Outcomes: measures defined as data (imported, versioned, never edited in the
browser), responses for service users on a referral and for peer workers
themselves at baseline, review and end, paired change with the measure's
reliable-change rule, charts and a suppressed report for commissioners."""
