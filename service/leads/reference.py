"""Short human references for leads, e.g. Q-7K3M9P: no 0/O, 1/I/L to misread on the phone."""

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 6


def new_reference() -> str:
    return "Q-" + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
