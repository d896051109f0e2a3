"""Browser sessions for ``/login`` and the consent page, kept in the ``web_sessions`` table.

The cookie carries only a random id (HttpOnly, SameSite=Lax). Like Laravel, the id changes at
login (``regenerate``) and the data is dropped at logout (``invalidate``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Response

from ..http import Context
from ..security import random_string
from ..store import db_timestamp, db_timestamp_at

COOKIE_NAME = "processmaker_session"
LIFETIME_SECONDS = 120 * 60  # Laravel's SESSION_LIFETIME default, 120 minutes


@dataclass
class WebSession:
    id: str | None = None
    user_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    changed: bool = False
    stale_ids: list[str] = field(default_factory=list)  # ids to delete when saving

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def put(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.changed = True

    def pull(self, key: str, default: Any = None) -> Any:
        if key in self.data:
            self.changed = True
            return self.data.pop(key)
        return default

    def forget(self, *keys: str) -> None:
        for key in keys:
            if key in self.data:
                del self.data[key]
                self.changed = True

    def regenerate(self) -> None:
        """A new id for the same data (at login, against session fixation)."""
        if self.id is not None:
            self.stale_ids.append(self.id)
        self.id = None
        self.changed = True

    def invalidate(self) -> None:
        """Log out and forget everything."""
        self.regenerate()
        self.user_id = None
        self.data = {}

    def login(self, user_id: int) -> None:
        self.regenerate()
        self.user_id = user_id


def load(ctx: Context) -> WebSession:
    session_id = ctx.request.cookies.get(COOKIE_NAME)
    if not session_id:
        return WebSession()
    row = ctx.store.one("SELECT * FROM web_sessions WHERE id = ?", (session_id,))
    if row is None:
        return WebSession()
    cutoff = db_timestamp_at(time.time() - LIFETIME_SECONDS)
    if row["updated_at"] < cutoff:
        return WebSession(stale_ids=[session_id], changed=True)
    try:
        data = json.loads(row["data"])
    except ValueError:
        data = {}
    return WebSession(session_id, row["user_id"], data if isinstance(data, dict) else {})


def current_user(ctx: Context, session: WebSession) -> dict[str, Any] | None:
    """The logged-in user; a deleted user makes the session a guest session again."""
    if session.user_id is None:
        return None
    user = ctx.store.one("SELECT * FROM users WHERE id = ? AND deleted_at IS NULL", (session.user_id,))
    if user is None:
        session.user_id = None
        session.changed = True
    return user


def save(ctx: Context, session: WebSession, response: Response) -> None:
    """Persist the session and (re)send its cookie; a guest with nothing stored gets no session."""
    if session.id is None and session.user_id is None and not session.data:
        if session.stale_ids:
            _delete(ctx, session.stale_ids)
            response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="Lax")
        return
    now = db_timestamp()
    with ctx.store.transaction():
        if session.stale_ids:
            _delete(ctx, session.stale_ids)
        if session.id is None:
            session.id = random_string(40)
        ctx.store.execute(
            "INSERT INTO web_sessions (id, user_id, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data,"
            " updated_at = excluded.updated_at",
            (session.id, session.user_id, json.dumps(session.data), now, now),
        )
    response.set_cookie(
        COOKIE_NAME,
        session.id,
        max_age=LIFETIME_SECONDS,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=ctx.request.scheme == "https",
    )


def _delete(ctx: Context, ids: list[str]) -> None:
    ctx.store.execute(f"DELETE FROM web_sessions WHERE id IN ({','.join('?' * len(ids))})", tuple(ids))
