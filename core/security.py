"""API keys: random bearer tokens, stored only as their SHA-256."""

import hashlib
import secrets

KEY_PREFIX = "cpt_"


def generate_api_key() -> str:
    return KEY_PREFIX + secrets.token_hex(20)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_prefix(key: str) -> str:
    """The part of a key shown in lists and logs, enough to recognise it, never to use it."""
    return key[:16]
