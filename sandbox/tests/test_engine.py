"""The process engine as a pure model: definitions in, tokens and request state out (no HTTP, no store)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pm_sandbox.models import definition, engine, expressions
from pm_sandbox.models.engine import Engine, Instance

NOW = dt.datetime(2025, 1, 31, 12, 0, 0, tzinfo=dt.timezone.utc)
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/'
        'MODEL" xmlns:pm="http://processmaker.com/BPMN/2.0/Schema.xsd" id="d" targetNamespace="http://bpmn.io/schema/'
        'bpmn">\n<bpmn:process id="P" name="Process">\n')


def bpmn(nodes: str, *flows: tuple[Any, ...]) -> definition.Definition:
    """A definition from node XML and flows ``(id, source, target[, condition])``."""
    text = HEAD + nodes
    for flow in flows:
        flow_id, source, target = flow[:3]
        condition = f"<bpmn:conditionExpression>{flow[3]}</bpmn:conditionExpression>" if len(flow) > 3 else ""
        text += f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">{condition}' \
                "</bpmn:sequenceFlow>\n"
    return definition.parse(text + "</bpmn:process>\n</bpmn:definitions>\n")


class FakeEnvironment:
    def __init__(self, *, users: tuple[int, ...] = (1, 2, 3, 4), groups: dict[int, list[int]] | None = None,
                 manager: int | None = None, history: dict[str, int | None] | None = None) -> None:
        self.users = set(users)
        self.groups = groups or {}
        self.manager = manager
        self.history = dict(history or {})

    def now(self) -> dt.datetime:
        return NOW

    def user_attributes(self, user_id: int) -> dict[str, Any] | None:
        return {"id": user_id, "username": f"user{user_id}"} if user_id in self.users else None

    def group_users(self, group_ids: list[int]) -> list[int]:
        return sorted({member for group in group_ids for member in self.groups.get(group, [])})

    def last_assignee(self, element_id: str) -> tuple[bool, int | None]:
        return (element_id in self.history, self.history.get(element_id))

    def manager_id(self) -> int | None:
        return self.manager

    def request_attributes(self) -> dict[str, Any]:
        return {"id": 99, "status": "ACTIVE"}


def start(process: definition.Definition, data: dict[str, Any] | None = None, user: int | None = 1,
          env: FakeEnvironment | None = None) -> tuple[Instance, FakeEnvironment]:
    env = env or FakeEnvironment()
    instance = Instance(callable_id="P", user_id=user, data=dict(data or {}))
    Engine(process, instance, env).start("start")
    return instance, env


def complete(process: definition.Definition, instance: Instance, env: FakeEnvironment, element_id: str,
             data: dict[str, Any] | None = None) -> None:
    token = next(t for t in instance.tokens if t.element_id == element_id and t.status == "ACTIVE")
    token.key = token.key or len(instance.tokens) + 1000  # "stored"
    Engine(process, instance, env).complete(token, data or {})


def trail(instance: Instance) -> list[tuple[str, str, str]]:
    return [(t.element_id, t.element_type, t.status) for t in instance.tokens]


START = '<bpmn:startEvent id="start" name="Start"/>\n'
APPROVAL = bpmn(
    START + '<bpmn:userTask id="approve" name="Approve"/>\n<bpmn:exclusiveGateway id="gw" name="Approved?" '
    'default="no"/>\n<bpmn:endEvent id="ok" name="Approved"/>\n<bpmn:endEvent id="ko" name="Rejected"/>\n',
    ("f1", "start", "approve"), ("f2", "approve", "gw"), ("yes", "gw", "ok", "approved == true"), ("no", "gw", "ko"),
)


# ---- exclusive gateways -------------------------------------------------------------------------


def test_a_request_waits_at_its_task_with_the_request_metadata_in_the_data() -> None:
    instance, _ = start(APPROVAL, {"change": "CHG-1"})
    assert trail(instance) == [("start", "startEvent", "TRIGGERED"), ("approve", "task", "ACTIVE")]
    assert instance.status == "ACTIVE"
    start_token, task = instance.tokens
    assert (start_token.user_id, start_token.initiated_at, start_token.completed_at) == (
        1, "2025-01-31 12:00:00", "2025-01-31 12:00:00")
    assert start_token.data == {"change": "CHG-1"}
    assert task.user_id == 1  # no pm:assignment: the requester
    assert instance.data == {"change": "CHG-1", "_user": {"id": 1, "username": "user1"},
                             "_request": {"id": 99, "status": "ACTIVE"}}


@pytest.mark.parametrize(("data", "end"), [({"approved": True}, "ok"), ({"approved": False}, "ko"),
                                            ({"approved": "yes"}, "ok"), ({"approved": 0}, "ko")])
def test_the_exclusive_gateway_takes_the_first_true_condition_else_the_default(data: dict, end: str) -> None:
    instance, env = start(APPROVAL, {"change": "CHG-1"})
    complete(APPROVAL, instance, env, "approve", data)
    assert trail(instance)[1:] == [("approve", "task", "CLOSED"), ("gw", "gateway", "CLOSED"),
                                   (end, "end_event", "CLOSED")]
    assert (instance.status, instance.completed_at) == ("COMPLETED", "2025-01-31 12:00:00")
    assert instance.data == {"change": "CHG-1", **data}  # _user and _request are gone
    assert instance.tokens[1].data == instance.data


def test_no_matching_flow_and_no_default_is_an_error() -> None:
    process = bpmn(START + '<bpmn:exclusiveGateway id="gw"/><bpmn:endEvent id="e"/>',
                   ("f1", "start", "gw"), ("f2", "gw", "e", "amount > 10"))
    instance, _ = start(process, {"amount": 5})
    assert instance.status == "ERROR"
    assert instance.errors is not None
    assert instance.errors[0]["message"] == "No outgoing flow of exclusiveGateway (gw) matched and it has no default flow"
    assert (instance.errors[0]["element_id"], instance.errors[0]["created_at"]) == ("gw", "2025-01-31T12:00:00+00:00")
    assert trail(instance)[-1] == ("gw", "gateway", "FAILING")


def test_a_flow_without_condition_is_taken_when_reached() -> None:
    process = bpmn(START + '<bpmn:exclusiveGateway id="gw"/><bpmn:endEvent id="a"/><bpmn:endEvent id="b"/>',
                   ("f1", "start", "gw"), ("f2", "gw", "a", "x == 1"), ("f3", "gw", "b"))
    instance, _ = start(process, {"x": 2})
    assert trail(instance)[-1] == ("b", "end_event", "CLOSED")


def test_an_unsupported_condition_puts_the_request_in_error_instead_of_guessing() -> None:
    process = bpmn(START + '<bpmn:exclusiveGateway id="gw" name="Big?" default="f3"/><bpmn:endEvent id="a"/>'
                   '<bpmn:endEvent id="b"/>',
                   ("f1", "start", "gw"), ("f2", "gw", "a", "amount * 2 > 10"), ("f3", "gw", "b"))
    instance, _ = start(process, {"amount": 6})
    assert instance.status == "ERROR"
    assert instance.errors is not None
    message = instance.errors[0]["message"]
    assert message.startswith('The condition of f2 from exclusiveGateway "Big?" (gw) could not be evaluated:')
    assert 'the operator "*" (position 8) is not supported by pm_sandbox' in message
    assert message.endswith("(condition: amount * 2 > 10)")


def test_an_undefined_variable_fails_like_symfony_does() -> None:
    instance, env = start(APPROVAL)
    complete(APPROVAL, instance, env, "approve", {})
    assert instance.status == "ERROR"
    assert instance.errors is not None
    assert 'Variable "approved" is not valid around position 1 for expression `approved == true`.' in \
        instance.errors[0]["message"]


# ---- parallel gateways and terminate --------------------------------------------------------------

PARALLEL = bpmn(
    START + '<bpmn:parallelGateway id="fork"/><bpmn:task id="a" name="A"/><bpmn:task id="b" name="B"/>'
    '<bpmn:parallelGateway id="join"/><bpmn:endEvent id="end"/>',
    ("f1", "start", "fork"), ("f2", "fork", "a"), ("f3", "fork", "b"), ("f4", "a", "join"), ("f5", "b", "join"),
    ("f6", "join", "end"),
)


def test_parallel_fork_and_join() -> None:
    instance, env = start(PARALLEL)
    assert trail(instance) == [("start", "startEvent", "TRIGGERED"), ("fork", "gateway", "CLOSED"),
                               ("a", "task", "ACTIVE"), ("b", "task", "ACTIVE")]
    complete(PARALLEL, instance, env, "b", {"b": 1})
    assert trail(instance)[-1] == ("join", "gateway", "ACTIVE")  # waits for the other branch
    assert instance.status == "ACTIVE"
    complete(PARALLEL, instance, env, "a", {"a": 1})
    assert trail(instance)[-3:] == [("join", "gateway", "CLOSED"), ("join", "gateway", "CLOSED"),
                                    ("end", "end_event", "CLOSED")]
    assert (instance.status, instance.data) == ("COMPLETED", {"a": 1, "b": 1})


def test_a_terminate_end_event_closes_every_other_token() -> None:
    process = bpmn(
        START + '<bpmn:parallelGateway id="fork"/><bpmn:task id="a"/><bpmn:task id="b"/>'
        '<bpmn:endEvent id="stop"><bpmn:terminateEventDefinition/></bpmn:endEvent><bpmn:endEvent id="end"/>',
        ("f1", "start", "fork"), ("f2", "fork", "a"), ("f3", "fork", "b"), ("f4", "a", "stop"), ("f5", "b", "end"),
    )
    instance, env = start(process)
    complete(process, instance, env, "a")
    assert ("b", "task", "CLOSED") in trail(instance)
    assert trail(instance)[-1] == ("stop", "end_event", "CLOSED")
    assert instance.status == "COMPLETED"


def test_a_plain_end_event_leaves_the_other_branch_running() -> None:
    process = bpmn(
        START + '<bpmn:parallelGateway id="fork"/><bpmn:task id="a"/><bpmn:task id="b"/><bpmn:endEvent id="e1"/>'
        '<bpmn:endEvent id="e2"/>',
        ("f1", "start", "fork"), ("f2", "fork", "a"), ("f3", "fork", "b"), ("f4", "a", "e1"), ("f5", "b", "e2"),
    )
    instance, env = start(process)
    complete(process, instance, env, "a")
    assert instance.status == "ACTIVE"
    complete(process, instance, env, "b")
    assert instance.status == "COMPLETED"


# ---- assignment and due dates --------------------------------------------------------------------------


def task(attributes: str) -> definition.Definition:
    return bpmn(START + f'<bpmn:task id="t" name="T" {attributes}/><bpmn:endEvent id="e"/>',
                ("f1", "start", "t"), ("f2", "t", "e"))


def assignee(attributes: str, **options: Any) -> int | None:
    env = options.pop("env", None) or FakeEnvironment(**options)
    instance, _ = start(task(attributes), env=env, user=options.get("user", 1))
    assert instance.status == "ACTIVE", instance.errors
    return instance.tokens[-1].user_id


def error_of(attributes: str, **options: Any) -> str:
    instance, _ = start(task(attributes), env=FakeEnvironment(**options))
    assert instance.status == "ERROR"
    assert instance.tokens[-1].status == "FAILING"
    assert instance.errors is not None
    return str(instance.errors[0]["message"])


def test_assignment_to_the_requester_is_the_default() -> None:
    assert assignee("") == 1
    assert assignee('pm:assignment="requester"') == 1


def test_assignment_to_users_and_groups_goes_round_robin() -> None:
    groups = {7: [3, 4], 8: [2]}
    assert assignee('pm:assignment="user" pm:assignedUsers="4,2"') == 2
    assert assignee('pm:assignment="user" pm:assignedUsers="4,2"', history={"t": 2}) == 4
    assert assignee('pm:assignment="user" pm:assignedUsers="4,2"', history={"t": 4}) == 2  # wraps around
    assert assignee('pm:assignment="group" pm:assignedGroups="7"', groups=groups) == 3
    assert assignee('pm:assignment="group" pm:assignedGroups="7"', groups=groups, history={"t": 3}) == 4
    assert assignee('pm:assignment="user_group" pm:assignedUsers="1" pm:assignedGroups="7,8"', groups=groups,
                    history={"t": 2}) == 3


def test_nobody_assignable_falls_back_to_the_process_manager() -> None:
    assert assignee('pm:assignment="group" pm:assignedGroups="9"', manager=2) == 2
    assert assignee('pm:assignment="user" pm:assignedUsers="42"', manager=3) == 3  # no such user
    assert assignee('pm:assignment="process_manager"', manager=4) == 4
    assert error_of('pm:assignment="group" pm:assignedGroups="9"') == engine.NO_MANAGER


def test_assignment_lock_keeps_the_user_of_the_same_request() -> None:
    process = bpmn(START + '<bpmn:task id="t" pm:assignment="user" pm:assignedUsers="2,3" pm:assignmentLock="true"/>'
                   '<bpmn:exclusiveGateway id="gw" default="back"/><bpmn:endEvent id="e"/>',
                   ("f1", "start", "t"), ("f2", "t", "gw"), ("done", "gw", "e", "done == true"), ("back", "gw", "t"))
    instance, env = start(process, {"done": False})
    assert instance.tokens[-1].user_id == 2
    complete(process, instance, env, "t")
    assert (instance.tokens[-1].element_id, instance.tokens[-1].user_id) == ("t", 2)  # not 3: locked


@pytest.mark.parametrize("rule", ["self_service", "previous_task_assignee", "user_by_id", "process_variable",
                                  "rule_expression", "script"])
def test_unsupported_assignments_are_rejected_clearly(rule: str) -> None:
    message = error_of(f'pm:assignment="{rule}"')
    if rule == "self_service":
        assert message == 'pm_sandbox does not support self-service tasks (task "T" (t))'
    else:
        assert message == (f'pm_sandbox does not support pm:assignment="{rule}" (task "T" (t)); supported: '
                           "requester, user, group, user_group, process_manager")


def test_the_self_service_toggle_is_rejected() -> None:
    message = error_of('pm:assignment="user_group" pm:assignedGroups="7" pm:config="{&quot;selfService&quot;:true}"',
                       groups={7: [2]})
    assert message == 'pm_sandbox does not support self-service tasks (task "T" (t))'


def test_a_request_without_requester_cannot_assign_to_the_requester() -> None:
    instance, _ = start(task(""), user=None)
    assert instance.errors is not None
    assert instance.errors[0]["message"] == engine.NO_REQUESTER


@pytest.mark.parametrize(("attributes", "due", "risk"), [
    ("", "2025-02-03 12:00:00", "2025-02-02 14:24:00"),  # 72 hours, risk at 70%
    ('pm:dueIn="24"', "2025-02-01 12:00:00", "2025-02-01 04:48:00"),
    ('pm:dueIn="1.5"', "2025-01-31 13:30:00", "2025-01-31 13:03:00"),
    ('pm:dueIn="0"', None, None),
    ('pm:dueIn=""', None, None),
])
def test_due_dates_as_processmaker_computes_them(attributes: str, due: str | None, risk: str | None) -> None:
    instance, _ = start(task(attributes))
    token = instance.tokens[-1]
    assert (token.due_at, token.riskchanges_at, token.initiated_at) == (due, risk, None)


def test_a_due_date_that_is_no_number_is_an_error() -> None:
    assert error_of('pm:dueIn="soon"') == 'pm:dueIn="soon" on task "T" (t) is not a number of hours'


# ---- script tasks, unsupported elements, cancel and terminate ------------------------------------------------


def test_a_script_task_completes_without_running_and_leaves_a_marker() -> None:
    process = bpmn(START + '<bpmn:scriptTask id="s" name="Notify" pm:scriptRef="12"/><bpmn:task id="t"/>'
                   '<bpmn:endEvent id="e"/>', ("f1", "start", "s"), ("f2", "s", "t"), ("f3", "t", "e"))
    instance, _ = start(process, {"x": 1})
    assert trail(instance) == [("start", "startEvent", "TRIGGERED"), ("s", "scriptTask", "CLOSED"),
                               ("t", "task", "ACTIVE")]
    assert instance.data[engine.SCRIPT_MARKER] == [
        {"element_id": "s", "element_name": "Notify", "script_id": 12, "skipped": True}]
    assert instance.tokens[1].user_id is None and instance.tokens[1].completed_at == "2025-01-31 12:00:00"


@pytest.mark.parametrize(("node", "expected"), [
    ('<bpmn:intermediateCatchEvent id="x" name="Wait"><bpmn:timerEventDefinition/></bpmn:intermediateCatchEvent>',
     ('pm_sandbox does not run intermediateCatchEvent "Wait" (x); supported: none start events, task, userTask, '
     "manualTask, scriptTask, exclusiveGateway, parallelGateway, endEvent (plain or terminate)")),
    ('<bpmn:callActivity id="x" name="Sub"/>', 'pm_sandbox does not run callActivity "Sub" (x); supported:'),
    ('<bpmn:inclusiveGateway id="x"/>', "pm_sandbox does not run inclusiveGateway (x); supported:"),
    ('<bpmn:endEvent id="x"><bpmn:errorEventDefinition/></bpmn:endEvent>',
     "pm_sandbox does not run end events with a errorEventDefinition (endEvent (x))"),
    ('<bpmn:task id="x"><bpmn:multiInstanceLoopCharacteristics/></bpmn:task>',
     "pm_sandbox does not run multiInstanceLoopCharacteristics (on task (x))"),
])
def test_unsupported_elements_put_the_request_in_error(node: str, expected: str) -> None:
    process = bpmn(START + node + '<bpmn:endEvent id="e"/>', ("f1", "start", "x"), ("f2", "x", "e"))
    instance, _ = start(process)
    assert instance.status == "ERROR"
    assert instance.errors is not None
    assert instance.errors[0]["message"].startswith(expected)
    assert (instance.errors[0]["element_id"], trail(instance)[-1][0], trail(instance)[-1][2]) == ("x", "x", "FAILING")


def test_a_boundary_event_on_a_task_is_not_run() -> None:
    process = bpmn(START + '<bpmn:task id="t" name="T"/><bpmn:boundaryEvent id="b" attachedToRef="t">'
                   '<bpmn:timerEventDefinition/></bpmn:boundaryEvent><bpmn:endEvent id="e"/>',
                   ("f1", "start", "t"), ("f2", "t", "e"))
    instance, _ = start(process)
    assert instance.errors is not None
    assert instance.errors[0]["message"] == 'pm_sandbox does not run boundary events (b on task "T" (t))'


def test_conditions_on_flows_that_leave_a_task_are_rejected() -> None:
    process = bpmn(START + '<bpmn:task id="t"/><bpmn:endEvent id="e"/>', ("f1", "start", "t"),
                   ("f2", "t", "e", "x == 1"))
    instance, env = start(process)
    complete(process, instance, env, "t")
    assert instance.errors is not None
    assert instance.errors[0]["message"].startswith("pm_sandbox does not evaluate conditions on sequence flows leaving")


def test_cancel_closes_the_active_tokens_and_terminate_completes_a_request_in_error() -> None:
    instance, env = start(PARALLEL)
    Engine(PARALLEL, instance, env).cancel()
    assert [t.status for t in instance.tokens] == ["TRIGGERED", "CLOSED", "CLOSED", "CLOSED"]
    broken, env = start(task('pm:assignment="self_service"'))
    Engine(task(""), broken, env).terminate()
    assert (broken.status, broken.completed_at, broken.tokens[-1].status) == (
        "COMPLETED", "2025-01-31 12:00:00", "CLOSED")
    assert "_user" not in broken.data


# ---- expressions ---------------------------------------------------------------------------------------------

DATA = {"approved": True, "amount": "150", "count": 3, "ratio": 0.5, "name": "Ann", "none": None, "zero": "0",
        "request": {"type": "change", "items": 2, "owner": {"name": "Bo"}}, "tags": ["a", "b"], "empty": {}}


@pytest.mark.parametrize(("expression", "expected"), [
    ("approved == true", True), ("approved", True), ("not approved", False), ("!approved", False),
    ("amount > 100", True), ("amount == 150", True), ('amount == "150.0"', True), ("amount === 150", False),
    ("count >= 3 and count < 4", True), ("count > 3 || ratio <= 0.5", True), ("count != 3", False),
    ('name == "Ann"', True), ("name == 'ann'", False), ('name < "Bob"', True), ('name == 0', False),
    ("none == null", True), ("none == false", True), ('none == ""', True), ('none == "0"', False),
    ("zero == false", True), ('zero == 0', True), ("zero", False),
    ('request.type == "change"', True), ("request.owner.name == 'Bo'", True), ("request.items > 1", True),
    ("(approved or false) and not (count == 4)", True), ("not count == 3", False), ("not approved == false", True),
    ("count > -1", True), ("ratio == .5", True), ("1e3 == 1000", True), ("TRUE == true and NULL == null", True),
    ('"a\\"b" == \'a"b\'', True), ("tags == tags", True), ("request == request", True), ("", True), ("   ", True),
])
def test_expressions_evaluate_like_processmaker(expression: str, expected: bool) -> None:
    assert expressions.condition_holds(expression, DATA) is expected


@pytest.mark.parametrize(("expression", "message"), [
    ("amount + 1 > 2", 'the operator "+" (position 8) is not supported by pm_sandbox'),
    ("count * 2 == 6", 'the operator "*" (position 7) is not supported by pm_sandbox'),
    ('name ~ "x" == "Annx"', 'the operator "~" (position 6) is not supported by pm_sandbox'),
    ('name in ["Ann"]', 'the operator "in" (position 6) is not supported by pm_sandbox'),
    ('name matches "/A/"', 'the operator "matches" (position 6) is not supported by pm_sandbox'),
    ('name starts with "A"', 'the operator "starts" (position 6) is not supported by pm_sandbox'),
    ("approved ? 1 : 2", 'the operator "?" (position 10) is not supported by pm_sandbox'),
    ('lowercase(name) == "ann"', 'the function call "lowercase()" (position 1) is not supported by pm_sandbox'),
    ('name.upper() == "ANN"', 'the method call ".upper()" (position 6) is not supported by pm_sandbox'),
    ('tags[0] == "a"', 'the operator "[" (position 5) is not supported by pm_sandbox'),
    ("{{ amount }} > 100", "Mustache templates ({{ ... }}) in conditions are not supported by pm_sandbox"),
    ("-count < 0", 'the operator "-" (position 1) is not supported by pm_sandbox'),
])
def test_unsupported_expressions_are_rejected(expression: str, message: str) -> None:
    with pytest.raises(expressions.Unsupported) as raised:
        expressions.evaluate(expression, DATA)
    assert str(raised.value) == message


@pytest.mark.parametrize(("expression", "message"), [
    ("missing == 1", 'Variable "missing" is not valid around position 1 for expression `missing == 1`.'),
    ("request.nope == 1", "Undefined property: stdClass::$nope"),
    ("name.first == 1", 'Unable to get property "first" of non-object "name".'),
    ("empty.x == 1", 'Unable to get property "x" of non-object "empty".'),  # {} is PHP's empty array
    ("(approved", "An opened parenthesis is not properly closed around position 10 for expression `(approved`."),
    ("approved ==", "Unexpected end of expression around position 12 for expression `approved ==`."),
])
def test_evaluation_errors_are_processmakers(expression: str, message: str) -> None:
    with pytest.raises(expressions.EvaluationFailed) as raised:
        expressions.evaluate(expression, DATA)
    assert str(raised.value) == message


@pytest.mark.parametrize(("a", "b", "result"), [
    (None, "", 0), (None, "a", -1), (None, False, 0), (True, "a", 0), ("abc", 0, 1), ("10", "9", 1),
    ("10", "9a", -1), (1, 1.0, 0), (" 1", 1, 0), ("1 ", 1, 0), ([1], 5, 1), ([], False, 0),
])
def test_php8_comparison(a: Any, b: Any, result: int) -> None:
    assert expressions.compare(a, b) == result
