"""The leak check itself: it must notice a token in the output, and accept one printed on purpose."""

from __future__ import annotations

from pm_integration import LeakGuard, Runner, keep_secret, ok
from pm_sandbox.testing import SandboxProcess


def test_a_printed_token_is_noticed_unless_printed_on_purpose(pb: Runner, sandbox: SandboxProcess,
                                                              leak_guard: LeakGuard) -> None:
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - processmaker.core.pm_token:
              register: login
              no_log: true
            {keep_secret("login")}
            - name: Print the token on purpose
              ansible.builtin.debug:
                msg: "{{{{ login.access_token }}}}"
    """))
    problems = leak_guard.leaks()
    assert any("secret from login.json appears" in problem for problem in problems), problems
    assert any("a JWT access token appears" in problem for problem in problems), problems
    assert all("refresh" not in problem for problem in problems)  # only the access token was printed
    leak_guard.allow(pb.secret("login")["access_token"])
    assert leak_guard.leaks() == []


def test_a_registered_result_without_no_log_shows_the_token_at_vvv(pb: Runner, sandbox: SandboxProcess,
                                                                     leak_guard: LeakGuard) -> None:
    """Why the playbooks put no_log on pm_token tasks: Ansible prints results at -vvv."""
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - processmaker.core.pm_token:
              register: login
            {keep_secret("login")}
    """))
    login = pb.secret("login")
    problems = leak_guard.leaks()
    assert any("a JWT access token appears" in problem for problem in problems), problems
    assert any("an opaque refresh token/code appears" in problem for problem in problems), problems
    leak_guard.allow(login["access_token"])
    leak_guard.allow(login["refresh_token"])
    assert leak_guard.leaks() == []


def test_sandbox_secrets_are_watched(pb: Runner, sandbox: SandboxProcess, leak_guard: LeakGuard) -> None:
    ok(pb.play("""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Print the admin password on purpose
              ansible.builtin.debug:
                msg: "{{ lookup('ansible.builtin.env', 'PM_PASSWORD') }}"
    """))
    assert any("admin password appears" in problem for problem in leak_guard.leaks())
    leak_guard.allow(sandbox.credentials["admin"]["password"])
    assert leak_guard.leaks() == []
