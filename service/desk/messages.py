"""What the desk says after an action succeeded (refusals come from the domain's errors)."""

from __future__ import annotations

STATUS_CHANGED = "Status changed to “{new}”."
NOTE_ADDED = "Note added."
REASSIGNED = "Lead reassigned to {name}; an email to the facilitator is queued."
RETRY_QUEUED = "The email is queued again and will be sent in a moment."
ERASED = (
    "The lead was erased: {cancelled} unsent email(s) cancelled; {told} facilitator(s) asked to "
    "delete it; the patient gets a last email saying it is done."
)

FACILITATOR_SAVED = "Facilitator saved."
FACILITATOR_DISABLED = "Facilitator disabled: no new leads will be routed to them."
FACILITATOR_ENABLED = "Facilitator enabled."

TOKEN_REVOKED = "Token revoked."  # noqa: S105 - a message, not a secret

COORDINATOR_CREATED = "Account created for {email}. Give them the password in person or by phone."
COORDINATOR_ENABLED = "Account enabled."
COORDINATOR_DISABLED = "Account disabled: it can no longer sign in, and its sessions have ended."
