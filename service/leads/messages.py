"""Every message a person reads about a lead: the patient (or API client) about their request,
and a coordinator about an action on a lead that was refused."""

from __future__ import annotations

REQUIRED = {
    "full_name": "Enter your full name.",
    "email": "Enter your email address.",
    "phone": "Enter a phone number so the facilitator can call or message you.",
    "country": "Choose the country you live in.",
    "language": "Choose the language you prefer.",
    "contact_method": "Choose how you would like to be contacted.",
    "consent_disclaimer": "Please confirm that you have read the disclaimer.",
    "consent_health_data": (
        "We can only prepare a quote if you agree that your request is shared with a facilitator."
    ),
}

NAME_LENGTH = "Enter a name between 2 and 120 characters."
NAME_CHARACTERS = "Your name cannot contain line breaks or control characters."
NAME_INVISIBLE = (
    "Your name cannot contain invisible characters or characters that change the text's "
    "direction; please type it again."
)
EMAIL_ONE = "Enter one email address only, like name@example.com."
EMAIL_INVALID = "Enter a valid email address, like name@example.com."
PHONE_INVALID = "Enter a phone number with its country code, like +32 470 12 34 56."
COUNTRY_UNKNOWN = "Choose a country from the list."
CHOICE_UNKNOWN = "Choose one of the options."
MONTH_FORMAT = "Enter the month as YYYY-MM, for example 2025-03."
MONTH_FUTURE = "The month cannot be in the future."
TEXT_CHARACTERS = "This field cannot contain control characters."
TEXT_INVISIBLE = (
    "This field cannot contain invisible characters or characters that change the text's direction."
)
TOO_LONG = "Keep this under {max_length} characters."
TOO_SHORT = "Enter at least {min_length} characters."
INVALID = "Check this value."
NOT_AN_OBJECT = "Send the quote request as a JSON object."
SEND_AGAIN = (
    "Your request could not be saved just now. Nothing is lost: everything you typed is still "
    "in the form below, so please send again in a minute."
)
WAIT_A_MINUTE = (
    "Many requests were sent from your network in the last minute, so yours was not saved. "
    "Nothing is lost: everything you typed is still in the form below; please wait a minute, "
    "then send it again."
)
KEY_REUSED = (
    "This Idempotency-Key (or submission_id) was already used for another patient's request: "
    "send each request with a key of its own."
)
API_JSON_ONLY = "Send the quote request as JSON, with the header Content-Type: application/json."
API_OTHER_SITE = (
    "This API does not take requests from pages on other web sites; a partner site's origin "
    "must be allowed by the operator first."
)

# A coordinator's (or an API client's) action on a lead, refused with the reason.
LEAD_NOT_FOUND = "No lead with this id."
TRANSITION_REFUSED = "A lead cannot move from “{old}” to “{new}”. Allowed next: {allowed}."
TRANSITION_NONE = "nothing (this is a final status)"
NOTE_EMPTY = "Write a note before saving it."
NOTE_TOO_LONG = "Keep a note under {max} characters."
REASSIGN_SAME = "The lead is already with this facilitator."
FACILITATOR_UNKNOWN = "Choose an active facilitator."

# A facilitator answering through their personal link (/respond/...).
RESPOND_BAD_LINK = "This link is not valid. Please use the link in the email exactly as it is."
RESPOND_EXPIRED = (
    "This link has expired. If you still need to tell us about this request, reply to the "
    "email it came with."
)
RESPOND_GONE = "This request is no longer available."
RESPOND_ERASED = "This request was erased at the patient's request. There is nothing to do."
RESPOND_MOVED = (
    "This request has been passed to another facilitator, so this link no longer works. "
    "You do not need to do anything."
)
RESPOND_MOVED_OVERDUE = (
    "This request was passed to another facilitator after {hours} hours without an answer, "
    "so this link no longer works. You do not need to do anything."
)
RESPOND_DECLINED = (
    "You told us this request is not for you, and it has been passed to another facilitator. "
    "Thank you for letting us know."
)
RESPOND_CLOSED = "This request is closed ({status}). There is nothing more to do."
RESPOND_DONE = "You have told us everything we need about this request. Thank you."
RESPOND_DECLINE_AFTER_ANSWER = (
    "You told us you have already contacted the patient. If you cannot continue, reply to the "
    "email this request came with, so that the coordinators can pass it on."
)
RESPOND_ACTION_UNKNOWN = "Choose one of the answers on the page."
RESPOND_REASON_REQUIRED = "Choose why this request is not for you."
RESPOND_PRICE = "Enter a whole amount without decimals, like 18000."
RESPOND_PRICE_RANGE = "The lowest price cannot be above the highest."
RESPOND_CURRENCY = "Choose a currency from the list."
RESPOND_CURRENCY_REQUIRED = "Choose the currency of the price."
RESPOND_NOTE_TOO_LONG = "Keep the note under {max} characters."
RESPOND_TEXT_CHARACTERS = "The note cannot contain control characters."

# The consent chain, as `quote-desk consent verify` reports a broken link.
CHAIN_NOT_LINKED = (
    "it does not follow the record before it (a record was removed, inserted or reordered, or "
    "the chain forked)"
)
CHAIN_PERSONAL_CHANGED = "its IP address or browser was changed"
CHAIN_PERSONAL_REMOVED = "its IP address and browser were removed, but its request was not erased"
CHAIN_FIELDS_CHANGED = "its fields were changed (lead, kind, granted, text or time)"
CHAIN_INTACT = "Consent chain intact: {records} record(s); last hash {head}"
CHAIN_BROKEN = "Consent chain broken at record #{consent_id} (recorded {at}): {reason}"
CHAIN_ANCHOR_MISSING = (
    "The hash {anchor} is no longer in the chain: the records up to it were rewritten"
)

# Privacy: a coordinator's (or the retention rule's) erasure, refused with the reason.
LEAD_ERASED = (
    "This lead was erased: it has no personal data left, and nothing can be emailed about it."
)
ERASE_REASON_MISSING = "Say why the lead is erased (for example: the patient asked by phone)."
ERASE_REASON_TOO_LONG = "Keep the reason under {max} characters."
ERASE_REASON_CHARACTERS = "The reason cannot contain control characters."

# Retention: why the rule erased a lead (on its timeline), and what `quote-desk purge` says.
RETENTION_CLOSED = "closed ({status}) and unchanged for more than {days} days"
RETENTION_OPEN = "still open ({status}) and received more than {days} days ago"
PURGE_NOTHING = (
    "Nothing to erase: no closed lead unchanged for more than {closed_days} days, and no open "
    "lead received more than {open_days} days ago."
)
PURGE_WOULD = "Would erase {count} lead(s) (dry run: nothing was changed):"
PURGE_DONE = "Erased {count} lead(s):"
PURGE_LINE = "{reference}  received {received}  {reason}"
