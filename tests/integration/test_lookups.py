"""The pm_token and pm_api lookups: one token per credential across hosts, forks and tasks; options;
errors. Token requests are counted by the sandbox."""

from __future__ import annotations

import stat

from pm_integration import Runner, assert_clean_failure, ok, save_result, served
from pm_sandbox.testing import SandboxProcess

WRONG_PASSWORD = "Not-The-Admin-Password-7!"


def inventory(pb: Runner, hosts: int) -> str:
    lines = ["all:", "  vars:", "    ansible_connection: local", "  hosts:"]
    lines += [f"    host{number:02d}:" for number in range(1, hosts + 1)]
    path = pb.tmp / "inventory.yml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


HOSTS, FORKS = 8, 4  # test_concurrency's 50 hosts and 25 forks run in make test-deep


def test_hosts_three_lookups_forks_one_token(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    run = ok(pb.play("""
        - hosts: all
          gather_facts: false
          tasks:
            - name: 1st lookup, used to call the API from every host
              processmaker.core.pm_api:
                path: users
                access_token: "{{ lookup('processmaker.core.pm_token') }}"
            - name: 2nd lookup
              ansible.builtin.set_fact:
                token_digest: "{{ lookup('processmaker.core.pm_token') | hash('sha256') }}"
            - name: 3rd lookup, through the pm_api lookup (same cache)
              ansible.builtin.set_fact:
                admin_name: "{{ lookup('processmaker.core.pm_api', 'users/1').username }}"
            - name: Save what each host saw (a digest of the token, not the token), in-process
              save_test_result:
                content: "{{ {'digest': token_digest, 'admin': admin_name} | to_json }}"
                dest: "{{ results_dir }}/{{ inventory_hostname }}.json"
    """, inventory=inventory(pb, HOSTS), args=["--forks", str(FORKS)]))
    assert all(run.recap(f"host{number:02d}")["ok"] == 4 for number in range(1, HOSTS + 1)), run.tail()
    counters = clean_sandbox.counters()
    assert counters["tokens_issued_total"] == 1, counters["tokens_issued"]
    assert served(counters, "POST /oauth/token") == 1
    assert served(counters, "GET /api/1.0/users") == HOSTS
    assert served(counters, "GET /api/1.0/users/*") == HOSTS
    seen = [pb.result(f"host{number:02d}") for number in range(1, HOSTS + 1)]
    assert {item["digest"] for item in seen} == {seen[0]["digest"]}
    assert {item["admin"] for item in seen} == {"admin"}
    # the cache: a private directory, private files
    assert stat.S_IMODE(pb.cache_dir.stat().st_mode) == 0o700
    files = [path for path in pb.cache_dir.iterdir() if path.suffix == ".json"]
    assert files and all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)

    # a second run reuses the cached token: no token request at all
    clean_sandbox.reset_counters()
    ok(pb.play("""
        - hosts: localhost
          gather_facts: false
          tasks:
            - processmaker.core.pm_api:
                path: users
                access_token: "{{ lookup('processmaker.core.pm_token') }}"
    """))
    assert clean_sandbox.counters()["tokens_issued_total"] == 0


def test_cache_false_asks_every_time(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    ok(pb.play("""
        - hosts: localhost
          gather_facts: false
          tasks:
            - processmaker.core.pm_api:
                path: users
                access_token: "{{ lookup('processmaker.core.pm_token', cache=false) }}"
              loop: [1, 2, 3]
    """))
    assert clean_sandbox.counters()["tokens_issued"] == {"password": 3}
    assert not pb.cache_dir.exists() or not any(pb.cache_dir.iterdir())


def test_lookup_option_precedence_kwargs_over_vars_over_env(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    pb.guard.add(WRONG_PASSWORD, "wrong password")
    admin_password = clean_sandbox.credentials["admin"]["password"]
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: pm_password (a variable, from -e) beats PM_PASSWORD (wrong, in the environment)
              ansible.builtin.set_fact:
                users_total: "{{{{ lookup('processmaker.core.pm_api', 'users').meta.total }}}}"
            - name: a keyword argument beats pm_password
              ansible.builtin.set_fact:
                never: "{{{{ lookup('processmaker.core.pm_token', password=wrong_password, cache=false) }}}}"
              register: wrong
              ignore_errors: true
            - name: a lookup cannot run the authorization code flow
              ansible.builtin.set_fact:
                never: "{{{{ lookup('processmaker.core.pm_token', grant_type='authorization_code') }}}}"
              register: code_flow
              ignore_errors: true
            - name: the pm_api lookup needs a path
              ansible.builtin.set_fact:
                never: "{{{{ lookup('processmaker.core.pm_api') }}}}"
              register: no_path
              ignore_errors: true
            - name: an API error through the lookup
              ansible.builtin.set_fact:
                never: "{{{{ lookup('processmaker.core.pm_api', 'users/987654') }}}}"
              register: not_found
              ignore_errors: true
            - name: several paths, one body each
              ansible.builtin.set_fact:
                bodies: "{{{{ query('processmaker.core.pm_api', 'users/1', '/api/1.0/groups') }}}}"
            {save_result("users_total")}
            {save_result("wrong")}
            {save_result("code_flow")}
            {save_result("no_path")}
            {save_result("not_found")}
            {save_result("bodies")}
    """, env=pb.env(PM_PASSWORD=WRONG_PASSWORD),
        extra_vars={"pm_password": admin_password, "wrong_password": WRONG_PASSWORD}))
    assert int(pb.result("users_total")) == 1
    assert_clean_failure(pb.result("wrong"), "processmaker.core.pm_token", "HTTP 400", "credentials were incorrect")
    assert_clean_failure(pb.result("code_flow"), "cannot run the authorization code flow", "pm_token module")
    assert_clean_failure(pb.result("no_path"), "needs at least one API path")
    assert_clean_failure(pb.result("not_found"), "processmaker.core.pm_api", "HTTP 404", "users/987654")
    users_body, groups_body = pb.result("bodies")
    assert users_body["username"] == "admin" and groups_body["meta"]["total"] == 0
    counters = clean_sandbox.counters()
    assert counters["tokens_issued"] == {"password": 1}  # the right credential, once (cached)
    assert served(counters, "POST /oauth/token") == 2  # and the wrong password, refused


def test_templated_pm_variables_are_resolved(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    """pm_* variables are usually templates (the lookups' own EXAMPLES set pm_url from an env lookup).

    Variables given with -e are plain values (see the precedence test); play and task variables are
    templates the lookup must render before using them.
    """
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          vars:
            pm_url: "{{{{ lookup('ansible.builtin.env', 'PM_URL') }}}}"
            pm_username: "{{{{ 'ad' ~ 'min' }}}}"
          tasks:
            - name: The lookup must see the values, not the templates
              ansible.builtin.set_fact:
                admin_name: "{{{{ lookup('processmaker.core.pm_api', 'users/1').username }}}}"
            {save_result("admin_name")}
    """))
    assert pb.result("admin_name") == "admin"
