"""Every message a coordinator reads in the desk (and an API client in the leads API)."""

# ruff: noqa: S105 - messages about tokens and passwords, not secrets

from __future__ import annotations

SIGN_IN_FAILED = "That email and password do not match an active account."
SIGN_IN_THROTTLED = (
    "Too many failed sign-ins. For your security, please wait {minutes} minutes and try again."
)
SIGN_IN_REQUIRED = "Please sign in to use the desk."
ADMIN_ONLY = "Only an administrator can do this."
API_TOKEN_REQUIRED = "Send a valid API token as 'Authorization: Bearer <token>'."

TRANSITION_REFUSED = "A lead cannot move from “{old}” to “{new}”. Allowed next: {allowed}."
TRANSITION_NONE = "nothing (this is a final status)"
STATUS_CHANGED = "Status changed to “{new}”."
NOTE_EMPTY = "Write a note before saving it."
NOTE_TOO_LONG = "Keep a note under {max} characters."
NOTE_ADDED = "Note added."
REASSIGNED = "Lead reassigned to {name}; an email to the facilitator is queued."
REASSIGN_SAME = "The lead is already with this facilitator."
FACILITATOR_UNKNOWN = "Choose an active facilitator."
RETRY_QUEUED = "The email is queued again and will be sent in a moment."
RETRY_REFUSED = "Only an email that failed (retry or dead) can be retried."

FACILITATOR_SAVED = "Facilitator saved."
FACILITATOR_DISABLED = "Facilitator disabled: no new leads will be routed to them."
FACILITATOR_ENABLED = "Facilitator enabled."
FACILITATOR_EMAIL_TAKEN = "Another facilitator already uses this email address."
FACILITATOR_NAME_REQUIRED = "Enter a name."
FACILITATOR_EMAIL_INVALID = "Enter a valid email address."

TOKEN_NAME_REQUIRED = "Give the token a name, such as the system that will use it."
TOKEN_REVOKED = "Token revoked."

PASSWORD_TOO_SHORT = "The password must be at least {min} characters long."
COORDINATOR_EXISTS = "A coordinator with this email already exists."
COORDINATOR_CREATED = "Account created for {email}. Give them the password in person or by phone."
COORDINATOR_ENABLED = "Account enabled."
COORDINATOR_DISABLED = "Account disabled: it can no longer sign in, and its sessions have ended."
COORDINATOR_SELF = "You cannot disable your own account."
COORDINATOR_EMAIL_INVALID = "Enter a valid email address."
