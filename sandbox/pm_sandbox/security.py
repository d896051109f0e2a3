"""Password hashing (bcrypt, as Laravel's default hasher) and random identifiers."""

from __future__ import annotations

import secrets
import uuid

import bcrypt


def hash_password(password: str, cost: int) -> str:
    # Laravel writes $2y$; bcrypt writes $2b$. Same algorithm, and both verify either prefix.
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=cost)).decode()


def check_password(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), hashed.replace("$2y$", "$2b$", 1).encode())
    except ValueError:
        return False


def random_string(length: int = 40) -> str:
    """Like Laravel's Str::random: letters and digits."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def token_id() -> str:
    """league/oauth2-server's generateUniqueIdentifier: 40 random bytes as 80 lowercase hex."""
    return secrets.token_hex(40)


def new_uuid() -> str:
    return str(uuid.uuid4())


def sandbox_password() -> str:
    """A random password that passes ProcessMaker's default password policy."""
    return "Pm-" + secrets.token_urlsafe(12).replace("-", "x").replace("_", "y") + "9aA!"
