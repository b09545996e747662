"""Team readiness and the SOP: the team's readiness checklist, concerns (anonymous
if the person wishes), reflective meetings with agreed actions, and SOP versions
that staff read and sign. (A peer's own readiness to practise is
``peerapp.workforce.readiness``; this area is about the team.)"""
