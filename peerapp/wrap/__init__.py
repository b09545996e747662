"""Work-WRAP: each peer's own Wellness Recovery Action Plan for work.

The most private record in peerapp. The peer owns it; nobody else reads it
(not managers, other peer leads, admins or the viewer role) unless the peer
shares it with their supervisor, and then only the sections they chose.

Pages (all under /wrap, endpoints ``wrap.*``):

| page | who | what |
|---|---|---|
| ``index`` /wrap/ | peer, peer lead | own plan: sections marked shared/private, who can read what since when, every view by others, agreed arrangements; plans shared with me |
| ``write`` /wrap/write | peer, peer lead | write or edit own plan; each save is a new version; a stale save is a 409 conflict with the text kept |
| ``versions``, ``version`` | peer, peer lead | own earlier versions, read only |
| ``print_plan`` /wrap/print | peer, peer lead | own latest version laid out for print |
| ``share`` /wrap/share | peer, peer lead | choose sections (or the whole plan) for the current supervisor; needs the password again |
| ``revoke``, ``revoke_all`` (POST) | peer, peer lead | stop sharing one section or everything with one person |
| ``shared`` /wrap/shared/<plan> | peer lead | read the sections shared with me, while unrevoked |
| ``arrangement_new``, ``arrangement_confirm`` | the owner, or a reader of the plan | record and confirm agreed working arrangements |
| ``sections``, ``section_new``, ``section_edit`` | admin, peer lead | the section template (titles, prompts, order); no plan text |

Decisions:
- A plan belongs to the account (``WrapPlan.owner``), not to a workforce role,
  so it survives role changes. Peer leads may keep their own plan too.
- A share is to a person (the supervisor when it was made), per section or the
  whole plan (which includes sections the team adds later). It covers the
  latest version, now and after later saves, until revoked; earlier versions
  stay the owner's alone. A new supervisor inherits nothing; the old share stays,
  flagged "not your supervisor now", until the peer revokes it.
- Agreed arrangements follow the plan: the supervisor named on them sees them
  only while they hold an unrevoked share.
- Every page finds the plan through the signed-in person; any other id is 404.
  Views and changes go to the audit log without content; the owner's page lists
  every view by someone else (audit rows of the plan).
- Other areas ask only ``sharing.supervisor_of(user)`` and
  ``sharing.shared_early_warning_signs(peer_user, viewer)``.
"""
