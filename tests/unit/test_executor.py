"""The executor over real sockets: a scripted server for the exact cases (a lost create answer is
looked up, never repeated blindly; bounded concurrency; one token renewal for every worker), and a
real pm_sandbox that loses 30% of the answers to user creates after acting on them."""

from __future__ import annotations

import threading
import time

import pytest
from ansible_collections.processmaker.core.plugins.module_utils.auth import (
    LockedAuthenticator,
)
from ansible_collections.processmaker.core.plugins.module_utils.client import (
    ProcessMakerClient,
)
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
    may_have_landed,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.executor import (
    Executor,
    Inventory,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.group_members import (
    USER_CLASS,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.kinds import (
    KINDS,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.model import (
    Context,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.planner import (
    PlanOptions,
    make_plan,
    validate_items,
)
from ansible_collections.processmaker.core.plugins.module_utils.retry import RetryPolicy
from unit_helpers import Reply, connection, make_jwt, token_body

USERS = KINDS["users"]
PASSWORD = "S3cret!pass"


def static_client(server, **values):
    token = make_jwt({"sub": "1", "exp": 4102444800})
    return ProcessMakerClient.from_options(connection(server.url, access_token=token, **values))


def new_user(name):
    return {"username": name, "firstname": "F", "lastname": "L", "email": f"{name}@x.io", "password": PASSWORD}


def user_row(name, user_id):
    return {"id": user_id, "username": name, "firstname": "F", "lastname": "L", "email": f"{name}@x.io",
            "status": "ACTIVE"}


def page(items):
    return {"data": items, "meta": {"total": len(items), "per_page": 1000, "current_page": 1, "total_pages": 1}}


def create_plan(*names, current=()):
    desired = validate_items(USERS, [new_user(name) for name in names])
    return make_plan(USERS, desired, USERS.current_items({"users": list(current)}, Context()))


def executor(client, **kwargs):
    kwargs.setdefault("sleep", lambda seconds: None)
    return Executor(client, **kwargs)


# --- a create whose answer was lost ---------------------------------------------------------------

def test_a_lost_create_is_looked_up_and_adopted_not_repeated(server):
    server.on("POST", "/api/1.0/users", Reply(502, "<html><title>502 Bad Gateway</title></html>",
                                             headers={"Content-Type": "text/html"}))
    server.on("GET", "/api/1.0/users",
              lambda request: Reply(200, page([user_row("jdoe", 41)] if request.query.get("filter") == ["jdoe"] else [])))
    runner = executor(static_client(server))
    (outcome,) = runner.execute(USERS, create_plan("jdoe"))
    assert outcome.error is None and outcome.id == 41 and outcome.adopted
    assert len(server.seen("POST", "/api/1.0/users")) == 1
    (lookup,) = server.seen("GET", "/api/1.0/users")
    assert lookup.query["filter"] == ["jdoe"]
    assert runner.requests == {"write": 1, "lookup": 1}


def test_a_dropped_connection_on_create_is_looked_up_too(server):
    server.on("POST", "/api/1.0/users", Reply(drop=True))
    server.on("GET", "/api/1.0/users", Reply(200, page([user_row("somebody", 3), user_row("jdoe", 42)])))
    (outcome,) = executor(static_client(server)).execute(USERS, create_plan("jdoe"))
    assert outcome.id == 42 and outcome.adopted
    assert len(server.seen("POST", "/api/1.0/users")) == 1


def test_a_create_that_did_not_land_is_sent_again_after_the_lookup(server):
    server.on("POST", "/api/1.0/users", Reply(503), Reply(201, user_row("jdoe", 43)))
    server.on("GET", "/api/1.0/users", Reply(200, page([user_row("jdoex", 7)])))  # a LIKE match, not the item
    (outcome,) = executor(static_client(server)).execute(USERS, create_plan("jdoe"))
    assert outcome.error is None and outcome.id == 43 and not outcome.adopted and outcome.attempts == 2
    methods = [request.method for request in server.requests]
    assert methods == ["POST", "GET", "POST"]


def test_retries_of_a_create_are_bounded(server):
    server.on("POST", "/api/1.0/users", Reply(502))
    server.on("GET", "/api/1.0/users", Reply(200, page([])))
    (outcome,) = executor(static_client(server), policy=RetryPolicy(retries=2, backoff=0.0)).execute(USERS, create_plan("jdoe"))
    assert "HTTP 502" in outcome.error and outcome.error.startswith("items[0] (jdoe): POST ")
    assert len(server.seen("POST", "/api/1.0/users")) == 3 and len(server.seen("GET", "/api/1.0/users")) == 2


def test_a_refused_create_is_not_looked_up(server):
    server.on("POST", "/api/1.0/users", Reply(422, {"message": "The Email must be a valid email address.",
                                                    "errors": {"email": ["The Email must be a valid email address."]}}))
    (outcome,) = executor(static_client(server)).execute(USERS, create_plan("jdoe"))
    assert "HTTP 422" in outcome.error and "email" in outcome.error and PASSWORD not in outcome.error
    assert not server.seen("GET", "/api/1.0/users")


def test_a_create_refused_as_taken_adopts_what_a_concurrent_play_created(server):
    # another play created jdoe after this task listed the users: 422 "taken", then found and adopted
    server.on("POST", "/api/1.0/users", Reply(422, {"message": "The Username has already been taken.",
                                                    "errors": {"username": ["The Username has already been taken."],
                                                               "email": ["The Email has already been taken."]}}))
    server.on("GET", "/api/1.0/users", Reply(200, page([user_row("jdoe", 44)])))
    runner = executor(static_client(server))
    (outcome,) = runner.execute(USERS, create_plan("jdoe"))
    assert outcome.error is None and outcome.id == 44 and outcome.adopted
    assert [request.method for request in server.requests] == ["POST", "GET"]  # never sent again
    assert runner.requests == {"write": 1, "lookup": 1}


def test_a_create_refused_as_taken_by_something_not_listed_fails_once(server):
    server.on("POST", "/api/1.0/users", Reply(422, {"message": "The Username has already been taken.",
                                                    "errors": {"username": ["The Username has already been taken."]}}))
    server.on("GET", "/api/1.0/users", Reply(200, page([user_row("jdoex", 7)])))  # a LIKE match, not the item
    (outcome,) = executor(static_client(server)).execute(USERS, create_plan("jdoe"))
    assert "HTTP 422" in outcome.error and "username" in outcome.error and "\n" not in outcome.error
    assert [request.method for request in server.requests] == ["POST", "GET"]


def test_which_failures_may_have_landed():
    assert may_have_landed(ProcessMakerError("x", status=502))
    assert may_have_landed(ProcessMakerError("x", code="connection_error"))
    assert may_have_landed(ProcessMakerError("x", status=201, code="corrupt_response"))
    assert not may_have_landed(ProcessMakerError("x", status=422))
    assert not may_have_landed(ProcessMakerError("x", code="TLS_error"))
    # a POST repeated after a 429 whose first attempt had landed: the repeat finds the username taken
    taken = ProcessMakerError("x", status=422, field_errors={"username": ["taken"]}, attempts=2)
    assert may_have_landed(taken, USERS.identity)
    assert not may_have_landed(ProcessMakerError("x", status=422, attempts=2), USERS.identity)


def test_an_existing_membership_answer_is_resolved_to_its_id(server):
    kind = KINDS["group_members"]
    lists = {"users": [{"id": 5, "username": "jdoe"}], "groups": [{"id": 10, "name": "Sales"}], "group_members": []}
    context = kind.context(lists)
    plan = make_plan(kind, validate_items(kind, [{"group": "Sales", "user": "jdoe"}]), [], context=context)
    server.on("POST", "/api/1.0/group_members", Reply(201, []))  # ProcessMaker: it exists already
    server.on("GET", "/api/1.0/group_members", Reply(200, page([
        {"id": 70, "group_id": 11, "member_id": 5, "member_type": USER_CLASS},
        {"id": 71, "group_id": 10, "member_id": 5, "member_type": USER_CLASS}])))
    (outcome,) = executor(static_client(server)).execute(kind, plan, context)
    assert outcome.id == 71 and outcome.error is None and outcome.adopted  # nothing was created
    (post,) = server.seen("POST", "/api/1.0/group_members")
    assert post.json == {"group_id": 10, "member_id": 5, "member_type": USER_CLASS}
    assert server.seen("GET", "/api/1.0/group_members")[0].query["member_id"] == ["5"]


# --- other writes ---------------------------------------------------------------------------------

def test_updates_deletes_and_restores_send_what_the_api_needs(server):
    current = [user_row("upd", 2), user_row("del", 3)]
    deleted = [dict(user_row("back", 4), status="INACTIVE")]
    desired = validate_items(USERS, [{"username": "upd", "title": "Boss", "password": PASSWORD},
                                     {"username": "back", "title": "Again"}])
    plan = make_plan(USERS, desired, USERS.current_items({"users": current}, Context()),
                     USERS.deleted_items({"deleted_users": deleted}),
                     PlanOptions(purge=True, update_secrets="always"))
    assert [a.op for a in plan.actions] == ["update", "restore", "delete"]
    server.on("PUT", "/api/1.0/users/2", Reply(204))
    server.on("PUT", "/api/1.0/users/restore", Reply(200, []))
    server.on("PUT", "/api/1.0/users/4", Reply(204))
    server.on("DELETE", "/api/1.0/users/3", Reply(404, {"error": "Not Found"}))  # gone meanwhile: done too
    outcomes = executor(static_client(server), concurrency=1).execute(USERS, plan)
    assert [o.error for o in outcomes] == [None, None, None]
    (update,) = server.seen("PUT", "/api/1.0/users/2")
    assert update.json == {"username": "upd", "firstname": "F", "lastname": "L", "email": "upd@x.io",
                           "status": "ACTIVE", "title": "Boss", "password": PASSWORD}
    (restore,) = server.seen("PUT", "/api/1.0/users/restore")
    assert restore.json == {"id": 4}
    (after_restore,) = server.seen("PUT", "/api/1.0/users/4")
    assert after_restore.json["status"] == "ACTIVE" and after_restore.json["title"] == "Again"


def test_failures_are_collected_and_the_other_writes_happen(server):
    server.on("PUT", "/api/1.0/users/2", Reply(204))
    server.on("PUT", "/api/1.0/users/3", Reply(422, {"message": "The Email must be a valid email address.",
                                                     "errors": {"email": ["The Email must be a valid email address."]}}))
    desired = validate_items(USERS, [{"username": "a", "title": "x"}, {"username": "b", "title": "y"}])
    plan = make_plan(USERS, desired, USERS.current_items({"users": [user_row("a", 2), user_row("b", 3)]}, Context()))
    first, second = executor(static_client(server)).execute(USERS, plan)
    assert first.error is None
    assert second.error.startswith("items[1] (b): PUT ") and "HTTP 422" in second.error and "\n" not in second.error


# --- concurrency ----------------------------------------------------------------------------------

def test_at_most_concurrency_writes_are_in_flight(server):
    lock, state = threading.Lock(), {"now": 0, "max": 0}

    def slow(request):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return Reply(204)

    rows = [user_row(f"u{n}", 100 + n) for n in range(24)]
    for row in rows:
        server.on("PUT", f"/api/1.0/users/{row['id']}", slow)
    desired = validate_items(USERS, [{"username": row["username"], "title": "t"} for row in rows])
    plan = make_plan(USERS, desired, USERS.current_items({"users": rows}, Context()))
    outcomes = executor(static_client(server), concurrency=4).execute(USERS, plan)
    assert all(o.error is None for o in outcomes) and len(server.seen("PUT")) == 24
    assert 2 <= state["max"] <= 4


def test_workers_share_one_token_and_renew_it_once(server):
    issued = []

    def token(request):
        body = token_body()
        issued.append(body["access_token"])
        return Reply(200, body)

    def put(request):
        current = request.headers["Authorization"].split(" ", 1)[1]
        return Reply(401, {"error": "Unauthenticated."}) if current == issued[0] else Reply(204)

    server.on("POST", "/oauth/token", token)
    rows = [user_row(f"u{n}", 200 + n) for n in range(16)]
    for row in rows:
        server.on("PUT", f"/api/1.0/users/{row['id']}", put)
    client = ProcessMakerClient.from_options(connection(server.url, client_id="2", client_secret="s3cr3t!",
                                                        username="admin", password="pa55-w0rd!"),
                                             wrap=LockedAuthenticator, connections=8)
    desired = validate_items(USERS, [{"username": row["username"], "title": "t"} for row in rows])
    plan = make_plan(USERS, desired, USERS.current_items({"users": rows}, Context()))
    outcomes = executor(client, concurrency=8).execute(USERS, plan)
    assert all(o.error is None for o in outcomes)
    assert len(issued) == 2, "one token, then one renewal shared by every worker"


# --- listing --------------------------------------------------------------------------------------

def test_each_path_is_listed_once_in_big_pages(server):
    rows = [user_row(f"u{n:04d}", n) for n in range(1, 2502)]

    def users(request):
        per_page, number = int(request.query["per_page"][0]), int(request.query["page"][0])
        chunk = rows[(number - 1) * per_page: number * per_page]
        return Reply(200, {"data": chunk, "meta": {"total": len(rows), "per_page": per_page, "current_page": number,
                                                   "total_pages": -(-len(rows) // per_page)}})

    server.on("GET", "/api/1.0/users", users)
    inventory = Inventory(static_client(server), per_page=1000)
    assert len(inventory.load(USERS)["users"]) == 2501
    assert len(inventory.load(USERS)["users"]) == 2501
    assert inventory.requests == 3 and len(server.seen("GET", "/api/1.0/users")) == 3


def test_the_inventory_follows_the_tasks_own_writes(server):
    server.on("GET", "/api/1.0/users", Reply(200, page([user_row("old", 2)])))
    server.on("POST", "/api/1.0/users", Reply(201, user_row("new", 3)))
    server.on("DELETE", "/api/1.0/users/2", Reply(204))
    client = static_client(server)
    inventory = Inventory(client)
    current = USERS.current_items(inventory.load(USERS), Context())
    plan = make_plan(USERS, validate_items(USERS, [new_user("new")]), current, options=PlanOptions(purge=True))
    inventory.record(USERS, plan, executor(client).execute(USERS, plan), Context())
    listed = inventory.load(USERS)["users"]
    assert [(row["id"], row["username"]) for row in listed] == [(3, "new")]
    assert all("password" not in row for row in listed)


# --- the real sandbox, losing answers after acting -------------------------------------------------

@pytest.fixture(scope="module")
def real_sandbox():
    testing = pytest.importorskip("pm_sandbox.testing")
    with testing.SandboxProcess() as sandbox:
        yield sandbox


def test_no_duplicate_when_the_sandbox_loses_create_answers(real_sandbox):
    sandbox = real_sandbox
    sandbox.reset()
    creds = sandbox.credentials
    client = ProcessMakerClient.from_options(connection(
        sandbox.url, client_id=creds["password_client"]["client_id"],
        client_secret=creds["password_client"]["client_secret"], username=creds["admin"]["username"],
        password=creds["admin"]["password"], retries=3))
    names = [f"lost{n:02d}" for n in range(40)]
    inventory = Inventory(client)
    plan = make_plan(USERS, validate_items(USERS, [new_user(name) for name in names]),
                     USERS.current_items(inventory.load(USERS), Context()))
    sandbox.set_faults([{"route": "POST /api/1.0/users", "probability": 0.3, "kinds": ["502", "drop"],
                         "when": "after"}], seed=1)
    try:
        runner = executor(client, concurrency=8)
        outcomes = runner.execute(USERS, plan)
    finally:
        sandbox.clear_faults()
    assert [o.error for o in outcomes] == [None] * 40
    counters = sandbox.counters()
    assert counters["faults_injected_total"] >= 5
    assert sum(o.adopted for o in outcomes) == counters["faults_injected_total"]
    assert counters["requests"]["POST /api/1.0/users"] == 40, "no create was sent twice"
    everyone = sandbox.api("GET", "/users", params={"per_page": 1000, "filter": "lost"}).json()["data"]
    assert sorted(row["username"] for row in everyone) == names
    assert {o.id for o in outcomes} == {row["id"] for row in everyone}
