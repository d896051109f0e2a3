"""Users: ProcessMaker's User model and the rules of UserController.

A deleted user is soft-deleted: it keeps its row (and its username, which stays taken), becomes
INACTIVE and leaves every group.
"""

from __future__ import annotations

from typing import Any

from ..errors import ValidationError
from ..php import date_iso8601, filled, in_array, intval
from ..security import check_password, hash_password
from ..store import Store, db_timestamp
from ..validation import RuleSet, Unique, validate
from . import base
from .base import USER_CLASS, Query, Row, Table
from .settings import password_policy

ACTIVE = Table("users", scope="deleted_at IS NULL")  # route-model binding skips soft-deleted users
ANY = Table("users")

USERNAME_REGEX = r"regex:/^[a-zA-Z0-9.!#$*+=^_`|~\-@]+$/"
PHONE_REGEX = r"regex:/^[+\.0-9x\)\(\-\s\/]*$/"
STATUSES = "ACTIVE,INACTIVE,OUT_OF_OFFICE,SCHEDULED,BLOCKED"

# User::$fillable (is_administrator is applied separately, by administrators only).
FILLABLE = [
    "username", "email", "password", "firstname", "lastname", "status", "address", "city", "state", "postal",
    "country", "phone", "fax", "cell", "title", "birthdate", "timezone", "datetime_format", "language", "meta",
    "delegation_user_id", "manager_id", "schedule", "force_change_password", "password_changed_at",
    "connected_accounts", "preferences_2fa", "email_task_notification",
]
JSON_COLUMNS = {"meta", "schedule", "preferences_2fa"}
INTEGER_COLUMNS = {"delegation_user_id", "manager_id", "force_change_password", "email_task_notification"}
# NOT NULL columns with defaults: a null sent for one keeps the stored (or default) value.
NOT_NULL = {"timezone", "datetime_format", "language", "force_change_password", "email_task_notification"}
DATE_COLUMNS = ("created_at", "updated_at", "deleted_at", "loggedin_at", "active_at")

# Sortable columns (all of them; text ones sort case-insensitively like MySQL's collation).
_TEXT_COLUMNS = [
    "uuid", "email", "firstname", "lastname", "username", "status", "address", "city", "state", "postal",
    "country", "phone", "fax", "cell", "title", "birthdate", "timezone", "datetime_format", "language",
]
_OTHER_COLUMNS = [
    "id", "is_administrator", "is_system", "expires_at", "loggedin_at", "active_at", "delegation_user_id",
    "manager_id", "force_change_password", "password_changed_at", "email_task_notification", "created_at",
    "updated_at", "deleted_at",
]
SORTABLE = {**{c: f'"{c}" COLLATE NOCASE' for c in _TEXT_COLUMNS}, **{c: f'"{c}"' for c in _OTHER_COLUMNS}}
EMAIL_CHANGE = "A valid authentication is required for for update the email."


def rules(store: Store, existing: int | None = None) -> RuleSet:
    """User::rules($existing): the same set for create and update (password optional on update)."""
    password: list[Any] = ["required", password_policy(store)]
    if existing is not None:
        password.insert(0, "sometimes")
    return {
        "username": ["required", USERNAME_REGEX, "min:2", "max:255", Unique("users", "username", existing)],
        "firstname": ["required", "max:50"],
        "lastname": ["required", "max:50"],
        "email": ["required", "email"],
        "birthdate": ["nullable", "date"],
        "phone": ["nullable", PHONE_REGEX],
        "fax": ["nullable", PHONE_REGEX],
        "cell": ["nullable", PHONE_REGEX],
        "status": ["required", f"in:{STATUSES}"],
        "password": password,
    }


def serialize(row: Row) -> Row:
    """User::toArray(): every column but ``password``, casts applied, ``fullname`` appended."""
    data = dict(row)
    del data["password"]
    data["is_administrator"] = bool(data["is_administrator"])
    for column in JSON_COLUMNS:
        data[column] = base.json_or_none(data[column], as_object=column == "meta")
    for column in DATE_COLUMNS:
        data[column] = date_iso8601(data[column])
    data["fullname"] = f"{row['firstname']} {row['lastname']}"
    return data


def values(body: dict[str, Any], password_hash: str | None) -> dict[str, Any]:
    """The fillable fields of a request body, as columns."""
    columns: dict[str, Any] = {}
    for name in FILLABLE:
        if name not in body or name in ("password", "password_changed_at"):
            continue
        value = body[name]
        if value is None and name in NOT_NULL:
            continue
        columns[name] = int(value) if name in INTEGER_COLUMNS and isinstance(value, bool) else base.text_value(value)
    if password_hash is not None:
        columns["password"] = password_hash
        columns["password_changed_at"] = db_timestamp()
    return columns


def _hash(body: dict[str, Any], cost: int) -> str | None:
    password = body.get("password")
    return hash_password(password, cost) if isinstance(password, str) and password else None


def add(store: Store, columns: dict[str, Any], password: str, cost: int) -> Row:
    """Insert a user as given (no rules): the seeded administrator, the anonymous user."""
    return ANY.insert(store, base.new_row({"password": hash_password(password, cost), **columns}))


def create(store: Store, body: dict[str, Any], cost: int) -> Row:
    """UserController::store. Validated without the write lock first, hashed outside it (bcrypt is slow),
    then validated again and inserted under it."""
    validate(body, rules(store), store=store)
    columns = values(body, _hash(body, cost))
    columns.setdefault("email_task_notification", 1)  # the controller's default: notify by email
    columns.setdefault("timezone", "America/Los_Angeles")  # setTimezoneAttribute('') -> the default zone
    columns = base.new_row(columns)
    return base.save(
        store, lambda: ANY.insert(store, columns),
        check=lambda: validate(body, rules(store), store=store), unique="username", index="username",
    )


def touches_username_or_password(target: Row, body: dict[str, Any]) -> bool:
    """ValidateEditUserAndPasswordPermission: a new username, or ``in_array('password', $fields)``.

    PHP's loose in_array matches the *values* of the body (the string "password", or ``true``), so a body
    that only sets the ``password`` key does not count: upstream behaviour, kept on purpose.
    """
    if "username" in body and body["username"] != target["username"]:
        return True
    return in_array("password", body.values())


def update(store: Store, target: Row, acting: Row, body: dict[str, Any], cost: int, *, acting_is_admin: bool) -> None:
    """UserController::update: the full rule set again, the acting user's password for a new email."""
    validate(body, rules(store, target["id"]), store=store)
    if body.get("email") != target["email"]:
        _check_email_change(acting, body)
    columns = values(body, _hash(body, cost))
    if acting_is_admin and "is_administrator" in body:
        columns["is_administrator"] = int(bool(body["is_administrator"]))
    if not filled(body.get("meta")) or body.get("meta") in ([], {}):
        columns["meta"] = None
    columns = base.touched(columns)
    username_rule = {"username": rules(store, target["id"])["username"]}
    base.save(
        store, lambda: ACTIVE.update(store, target["id"], columns),
        check=lambda: validate(body, username_rule, store=store), unique="username", index="username",
    )


def _check_email_change(acting: Row, body: dict[str, Any]) -> None:
    """Changing an email needs ``valpassword``, the acting user's own current password."""
    given = body.get("valpassword")
    if not filled(given):
        raise ValidationError({"email": ["The password is required."]}, EMAIL_CHANGE)
    if not isinstance(given, str) or not check_password(given, acting.get("password", "")):
        raise ValidationError({"email": ["The authentication is incorrect."]}, EMAIL_CHANGE)


def delete(store: Store, target: Row) -> None:
    """User::boot(): a deleted user becomes INACTIVE and leaves every group."""
    now = db_timestamp()
    with store.transaction():
        ANY.update(store, target["id"], {"status": "INACTIVE", "deleted_at": now, "updated_at": now})
        store.execute("DELETE FROM group_members WHERE member_type = ? AND member_id = ?", (USER_CLASS, target["id"]))


def restore(store: Store, body: dict[str, Any]) -> None:
    """UserController::restore: the first deleted user matching ``id``, ``email`` or ``username``, in that order."""
    with store.transaction():
        for column in ("id", "email", "username"):
            if column not in body:
                continue
            row = store.one(
                f'SELECT id FROM users WHERE deleted_at IS NOT NULL AND "{column}" = ? ORDER BY id LIMIT 1',
                (base.text_value(body[column]),),
            )
            if row is not None:
                ANY.update(store, row["id"], base.touched({"deleted_at": None, "status": "ACTIVE"}))
                return


def set_groups(store: Store, target: Row, groups: Any) -> None:
    """UserController::updateGroups: ``groups`` (ids, a list or comma-separated) replaces the memberships."""
    if not filled(groups):
        wanted: list[int] = []
    elif isinstance(groups, list):
        wanted = [intval(group) for group in groups]
    else:
        wanted = [intval(part) for part in str(groups).split(",")]
    now = db_timestamp()
    with store.transaction():
        current = {
            row["group_id"]
            for row in store.all(
                "SELECT group_id FROM group_members WHERE member_type = ? AND member_id = ?", (USER_CLASS, target["id"])
            )
        }
        for group_id in current - set(wanted):
            store.execute(
                "DELETE FROM group_members WHERE group_id = ? AND member_type = ? AND member_id = ?",
                (group_id, USER_CLASS, target["id"]),
            )
        for group_id in dict.fromkeys(wanted):
            if group_id not in current:
                # A group id that does not exist fails the foreign key: a 500, as in MySQL.
                store.insert(
                    "group_members",
                    {"group_id": group_id, "member_id": target["id"], "member_type": USER_CLASS,
                     "created_at": now, "updated_at": now},
                )


def query(*where: str) -> Query:
    return Query("users", list(where))


def matching(query: Query, text: str | None) -> Query:
    """The users ``filter``: username, first or last name, or email."""
    return query.matching(text, "username", "firstname", "lastname", "email")
