"""The configuration bench/bulk_converge.py converges (and tests/integration/test_roles.py reuses):
N users, groups, and one membership per user, as the configure role's ``configure_config``."""

from __future__ import annotations

from typing import Any

# Meets ProcessMaker's default password policy (8+ characters, a digit, an upper case letter, a symbol).
BENCH_PASSWORD = "Bench-Passw0rd!"


def group_count(users: int) -> int:
    """One group per 20 users, at least 5."""
    return max(5, users // 20)


def make_config(users: int, groups: int | None = None, password: str = BENCH_PASSWORD,
                distinct_passwords: bool = False) -> dict[str, Any]:
    """``distinct_passwords``: each user's password ends with its number (thousands of secrets to keep out of
    the output, as a real configuration has)."""
    groups = group_count(users) if groups is None else groups
    group_items = [{"name": f"bench-group-{g:03d}", "description": f"Bench group {g}"} for g in range(groups)]
    user_items = [
        {
            "username": f"bench-user-{i:05d}",
            "firstname": "Bench",
            "lastname": f"User {i}",
            "email": f"bench-user-{i:05d}@example.com",
            "password": f"{password}{i:05d}" if distinct_passwords else password,
        }
        for i in range(users)
    ]
    members = [{"group": group_items[i % groups]["name"], "user": user_items[i]["username"]} for i in range(users)]
    return {"groups": group_items, "users": user_items, "group_members": members}
