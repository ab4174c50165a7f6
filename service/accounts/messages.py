"""Every message a person reads about desk accounts, signing in and API tokens."""

# ruff: noqa: S105 - messages about tokens and passwords, not secrets

from __future__ import annotations

SIGN_IN_FAILED = "That email and password do not match an active account."
SIGN_IN_THROTTLED = (
    "Too many failed sign-ins. For your security, please wait {minutes} minutes and try again."
)
SIGN_IN_REQUIRED = "Please sign in to use the desk."
ADMIN_ONLY = "Only an administrator can do this."
API_TOKEN_REQUIRED = "Send a valid API token as 'Authorization: Bearer <token>'."
TOKEN_NAME_REQUIRED = "Give the token a name, such as the system that will use it."

PASSWORD_TOO_SHORT = "The password must be at least {min} characters long."
COORDINATOR_EXISTS = "A coordinator with this email already exists."
COORDINATOR_SELF = "You cannot disable your own account."
COORDINATOR_EMAIL_INVALID = "Enter a valid email address."
COORDINATOR_NOT_FOUND = "No desk account has this id."
ROLE_UNKNOWN = "The role is admin or coordinator."
