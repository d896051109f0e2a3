#!/usr/bin/env python3
"""`make demo`: start a pm_sandbox on a free loopback port, run playbooks/demo.yml, stop it.

The playbook gets the sandbox's address and seeded credentials through PM_* environment
variables (the same ones the collection's options read), so nothing secret is on a command line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from conftest import ensure_collection_link  # noqa: E402  (the checkout as processmaker.core)

from pm_sandbox.testing import SandboxProcess  # noqa: E402


def main() -> int:
    workdir = REPO / ".demo"
    workdir.mkdir(exist_ok=True)
    for stale in workdir.glob("sandbox.sqlite*"):
        stale.unlink()  # every demo starts from a freshly seeded sandbox
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
                "PM_SANDBOX_CREDENTIALS": str(sandbox.credentials_path),
            }
        )
        command = [str(Path(sys.executable).with_name("ansible-playbook")), str(REPO / "playbooks" / "demo.yml")]
        print("==> " + " ".join(Path(part).name if "/" in part else part for part in command), flush=True)
        result = subprocess.run(command, env=env, cwd=REPO)
        counters = sandbox.counters()
        print("==> requests the sandbox served:", flush=True)
        for route, count in sorted(counters["requests"].items()):
            print(f"    {count:4d}  {route}")
        print(f"    tokens issued: {counters['tokens_issued_total']}", flush=True)
    print("==> pm_sandbox stopped", flush=True)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
