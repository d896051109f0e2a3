#!/usr/bin/env python3
"""`make demo`: start a pm_sandbox on a free loopback port, run playbooks/demo.yml, stop it.

Arguments are passed on to ansible-playbook (``tools/demo.py -vvv``).

The playbook gets the sandbox's address and seeded credentials through PM_* environment
variables (the same ones the collection's options read), so nothing secret is on a command line.
The authorization code flow runs unattended: tools/approve_in_browser.py plays the person who
signs in and approves the consent page, and prints the code the playbook exchanges.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

# tests/conftest.py links the checkout as processmaker.core (run from anywhere, no install)
from conftest import ensure_collection_link
from pm_sandbox.testing import SandboxProcess


def main() -> int:
    workdir = REPO / ".demo"
    workdir.mkdir(exist_ok=True)
    for stale in workdir.glob("sandbox.sqlite*"):
        stale.unlink()  # every demo starts from a freshly seeded sandbox
    token_cache = workdir / "token-cache"  # the pm_token lookup's cache, private to this demo
    shutil.rmtree(token_cache, ignore_errors=True)
    token_cache.mkdir(mode=0o700)
    collections = ensure_collection_link()
    print("==> starting pm_sandbox on a free loopback port", flush=True)
    with SandboxProcess(workdir=str(workdir)) as sandbox:
        creds = sandbox.credentials
        print(f"==> pm_sandbox is up at {sandbox.url} (credentials in {sandbox.credentials_path})", flush=True)
        env = dict(os.environ)
        env.update(
            {
                "ANSIBLE_COLLECTIONS_PATH": str(collections),
                "ANSIBLE_CONFIG": str(REPO / "tools" / "ansible.cfg"),
                "PM_URL": creds["url"],
                "PM_CLIENT_ID": creds["password_client"]["client_id"],
                "PM_CLIENT_SECRET": creds["password_client"]["client_secret"],
                "PM_USERNAME": creds["admin"]["username"],
                "PM_PASSWORD": creds["admin"]["password"],
                "PM_CODE_CLIENT_ID": creds["authorization_code_client"]["client_id"],
                "PM_CODE_CLIENT_SECRET": creds["authorization_code_client"]["client_secret"],
                "PM_REDIRECT_URI": creds["authorization_code_client"]["redirect_uri"],
                "PM_SANDBOX_CREDENTIALS": str(sandbox.credentials_path),
                "PM_TOKEN_CACHE_DIR": str(token_cache),
            }
        )
        # the person of the authorization code flow; it prints the URL the browser was sent back to
        # (code and state), so the playbook checks the state too
        approve = " ".join(
            shlex.quote(part)
            for part in (sys.executable, str(REPO / "tools" / "approve_in_browser.py"), "--print", "callback_url")
        )
        command = [
            str(Path(sys.executable).with_name("ansible-playbook")),
            str(REPO / "playbooks" / "demo.yml"),
            "-e",
            json.dumps({"pm_approve_command": approve}),
            *sys.argv[1:],  # e.g. -vvv
        ]
        print("==> ansible-playbook playbooks/demo.yml"
              " -e pm_approve_command='tools/approve_in_browser.py --print callback_url'", flush=True)
        result = subprocess.run(command, check=False, env=env, cwd=REPO)
        counters = sandbox.counters()
        print("==> requests the sandbox served:", flush=True)
        for route, count in sorted(counters["requests"].items()):
            print(f"    {count:4d}  {route}")
        per_grant = ", ".join(f"{grant}: {count}" for grant, count in sorted(counters["tokens_issued"].items()))
        print(f"    tokens issued: {counters['tokens_issued_total']} ({per_grant})", flush=True)
    print("==> pm_sandbox stopped", flush=True)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
