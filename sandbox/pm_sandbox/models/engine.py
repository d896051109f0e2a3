"""The process engine: moves a request's tokens through a parsed definition, the way nayra and
ProcessMaker's TokenRepository record them. Pure: no HTTP and no SQL. The caller loads an ``Instance``
(the request and its tokens), gives an ``Environment`` for what lives elsewhere (users, group members,
the process manager, earlier assignments), runs ``start``/``complete``/``cancel``/``terminate``, and stores
what changed.

What a token looks like where it stops, as ProcessMaker records it:

==================  ==============  =====================================================================
element             element_type    status
==================  ==============  =====================================================================
start event         ``startEvent``  ``TRIGGERED`` (initiated_at = completed_at = now, user = requester)
task, user/manual   ``task``        ``ACTIVE`` until completed, then ``CLOSED`` (assigned user, due_at)
script task         ``scriptTask``  ``CLOSED`` at once: the sandbox runs no scripts (see below)
gateway             ``gateway``     ``ACTIVE`` while a parallel join waits, else ``CLOSED``
end event           ``end_event``   ``CLOSED``
==================  ==============  =====================================================================

Supported: none start events; ``task``/``userTask``/``manualTask`` with ``pm:assignment`` requester, user,
group, user_group or process_manager (``pm:assignedUsers``/``pm:assignedGroups``, round robin like
``Process::getNextUserFromGroupAssignment``, ``pm:assignmentLock``, the process manager when nobody is
assignable) and ``pm:dueIn`` hours (default 72); ``scriptTask`` (completed without running its script,
recorded in the request data under ``SCRIPT_MARKER``); ``exclusiveGateway`` with conditions
(``expressions.py``) and a default flow; ``parallelGateway`` fork and join; ``endEvent`` plain or with a
``terminateEventDefinition``. A token that reaches anything else (other events, call activities,
sub-processes, inclusive or event-based gateways, loops, boundary events, an unsupported assignment or
condition) puts the request in ``ERROR`` with a message naming the element: never a guess.

While an activity is active the request data holds ``_user`` (the assignee's attributes) and
``_request`` (the request's attributes); completing the activity removes both, as ProcessMaker does.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import expressions
from .definition import Definition, Element

SCRIPT_MARKER = "_sandbox_script_tasks"
HUMAN_TASKS = ("task", "userTask", "manualTask")
GATEWAYS = ("exclusiveGateway", "parallelGateway")
ELEMENT_TYPES = {
    "startEvent": "startEvent", "task": "task", "userTask": "task", "manualTask": "task",
    "scriptTask": "scriptTask", "serviceTask": "serviceTask", "callActivity": "callActivity",
    "exclusiveGateway": "gateway", "parallelGateway": "gateway", "inclusiveGateway": "gateway",
    "eventBasedGateway": "gateway", "endEvent": "end_event",
}
ASSIGNMENTS = ("requester", "user", "group", "user_group", "process_manager")
NO_MANAGER = "Task cannot be assigned since there is no Process Manager associated to the process."
NO_REQUESTER = "Task cannot be assigned to the requester since the request has no requester."
DEFAULT_DUE_IN = "72"


class EngineError(Exception):
    """A token cannot go on; the request goes to ERROR with this message."""

    def __init__(self, message: str, element: Element | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.element = element


@dataclass
class Token:
    element_id: str
    element_type: str
    element_name: str
    status: str
    key: int | None = None  # the row id once stored
    user_id: int | None = None
    completed_at: str | None = None
    due_at: str | None = None
    initiated_at: str | None = None
    riskchanges_at: str | None = None
    data: dict[str, Any] | None = None
    arrived_via: str | None = None  # the sequence flow the token came by (parallel joins count them)
    changed: bool = True  # to be written


@dataclass
class Instance:
    """A request as the engine sees it."""

    callable_id: str
    user_id: int | None
    status: str = "ACTIVE"
    data: dict[str, Any] = field(default_factory=dict)
    tokens: list[Token] = field(default_factory=list)
    errors: list[dict[str, Any]] | None = None
    completed_at: str | None = None


class Environment(Protocol):
    """What the engine asks of the world around the request."""

    def now(self) -> dt.datetime: ...

    def user_attributes(self, user_id: int) -> dict[str, Any] | None:
        """The user as ``User::attributesToArray()`` shows it, or None when there is no such user."""

    def group_users(self, group_ids: list[int]) -> list[int]:
        """``Process::getConsolidatedUsers``: the assignable users of the groups and their active subgroups."""

    def last_assignee(self, element_id: str) -> tuple[bool, int | None]:
        """Whether any earlier request of this process had a token at ``element_id``, and its user."""

    def manager_id(self) -> int | None:
        """The process manager of the request's process version."""

    def request_attributes(self) -> dict[str, Any]:
        """The request as ``ProcessRequest::attributesToArray()`` shows it (``_request`` in the data)."""


def timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def iso8601(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _ids(text: str | None) -> list[int]:
    """A comma-separated id list as the modeler writes it (``pm:assignedUsers="3,7"``)."""
    ids = []
    for part in (text or "").split(","):
        part = part.strip()
        if part.isdigit():
            ids.append(int(part))
    return ids


def _describe(element: Element) -> str:
    name = f' "{element.name}"' if element.name else ""
    return f"{element.tag}{name} ({element.id})"


class Engine:
    def __init__(self, definition: Definition, instance: Instance, env: Environment) -> None:
        self.definition = definition
        self.instance = instance
        self.env = env
        self._queue: deque[tuple[str, str | None]] = deque()

    # ---- what the API drives ---------------------------------------------------------------------
    def start(self, event_id: str) -> None:
        """Trigger a none start event: its token, then on along its flows."""
        event = self.definition.element(event_id)
        assert event is not None and event.tag == "startEvent"
        now = self._now()
        self.instance.tokens.append(Token(
            element_id=event.id, element_type="startEvent", element_name=event.name, status="TRIGGERED",
            user_id=self.instance.user_id, initiated_at=now, completed_at=now, data=dict(self.instance.data),
        ))
        self._run(lambda: self._leave(event))

    def complete(self, token: Token, data: dict[str, Any]) -> None:
        """A human task is done: its data goes into the request, then the token moves on."""
        element = self.definition.element(token.element_id)
        self.instance.data.update(data)
        self._close_activity(token)
        if element is None:
            self._fail(EngineError(f"The element {token.element_id} is not in the process definition"))
            return
        self._run(lambda: self._leave(element))

    def cancel(self) -> None:
        """CancelRequest: every active token is closed (the caller sets the request CANCELED)."""
        self._close_all()

    def terminate(self) -> None:
        """TerminateRequest, the manual completion of a request in ERROR."""
        self._close_all(("ACTIVE", "FAILING"))
        self._drop_metadata()
        self.instance.status = "COMPLETED"
        self.instance.completed_at = self._now()

    # ---- the loop ------------------------------------------------------------------------------------
    def _run(self, first: Any) -> None:
        try:
            first()
            while self._queue:
                element_id, via = self._queue.popleft()
                self._arrive(element_id, via)
        except EngineError as error:
            self._fail(error)
            return
        if self.instance.status == "ACTIVE" and not any(t.status == "ACTIVE" for t in self.instance.tokens):
            self.instance.status = "COMPLETED"
            self.instance.completed_at = self._now()

    def _now(self) -> str:
        return timestamp(self.env.now())

    def _fail(self, error: EngineError) -> None:
        """ProcessRequest::logError: the message goes in ``errors``, the request to ERROR, the token FAILING."""
        self._queue.clear()
        element = error.element
        if element is not None:
            token = next((t for t in reversed(self.instance.tokens)
                          if t.element_id == element.id and t.status == "ACTIVE"), None)
            if token is None:
                token = Token(element.id, ELEMENT_TYPES.get(element.tag, "event"), element.name, "FAILING")
                self.instance.tokens.append(token)
            token.status = "FAILING"
            token.changed = True
        self.instance.errors = [*(self.instance.errors or []), {
            "message": error.message,
            "body": "",
            "element_id": element.id if element else None,
            "element_name": element.name if element else None,
            "created_at": iso8601(self.env.now()),
        }]
        self.instance.status = "ERROR"

    # ---- moving ----------------------------------------------------------------------------------------
    def _leave(self, element: Element) -> None:
        """The element is done: a token goes down every outgoing flow (none: this path ends here)."""
        flows = self.definition.outgoing(element)
        for flow in flows:
            if flow.condition is not None and element.tag not in GATEWAYS:
                raise EngineError(
                    f"pm_sandbox does not evaluate conditions on sequence flows leaving a {element.tag} "
                    f"({flow.id} from {_describe(element)}); put an exclusive gateway before them", element)
        for flow in flows:
            self._queue.append((flow.target, flow.id))

    def _arrive(self, element_id: str, via: str | None) -> None:
        element = self.definition.element(element_id)
        if element is None:
            raise EngineError(f"The sequence flow {via} leads to {element_id}, which is not a flow node of the "
                              "process")
        if element.tag in HUMAN_TASKS or element.tag == "scriptTask":
            self._check_activity(element)
            if element.tag == "scriptTask":
                self._run_script_task(element)
            else:
                self._activate_task(element)
        elif element.tag == "exclusiveGateway":
            self._exclusive(element)
        elif element.tag == "parallelGateway":
            self._parallel(element, via)
        elif element.tag == "endEvent":
            self._end(element)
        else:
            raise EngineError(f"pm_sandbox does not run {_describe(element)}; supported: none start events, "
                              "task, userTask, manualTask, scriptTask, exclusiveGateway, parallelGateway, "
                              "endEvent (plain or terminate)", element)

    def _check_activity(self, element: Element) -> None:
        if element.loop is not None:
            raise EngineError(f"pm_sandbox does not run {element.loop} (on {_describe(element)})", element)
        boundary = self.definition.boundary_events(element)
        if boundary:
            raise EngineError(f"pm_sandbox does not run boundary events ({boundary[0].id} on {_describe(element)})",
                              element)

    # ---- activities ----------------------------------------------------------------------------------------
    def _due(self, element: Element) -> tuple[str | None, str | None]:
        """``dueIn`` hours (default 72) from now, and the risk date at 70% of it (TokenRepository)."""
        due = element.get("dueIn", DEFAULT_DUE_IN)
        if due in (None, "", "0"):
            return None, None
        try:
            hours = float(due)
        except ValueError:
            raise EngineError(f'pm:dueIn="{due}" on {_describe(element)} is not a number of hours', element) from None
        now = self.env.now()
        return timestamp(now + dt.timedelta(hours=hours)), timestamp(now + dt.timedelta(hours=hours * 0.7))

    def _put_metadata(self, user_id: int | None) -> None:
        """TokenRepository::addUserToData / addRequestToData."""
        self.instance.data["_user"] = self.env.user_attributes(user_id) if user_id is not None else None
        if not self.instance.data.get("_request"):
            self.instance.data["_request"] = self.env.request_attributes()

    def _drop_metadata(self) -> None:
        self.instance.data.pop("_user", None)
        self.instance.data.pop("_request", None)

    def _activate_task(self, element: Element) -> None:
        user_id = self._assignee(element)
        due_at, risk_at = self._due(element)
        self._put_metadata(user_id)
        self.instance.tokens.append(Token(
            element_id=element.id, element_type="task", element_name=element.name, status="ACTIVE",
            user_id=user_id, due_at=due_at, riskchanges_at=risk_at,
        ))

    def _close_activity(self, token: Token) -> None:
        self._drop_metadata()
        token.status = "CLOSED"
        token.completed_at = self._now()
        token.data = dict(self.instance.data)
        token.changed = True

    def _run_script_task(self, element: Element) -> None:
        """The sandbox has no script executor: the task completes at once and leaves a marker in the data."""
        due_at, risk_at = self._due(element)
        self._put_metadata(None)
        token = Token(element_id=element.id, element_type="scriptTask", element_name=element.name,
                      status="ACTIVE", due_at=due_at, riskchanges_at=risk_at)
        self.instance.tokens.append(token)
        reference = element.get("scriptRef")
        marker = self.instance.data.get(SCRIPT_MARKER)
        self.instance.data[SCRIPT_MARKER] = [*(marker if isinstance(marker, list) else []), {
            "element_id": element.id,
            "element_name": element.name,
            "script_id": int(reference) if reference and reference.isdigit() else (reference or None),
            "skipped": True,
        }]
        self._close_activity(token)
        self._leave(element)

    # ---- assignment ------------------------------------------------------------------------------------------
    def _assignee(self, element: Element) -> int | None:
        """Process::getNextUser for the assignment types the sandbox supports, then checkAssignment."""
        rule = element.get("assignment", "requester")
        config = self._config(element)
        if config.get("selfService") or rule == "self_service":
            raise EngineError(f"pm_sandbox does not support self-service tasks ({_describe(element)})", element)
        if rule not in (*ASSIGNMENTS, "", "manual"):
            raise EngineError(
                f'pm_sandbox does not support pm:assignment="{rule}" ({_describe(element)}); supported: '
                + ", ".join(ASSIGNMENTS), element)
        if str(element.get("assignmentLock", "false")).lower() in ("true", "1", "on", "yes"):
            locked = self._last_in_request(element.id)
            if locked is not None:
                return locked
        user_id: int | None = None
        if rule == "requester":
            if self.instance.user_id is None:
                raise EngineError(NO_REQUESTER, element)
            user_id = self.instance.user_id
        elif rule in ("user", "group", "user_group"):
            user_id = self._round_robin(element)
        elif rule == "process_manager":
            user_id = self.env.manager_id()
        if user_id is not None and self.env.user_attributes(user_id) is None:
            user_id = None  # User::where('id', $user)->first() found nobody
        if user_id is None:
            user_id = self.env.manager_id()
            if user_id is None or self.env.user_attributes(user_id) is None:
                raise EngineError(NO_MANAGER, element)
        return user_id

    @staticmethod
    def _config(element: Element) -> dict[str, Any]:
        try:
            config = json.loads(element.get("config") or "{}")
        except ValueError:
            return {}
        return config if isinstance(config, dict) else {}

    def _round_robin(self, element: Element) -> int | None:
        users = set(_ids(element.get("assignedUsers")))
        groups = _ids(element.get("assignedGroups"))
        if groups:
            users.update(self.env.group_users(groups))
        candidates = sorted(users)
        if not candidates:
            return None
        found, last = self._last_at(element.id)
        if found and last is not None:
            for candidate in candidates:
                if candidate > last:
                    return candidate
        return candidates[0]

    def _last_at(self, element_id: str) -> tuple[bool, int | None]:
        for token in reversed(self.instance.tokens):
            if token.element_id == element_id and token.key is None:
                return True, token.user_id
        return self.env.last_assignee(element_id)

    def _last_in_request(self, element_id: str) -> int | None:
        for token in reversed(self.instance.tokens):
            if token.element_id == element_id:
                return token.user_id
        return None

    # ---- gateways and events ------------------------------------------------------------------------------------
    def _gateway_token(self, element: Element, via: str | None) -> Token:
        token = Token(element_id=element.id, element_type="gateway", element_name=element.name, status="ACTIVE",
                      arrived_via=via)
        self.instance.tokens.append(token)
        return token

    def _pass(self, token: Token) -> None:
        token.status = "CLOSED"
        token.completed_at = self._now()
        token.changed = True

    def _exclusive(self, element: Element) -> None:
        token = self._gateway_token(element, None)
        default = element.get("default")
        chosen = None
        for flow in self.definition.outgoing(element):
            if flow.id == default:
                continue
            if flow.condition is None:
                chosen = flow
                break
            if flow.language not in (None, "", "FEEL"):
                raise EngineError(f'pm_sandbox evaluates FEEL conditions only; {flow.id} from {_describe(element)} '
                                  f'is in "{flow.language}"', element)
            try:
                holds = expressions.condition_holds(flow.condition, self.instance.data)
            except expressions.ExpressionError as error:
                raise EngineError(f"The condition of {flow.id} from {_describe(element)} could not be evaluated: "
                                  f"{error} (condition: {flow.condition.strip()})", element) from None
            if holds:
                chosen = flow
                break
        if chosen is None and default:
            chosen = self.definition.flows.get(default)
        if chosen is None:
            raise EngineError(f"No outgoing flow of {_describe(element)} matched and it has no default flow", element)
        self._pass(token)
        self._queue.append((chosen.target, chosen.id))

    def _parallel(self, element: Element, via: str | None) -> None:
        """Fork: a token down every outgoing flow. Join: wait until a token came by every incoming flow."""
        self._gateway_token(element, via)
        incoming = element.incoming
        waiting = [t for t in self.instance.tokens if t.element_id == element.id and t.status == "ACTIVE"]
        if len(incoming) > 1:
            consumed = []
            for flow_id in incoming:
                token = next((t for t in waiting if t.arrived_via == flow_id and t not in consumed), None)
                if token is None:
                    return  # still waiting for another branch
                consumed.append(token)
        else:
            consumed = waiting[-1:]
        for token in consumed:
            self._pass(token)
        for flow in self.definition.outgoing(element):  # conditions on a parallel gateway's flows are ignored
            self._queue.append((flow.target, flow.id))

    def _end(self, element: Element) -> None:
        definitions = element.event_definitions
        if definitions not in ([], ["terminateEventDefinition"]):
            raise EngineError(f"pm_sandbox does not run end events with a {definitions[0]} ({_describe(element)})",
                              element)
        now = self._now()
        self.instance.tokens.append(Token(
            element_id=element.id, element_type="end_event", element_name=element.name, status="CLOSED",
            completed_at=now,
        ))
        if definitions == ["terminateEventDefinition"]:
            self._queue.clear()
            self._close_all()

    def _close_all(self, statuses: tuple[str, ...] = ("ACTIVE",)) -> None:
        for token in self.instance.tokens:
            if token.status in statuses:
                token.status = "CLOSED"
                token.changed = True
