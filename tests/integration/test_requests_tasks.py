"""pm_request and pm_task through real ansible-playbook runs (-vvv, leak-checked) against a live sandbox,
and playbooks/approval.yml end to end. The process is the approval package the playbook imports
(playbooks/files/approval-package.json: start -> "Approve change", assigned to the group "Change
approvers" -> gateway on ``approved == true`` -> "Change approved" or "Change rejected"). What the modules
did is checked through the API (requests, tasks, the tokens at the end events) and the sandbox's request
counters: a wait reads the server once per poll, at most once per poll_interval, and stops at wait_timeout.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
import yaml
from pm_integration import (
    REPO_ROOT,
    LeakGuard,
    Runner,
    api_writes,
    assert_clean_failure,
    ok,
    save_result,
    served,
)
from pm_sandbox.testing import SandboxProcess

PACKAGE = REPO_ROOT / "playbooks" / "files" / "approval-package.json"
PLAYBOOK = REPO_ROOT / "playbooks" / "approval.yml"
PROCESS = "Change approval"
TASK, TASK_ID = "Approve change", "node_2"
APPROVED_END, REJECTED_END = "node_4", "node_5"
PASSWORD = "Appr0val-Gate-pa55!"


# --- the server, through the API ---------------------------------------------------------------------


def make_user(sandbox: SandboxProcess, username: str, password: str = PASSWORD) -> dict[str, Any]:
    response = sandbox.api("POST", "/users", json={
        "username": username, "firstname": username.title(), "lastname": "Test", "email": f"{username}@example.com",
        "password": password, "status": "ACTIVE"})
    assert response.status_code == 201, response.text
    return response.json()


def approval_world(sandbox: SandboxProcess, approver: str = "approver", password: str = PASSWORD) -> dict[str, Any]:
    """The approvers' group with one member, a non-member, and the approval package imported (the examples of
    pm_request and pm_task use it too)."""
    group = sandbox.api("POST", "/groups", json={"name": "Change approvers"}).json()
    approver_user, outsider = make_user(sandbox, approver, password), make_user(sandbox, "outsider", password)
    member = sandbox.api("POST", "/group_members", json={
        "group_id": group["id"], "member_id": approver_user["id"], "member_type": "ProcessMaker\\Models\\User"})
    assert member.status_code == 201, member.text
    imported = sandbox.api("POST", "/import/do-import", files={"file": ("package.json", PACKAGE.read_bytes())})
    assert imported.status_code == 200, imported.text
    return {"group": group, "approver": approver_user, "outsider": outsider, "process_id": imported.json()["processId"]}


def start(sandbox: SandboxProcess, process_id: int, data: dict[str, Any] | None = None) -> dict[str, Any]:
    response = sandbox.api("POST", f"/process_events/{process_id}?event=node_1", json=data or {})
    assert response.status_code == 201, response.text
    return response.json()


def request_of(sandbox: SandboxProcess, request_id: int) -> dict[str, Any]:
    response = sandbox.api("GET", f"/requests/{request_id}?include=data")
    assert response.status_code == 200, response.text
    return response.json()


def tasks_of(sandbox: SandboxProcess, request_id: int) -> list[dict[str, Any]]:
    return sandbox.api("GET", f"/tasks?process_request_id={request_id}").json()["data"]


def ended_at(sandbox: SandboxProcess, request_id: int) -> list[str]:
    """The end events the request's tokens reached (ProcessMaker's /requests/{id}/tokens?element_id=)."""
    return [end for end in (APPROVED_END, REJECTED_END)
            if sandbox.api("GET", f"/requests/{request_id}/tokens?element_id={end}").status_code == 200]


def requests_listed(sandbox: SandboxProcess) -> list[dict[str, Any]]:
    return sandbox.api("GET", "/requests?type=all&per_page=100").json()["data"]


# --- plays ---------------------------------------------------------------------------------------------


def request_play(args: str, *, user: str | None = None) -> str:
    """One pm_request task (``args``: its YAML arguments), its result saved as ``run``."""
    return _play("processmaker.core.pm_request", args, user)


def task_play(args: str, *, user: str | None = None) -> str:
    return _play("processmaker.core.pm_task", args, user)


def _play(module: str, args: str, user: str | None) -> str:
    login = f"""
      module_defaults:
        group/processmaker.core.all:
          username: {user}
          password: "{{{{ user_password }}}}"
""" if user else ""
    body = textwrap.indent(textwrap.dedent(args).strip(), " " * 12)
    return f"""
    - hosts: localhost
      gather_facts: false{login}
      tasks:
        - {module}:
{body}
          register: run
          ignore_errors: true
        {save_result("run")}
"""


def run_as(pb: Runner, text: str, *, args: list[str] | None = None) -> dict[str, Any]:
    ok(pb.play(text, extra_vars={"user_password": PASSWORD}, args=args))
    return pb.result("run")


@pytest.fixture
def world(clean_sandbox: SandboxProcess, leak_guard: LeakGuard) -> dict[str, Any]:
    leak_guard.add(PASSWORD, "the approvers' password")
    return approval_world(clean_sandbox)


# --- pm_request ----------------------------------------------------------------------------------------


def test_started_by_name_waits_for_its_task(pb: Runner, clean_sandbox: SandboxProcess, world: dict) -> None:
    result = run_as(pb, request_play(f"""
        process: {PROCESS}
        data: {{change: CHG-1, risk: low}}
        wait_for: {{task: {TASK}}}
        wait_timeout: 30
        poll_interval: 0.2"""))
    assert result["changed"] and not result.get("failed"), result
    assert (result["status"], result["event"], result["process_id"]) == ("ACTIVE", "node_1", world["process_id"])
    [request] = requests_listed(clean_sandbox)
    assert result["request_id"] == request["id"]
    assert {"change": "CHG-1", "risk": "low"}.items() <= request_of(clean_sandbox, request["id"])["data"].items()
    [task] = tasks_of(clean_sandbox, request["id"])
    assert (task["element_id"], task["status"], task["user_id"]) == (TASK_ID, "ACTIVE", world["approver"]["id"])
    assert [(t["id"], t["element_name"]) for t in result["tasks"]] == [(task["id"], TASK)]
    assert served(clean_sandbox.counters(), "POST /api/1.0/process_events/*") == 1


def test_completed_follows_the_request_and_returns_the_data(pb: Runner, clean_sandbox: SandboxProcess,
                                                           world: dict) -> None:
    request = start(clean_sandbox, world["process_id"], {"change": "CHG-2"})
    completed = run_as(pb, task_play(f"""
        request_id: "{request['id']}"
        task: {TASK}
        data: {{approved: true}}""", user="approver"))
    assert completed["changed"] and completed["request_status"] == "COMPLETED", completed
    assert completed["task"]["element_id"] == TASK_ID

    followed = run_as(pb, request_play(f"""
        request_id: "{request['id']}"
        state: completed
        wait_timeout: 10"""))
    assert not followed["changed"] and followed["status"] == "COMPLETED", followed
    assert followed["tasks"] == [] and followed["end_events"] == [
        {"element_id": APPROVED_END, "element_name": "Change approved"}]
    server = request_of(clean_sandbox, request["id"])
    assert server["status"] == "COMPLETED" and followed["data"] == server["data"]
    assert server["data"]["approved"] is True and server["data"]["change"] == "CHG-2"
    assert ended_at(clean_sandbox, request["id"]) == [APPROVED_END]


def test_the_rejection_by_task_id_reaches_the_other_end_event(pb: Runner, clean_sandbox: SandboxProcess,
                                                              world: dict) -> None:
    request = start(clean_sandbox, world["process_id"], {"change": "CHG-3"})
    [task] = tasks_of(clean_sandbox, request["id"])
    rejected = run_as(pb, task_play(f"""
        task_id: "{task['id']}"
        data: {{approved: false}}""", user="approver"))
    assert rejected["changed"] and rejected["request_status"] == "COMPLETED", rejected
    assert ended_at(clean_sandbox, request["id"]) == [REJECTED_END]
    assert request_of(clean_sandbox, request["id"])["data"]["approved"] is False

    unknown = run_as(pb, request_play("process: Straight through"))
    assert_clean_failure(unknown, "no process named 'Straight through'", "exact name")


def test_pm_task_is_idempotent(pb: Runner, clean_sandbox: SandboxProcess, world: dict) -> None:
    request = start(clean_sandbox, world["process_id"])
    [task] = tasks_of(clean_sandbox, request["id"])
    play = task_play(f"""
        request_id: "{request['id']}"
        task: {TASK_ID}
        data: {{approved: true}}""", user="approver")
    assert run_as(pb, play)["changed"]
    clean_sandbox.reset_counters()
    again = run_as(pb, play)
    assert not again["changed"] and not again.get("failed"), again
    assert again["task"]["id"] == task["id"] and again["task"]["status"] == "CLOSED"
    by_id = run_as(pb, task_play(f'task_id: "{task["id"]}"', user="approver"))
    assert not by_id["changed"] and not by_id.get("failed"), by_id
    assert api_writes(clean_sandbox.counters()) == {}
    assert [t["status"] for t in tasks_of(clean_sandbox, request["id"])] == ["CLOSED"]


def test_a_non_member_gets_processmakers_403_naming_the_assignee(pb: Runner, clean_sandbox: SandboxProcess,
                                                                 world: dict) -> None:
    request = start(clean_sandbox, world["process_id"])
    refused = run_as(pb, task_play(f"""
        request_id: "{request['id']}"
        task: {TASK}
        data: {{approved: true}}""", user="outsider"))
    # ProcessMaker shows a task, and its assignee, only to the assignee and administrators: the module says so
    message = assert_clean_failure(refused, "HTTP 403", "'outsider'", "connect as the assignee", "one of its members")
    assert refused["error"]["status"] == 403
    assert "This action is unauthorized" in message  # ProcessMaker's own message
    by_id = run_as(pb, task_play(f'task_id: "{tasks_of(clean_sandbox, request["id"])[0]["id"]}"', user="outsider"))
    assert_clean_failure(by_id, "HTTP 403", "This action is unauthorized", "'outsider'", "connect as the assignee")
    [task] = tasks_of(clean_sandbox, request["id"])
    assert task["status"] == "ACTIVE" and request_of(clean_sandbox, request["id"])["status"] == "ACTIVE"


def test_canceled_and_canceled_again(pb: Runner, clean_sandbox: SandboxProcess, world: dict) -> None:
    request = start(clean_sandbox, world["process_id"])
    play = request_play(f"""
        request_id: "{request['id']}"
        state: canceled""")
    assert run_as(pb, play)["changed"]
    assert request_of(clean_sandbox, request["id"])["status"] == "CANCELED"
    clean_sandbox.reset_counters()
    again = run_as(pb, play)
    assert not again["changed"] and again["status"] == "CANCELED", again
    assert api_writes(clean_sandbox.counters()) == {}

    # waiting for a request that was canceled ends at once, in one line
    waited = run_as(pb, request_play(f"""
        request_id: "{request['id']}"
        state: completed"""))
    assert_clean_failure(waited, f"request {request['id']}", "it ended", "CANCELED")
    assert waited["polls"] == 1


def test_check_mode_starts_nothing(pb: Runner, clean_sandbox: SandboxProcess, world: dict) -> None:
    clean_sandbox.reset_counters()
    predicted = run_as(pb, request_play(f"""
        process: {PROCESS}
        state: completed"""), args=["--check"])
    assert predicted["changed"] and predicted["event"] == "node_1" and "request_id" not in predicted, predicted
    assert requests_listed(clean_sandbox) == []
    assert api_writes(clean_sandbox.counters()) == {}


TWO_STARTS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:pm="http://processmaker.com/BPMN/2.0/Schema.xsd" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="ProcessId" name="Two doors" isExecutable="true">
    <bpmn:startEvent id="web" name="From the web"/>
    <bpmn:startEvent id="mail" name="By mail"/>
    <bpmn:startEvent id="timer" name="Nightly"><bpmn:timerEventDefinition/></bpmn:startEvent>
    <bpmn:endEvent id="end" name="Done"/>
    <bpmn:sequenceFlow id="f1" sourceRef="web" targetRef="end"/>
    <bpmn:sequenceFlow id="f2" sourceRef="mail" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_several_none_start_events_need_event(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    created = clean_sandbox.api("POST", "/processes", json={"name": "Two doors", "description": "d", "bpmn": TWO_STARTS})
    assert created.status_code == 201, created.text
    ambiguous = run_as(pb, request_play("process: Two doors"))
    assert_clean_failure(ambiguous, "2 start events", "web (From the web)", "mail (By mail)", "set event")
    assert "timer" not in ambiguous["msg"]  # a timer start event cannot be triggered through the API
    assert requests_listed(clean_sandbox) == []

    done = run_as(pb, request_play(f"""
        process: "{created.json()['id']}"
        event: mail
        state: completed
        data: {{via: mail}}"""))
    assert done["changed"] and done["status"] == "COMPLETED" and done["event"] == "mail", done
    [request] = requests_listed(clean_sandbox)
    assert request["status"] == "COMPLETED" and request_of(clean_sandbox, request["id"])["data"]["via"] == "mail"


# --- the wait's budget: one GET per poll, at most one poll per poll_interval, none past wait_timeout ---


@pytest.mark.parametrize("wait_for", ["state: completed", "wait_for: {task: Sign off}"], ids=["status", "task"])
def test_a_wait_polls_once_per_interval_and_stops_at_its_timeout(
        pb: Runner, clean_sandbox: SandboxProcess, world: dict, wait_for: str) -> None:
    request = start(clean_sandbox, world["process_id"])
    clean_sandbox.reset_counters()
    timed_out = run_as(pb, request_play(f"""
        request_id: "{request['id']}"
        {wait_for}
        wait_timeout: 3
        poll_interval: 1"""))
    assert_clean_failure(timed_out, f"request {request['id']}", "wait_timeout=3s reached", "it is ACTIVE",
                         f"open tasks: '{TASK}' (assigned to approver)")
    counters = clean_sandbox.counters()
    reads = {key: count for key, count in counters["requests"].items() if key.startswith("GET /api/")}
    # every API read was a poll, one GET per poll; 3 s at one per second: at most 3 (+1 for the first, at 0 s)
    assert sum(reads.values()) == timed_out["polls"] == served(counters, "GET /api/1.0/requests/*"), reads
    assert 2 <= timed_out["polls"] <= 4, timed_out["polls"]
    assert api_writes(counters) == {}


def test_bad_wait_options_fail_in_one_line(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    for args, needles in (
        ('request_id: "1"\nstate: completed\npoll_interval: 0', ("poll_interval", "from 0.1 to 3600")),
        ('request_id: "1"\nstate: completed\nwait_timeout: 100000', ("wait_timeout", "from 1 to 86400")),
        ("process: x\nstate: canceled", ("state=canceled needs request_id",)),
        ('request_id: "1"\nstate: completed\nwait_for: {}', ("wait_for needs status or task",)),
    ):
        assert_clean_failure(run_as(pb, request_play(args)), *needles)
    assert clean_sandbox.counters()["requests"].get("GET /api/1.0/requests/{request}") is None


# --- playbooks/approval.yml, one ansible-playbook run ------------------------------------------------


def run_approval(pb: Runner, leak_guard: LeakGuard, **extra: Any) -> Any:
    leak_guard.add(PASSWORD, "the approver's password")
    return pb.run(PLAYBOOK, extra_vars={"approval_approver_password": PASSWORD, "approval_poll_interval": 0.5,
                                        **extra})


def the_request(sandbox: SandboxProcess) -> dict[str, Any]:
    [request] = requests_listed(sandbox)
    return request_of(sandbox, request["id"])


@pytest.mark.parametrize("decision", [True, False], ids=["approved", "rejected"])
def test_approval_playbook(pb: Runner, clean_sandbox: SandboxProcess, leak_guard: LeakGuard, decision: bool) -> None:
    run = run_approval(pb, leak_guard, decision=decision)
    request = the_request(clean_sandbox)
    assert request["status"] == "COMPLETED" and request["data"]["approved"] is decision, request
    assert request["data"]["change"] == "CHG-1042" and request["data"]["approved_by"] == "approver"
    assert ended_at(clean_sandbox, request["id"]) == [APPROVED_END if decision else REJECTED_END]
    [task] = tasks_of(clean_sandbox, request["id"])
    approver = next(u for u in clean_sandbox.api("GET", "/users").json()["data"] if u["username"] == "approver")
    assert task["status"] == "CLOSED" and task["user_id"] == approver["id"]  # the group's member completed it
    [group] = [g for g in clean_sandbox.api("GET", "/groups").json()["data"] if g["name"] == "Change approvers"]
    bpmn = clean_sandbox.api("GET", f"/processes/{request['process_id']}/bpmn").text
    assert f'pm:assignedGroups="{group["id"]}"' in bpmn  # the package's group, resolved here by name
    end = "Change approved" if decision else "Change rejected"
    shown = (f"request {request['id']} is COMPLETED: CHG-1042 {'approved' if decision else 'rejected'} by approver,"
             f' at the end event \\"{end}\\"')
    assert shown in run.stdout
    if decision:
        ok(run)
        assert "promote CHG-1042" in run.stdout
    else:
        assert run.returncode == 2 and run.recap()["failed"] == 1, run.tail()
        assert "CHG-1042 was rejected by approver: not promoted" in run.stdout
        assert "promote CHG-1042" not in run.stdout


def test_approval_playbook_non_member_is_refused(pb: Runner, clean_sandbox: SandboxProcess,
                                                 leak_guard: LeakGuard) -> None:
    deputy = make_user(clean_sandbox, "deputy")  # the group's only member; the playbook's approver is not one
    run = run_approval(pb, leak_guard, approval_members=["deputy"])
    assert run.returncode == 2 and run.recap()["failed"] == 1 and run.recap()["rescued"] == 1, run.tail()
    request = the_request(clean_sandbox)
    assert request["status"] == "CANCELED"  # the pipeline canceled it, which ended the wait
    [task] = tasks_of(clean_sandbox, request["id"])
    assert task["user_id"] == deputy["id"] and "approved" not in request["data"]  # nobody decided
    line = next(line for line in run.stdout.splitlines() if "was not decided" in line)
    for needle in ("HTTP 403", "This action is unauthorized", "'approver'", "assigned to deputy"):
        assert needle in line, line


def test_approval_playbook_does_not_use_pm_api() -> None:
    plays = yaml.safe_load(PLAYBOOK.read_text())
    modules = {key for play in plays for task in _tasks(play["tasks"]) for key in task if "." in key}
    assert {"processmaker.core.pm_package", "processmaker.core.pm_resource", "processmaker.core.pm_request",
            "processmaker.core.pm_task"} <= modules and "processmaker.core.pm_api" not in modules


def _tasks(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [inner for task in tasks for inner in (_tasks(task["block"] + task.get("rescue", []))
                                                  if "block" in task else [task])]
