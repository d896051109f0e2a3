"""Precedence as Ansible applies it: task arguments > module_defaults group/processmaker.core.all >
PM_* environment, in a real ansible-playbook run against a scripted server on 127.0.0.1. The -vvv
output must not contain a secret."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from unit_helpers import Reply, token_body

COLLECTIONS_ROOT = Path(__file__).resolve().parents[1] / "output" / "collections"

PLAYBOOK = textwrap.dedent(
    """
    - hosts: localhost
      connection: local
      gather_facts: false
      module_defaults:
        group/processmaker.core.all:
          url: "{{ server_url }}"
          client_id: "2"
          client_secret: "{{ client_secret }}"
          username: admin
          password: "{{ password }}"
          api_path: /api/defaults
      tasks:
        - name: module_defaults beat the environment
          processmaker.core.pm_api:
            path: where
        - name: task arguments beat module_defaults
          processmaker.core.pm_api:
            path: where
            api_path: /api/task
        - name: a token is a task argument too, and beats the group's password login
          processmaker.core.pm_api:
            path: where
            access_token: "{{ given_token }}"

    - hosts: localhost
      connection: local
      gather_facts: false
      tasks:
        - name: the environment fills in what nothing else sets
          processmaker.core.pm_api:
            url: "{{ server_url }}"
            path: where
            access_token: "{{ given_token }}"
    """
)

SECRETS = {"client_secret": "cl13nt-s3cret-value", "password": "pa55-w0rd-value", "given_token": "given-t0ken-value"}


def test_precedence_and_no_secret_in_verbose_output(server, tmp_path):
    issued = token_body()
    server.on("POST", "/oauth/token", Reply(200, issued))
    for where in ("defaults", "task", "env"):
        server.on("GET", f"/api/{where}/where", Reply(200, {"where": where}))
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PM_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT), ANSIBLE_NOCOLOR="1", PM_API_PATH="/api/env",
               PM_TOKEN_CACHE_DIR=str(tmp_path / "cache"), ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    extra = [f"-e{key}={value}" for key, value in {**SECRETS, "server_url": server.url,
                                                   "ansible_python_interpreter": sys.executable}.items()]
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-vvv", *extra, str(playbook)],
        capture_output=True, text=True, env=env, timeout=240, check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    paths = [r.path for r in server.seen("GET")]
    assert paths == ["/api/defaults/where", "/api/task/where", "/api/defaults/where", "/api/env/where"]
    auth = [r.headers["Authorization"] for r in server.seen("GET")]
    assert auth[2] == auth[3] == "Bearer given-t0ken-value"
    assert auth[0] == "Bearer " + issued["access_token"]
    for secret in (*SECRETS.values(), issued["access_token"], issued["refresh_token"]):
        assert secret not in output
