"""``/users``, ``/deleted_users``, ``/users/restore``, ``/users/{user}/groups`` (UserController)."""

from __future__ import annotations

import sqlite3
from typing import Any

from werkzeug.wrappers import Response

from ..http import (
    Context,
    Forbidden,
    Router,
    ValidationFailed,
    empty_response,
    json_response,
)
from ..security import check_password, hash_password, new_uuid
from ..store import db_timestamp
from ..validation import PasswordPolicy, RuleSet, Unique, taken, validate
from . import authz
from .common import (
    USER_CLASS,
    Row,
    has_query,
    is_filled,
    iso8601,
    json_or_none,
    like,
    load,
    order_clause,
    query_value,
    read_body,
    sql_list,
    text_value,
)

router = Router()

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

ACTIVE_USERS = "SELECT * FROM users WHERE id = ? AND deleted_at IS NULL"


def user_rules(store: Any, existing: int | None = None) -> RuleSet:
    """User::rules($existing): the same set for create and update (password optional on update)."""
    password: list[Any] = ["required", PasswordPolicy.from_settings(store)]
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


def serialize_user(row: Row) -> Row:
    """User::toArray(): every column but ``password``, casts applied, ``fullname`` appended."""
    data = dict(row)
    del data["password"]
    data["is_administrator"] = bool(data["is_administrator"])
    for column in JSON_COLUMNS:
        data[column] = json_or_none(data[column], as_object=column == "meta")
    for column in DATE_COLUMNS:
        data[column] = iso8601(data[column])
    data["fullname"] = f"{row['firstname']} {row['lastname']}"
    return data


def user_values(body: dict[str, Any], password_hash: str | None) -> dict[str, Any]:
    """The fillable fields of a request body, as columns."""
    values: dict[str, Any] = {}
    for name in FILLABLE:
        if name not in body or name in ("password", "password_changed_at"):
            continue
        value = body[name]
        if value is None and name in NOT_NULL:
            continue
        if name in INTEGER_COLUMNS and isinstance(value, bool):
            values[name] = int(value)
        else:
            values[name] = text_value(value)
    if password_hash is not None:
        values["password"] = password_hash
        values["password_changed_at"] = db_timestamp()
    return values


def _hash(ctx: Context, body: dict[str, Any]) -> str | None:
    password = body.get("password")
    return hash_password(password, ctx.settings.bcrypt_cost) if isinstance(password, str) and password else None



def _user_filters(ctx: Context, where: list[str], params: list[Any]) -> None:
    filter_text = query_value(ctx, "filter")
    if filter_text:
        where.append("username LIKE ? OR firstname LIKE ? OR lastname LIKE ? OR email LIKE ?")
        params.extend([like(filter_text)] * 4)


# ---- list / show -------------------------------------------------------------------------------


@router.route("GET", "/api/1.0/users")
def index(ctx: Context) -> Response:
    authz.require(
        ctx, "view-users", "create-processes", "edit-processes", "create-projects", "view-projects",
        message="Not authorized to view users.",
    )
    where, params = ["deleted_at IS NULL", "is_system = 0"], []
    _user_filters(ctx, where, params)
    exclude = query_value(ctx, "exclude_ids")
    if exclude:
        ids = exclude.split(",")
        where.append(f"CAST(id AS TEXT) NOT IN ({', '.join('?' * len(ids))})")
        params.extend(part.strip() for part in ids)
    if has_query(ctx, "status"):
        status = query_value(ctx, "status")
        where.append("status = ?" if status is not None else "status IS NULL")
        params.extend([status] if status is not None else [])
    mention = query_value(ctx, "mention_username")
    if has_query(ctx, "mention_username"):
        where.append("username LIKE ?")
        params.append(f"{mention or ''}%")
    return sql_list(
        ctx,
        select="SELECT * FROM users",
        count="SELECT COUNT(*) FROM users",
        where=where,
        params=params,
        order=order_clause(ctx, SORTABLE, "username"),
        serialize=serialize_user,
    )


@router.route("GET", "/api/1.0/deleted_users")
def deleted_users(ctx: Context) -> Response:
    authz.require(ctx, "view-users")
    where, params = ["deleted_at IS NOT NULL"], []
    _user_filters(ctx, where, params)
    return sql_list(
        ctx,
        select="SELECT * FROM users",
        count="SELECT COUNT(*) FROM users",
        where=where,
        params=params,
        order=order_clause(ctx, SORTABLE, "username"),
        serialize=serialize_user,
    )


@router.route("GET", "/api/1.0/users/{user}")
def show(ctx: Context) -> Response:
    user = load(ctx, ACTIVE_USERS, ctx.params["user"])
    if not authz.can_view_user(ctx, user) and not authz.holds_any(ctx.store, ctx.user, "create-projects"):
        raise Forbidden("Not authorized to update this user.")
    return json_response(serialize_user(user))


# ---- create / update / delete ------------------------------------------------------------------


@router.route("POST", "/api/1.0/users")
def store(ctx: Context) -> Response:
    authz.require(ctx, "create-users")
    body = read_body(ctx, keep_raw=("username", "password"))
    # Fail fast without the write lock, hash outside it, then check again under it (BEGIN IMMEDIATE
    # serializes writers, so the unique check and the insert are atomic).
    validate(body, user_rules(ctx.store), store=ctx.store)
    password_hash = _hash(ctx, body)
    now = db_timestamp()
    values = user_values(body, password_hash)
    values.setdefault("email_task_notification", 1)  # the controller's default: notify by email
    values.setdefault("timezone", "America/Los_Angeles")  # setTimezoneAttribute('') → the default zone
    values.update(uuid=new_uuid(), created_at=now, updated_at=now)
    try:
        with ctx.store.transaction():
            validate(body, user_rules(ctx.store), store=ctx.store)
            user_id = ctx.store.insert("users", values)
    except sqlite3.IntegrityError as error:
        if "username" in str(error):
            raise taken("username") from error
        raise
    row = ctx.store.one("SELECT * FROM users WHERE id = ?", (user_id,))
    assert row is not None
    return json_response(serialize_user(row), 201)


def _touches_username_or_password(target: Row, body: dict[str, Any]) -> bool:
    """ValidateEditUserAndPasswordPermission: a new username, or ``in_array('password', $fields)``.

    PHP's loose in_array matches the *values* of the body: the string "password", or ``true``.
    """
    if "username" in body and body["username"] != target["username"]:
        return True
    return any(value == "password" or value is True for value in body.values())


@router.route("PUT", "/api/1.0/users/{user}")
def update(ctx: Context) -> Response:
    target = load(ctx, ACTIVE_USERS, ctx.params["user"])
    acting = ctx.user or {}
    body = read_body(ctx, keep_raw=("username", "password"))
    if _touches_username_or_password(target, body) and not authz.holds_any(
        ctx.store, acting, "edit-user-and-password"
    ):
        raise Forbidden("Not authorized to update the username and password.")
    if not authz.can_edit_user(ctx, target):
        raise Forbidden("Not authorized to update this user.")
    validate(body, user_rules(ctx.store, target["id"]), store=ctx.store)
    if body.get("email") != target["email"]:
        _check_email_change(acting, body)
    password_hash = _hash(ctx, body)
    values = user_values(body, password_hash)
    if authz.is_admin(acting) and "is_administrator" in body:
        values["is_administrator"] = int(bool(body["is_administrator"]))
    if not is_filled(body.get("meta")) or body.get("meta") in ([], {}):
        values["meta"] = None
    values["updated_at"] = db_timestamp()
    try:
        with ctx.store.transaction():
            validate(body, {"username": user_rules(ctx.store, target["id"])["username"]}, store=ctx.store)
            ctx.store.update("users", target["id"], values)
    except sqlite3.IntegrityError as error:
        if "username" in str(error):
            raise taken("username") from error
        raise
    return empty_response(204)


def _check_email_change(acting: Row, body: dict[str, Any]) -> None:
    """Changing an email needs ``valpassword``, the acting user's own current password."""
    message = "A valid authentication is required for for update the email."
    given = body.get("valpassword")
    if not is_filled(given):
        raise ValidationFailed({"email": ["The password is required."]}, message)
    if not isinstance(given, str) or not check_password(given, acting.get("password", "")):
        raise ValidationFailed({"email": ["The authentication is incorrect."]}, message)


@router.route("DELETE", "/api/1.0/users/{user}")
def destroy(ctx: Context) -> Response:
    target = load(ctx, ACTIVE_USERS, ctx.params["user"])
    authz.require(ctx, "delete-users")
    now = db_timestamp()
    # User::boot(): a deleted user becomes INACTIVE and leaves every group.
    with ctx.store.transaction():
        ctx.store.update("users", target["id"], {"status": "INACTIVE", "deleted_at": now, "updated_at": now})
        ctx.store.execute(
            "DELETE FROM group_members WHERE member_type = ? AND member_id = ?", (USER_CLASS, target["id"])
        )
    return empty_response(204)


@router.route("PUT", "/api/1.0/users/restore")
def restore(ctx: Context) -> Response:
    authz.require(ctx, "create-users")
    body = read_body(ctx, keep_raw=("username",))
    with ctx.store.transaction():
        for column in ("id", "email", "username"):
            if column not in body:
                continue
            row = ctx.store.one(
                f'SELECT id FROM users WHERE deleted_at IS NOT NULL AND "{column}" = ? ORDER BY id LIMIT 1',
                (text_value(body[column]),),
            )
            if row is not None:
                ctx.store.update(
                    "users", row["id"], {"deleted_at": None, "status": "ACTIVE", "updated_at": db_timestamp()}
                )
                break
    return json_response([], 200)


@router.route("PUT", "/api/1.0/users/{user}/groups")
def update_groups(ctx: Context) -> Response:
    target = load(ctx, ACTIVE_USERS, ctx.params["user"])
    authz.require(ctx, "edit-users")
    body = read_body(ctx)
    if "groups" not in body:
        return json_response([], 400)
    groups = body["groups"]
    if not is_filled(groups):
        wanted: list[int] = []
    elif isinstance(groups, list):
        wanted = [_int(group) for group in groups]
    else:
        wanted = [_int(part) for part in str(groups).split(",")]
    now = db_timestamp()
    with ctx.store.transaction():
        current = {
            row["group_id"]
            for row in ctx.store.all(
                "SELECT group_id FROM group_members WHERE member_type = ? AND member_id = ?",
                (USER_CLASS, target["id"]),
            )
        }
        for group_id in current - set(wanted):
            ctx.store.execute(
                "DELETE FROM group_members WHERE group_id = ? AND member_type = ? AND member_id = ?",
                (group_id, USER_CLASS, target["id"]),
            )
        for group_id in dict.fromkeys(wanted):
            if group_id not in current:
                # A group id that does not exist fails the foreign key: a 500, as in MySQL.
                ctx.store.insert(
                    "group_members",
                    {"group_id": group_id, "member_id": target["id"], "member_type": USER_CLASS,
                     "created_at": now, "updated_at": now},
                )
    return empty_response(204)


def _int(value: Any) -> int:
    """PHP intval: leading digits, else 0."""
    text = str(value).strip()
    digits = ""
    for index, char in enumerate(text):
        if char.isdigit() or (index == 0 and char in "+-"):
            digits += char
        else:
            break
    try:
        return int(digits)
    except ValueError:
        return 0

