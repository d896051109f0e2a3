"""Stand-in for ansible-test's get-pip script (``~/.ansible/test/cache/get_pip_<version>.py``).

``ansible-test sanity --venv`` bootstraps pip in each virtualenv it creates by running a cached
get-pip script, which it otherwise downloads from a host this project's machines cannot reach.
This stand-in does the same job offline-first: it bootstraps the interpreter's bundled pip with
``ensurepip`` and then runs ``pip install`` with the arguments ansible-test passes (for example
``--disable-pip-version-check pip==24.2 --no-setuptools --no-wheel``), trusting the system CA
bundle explicitly because ansible-test strips ``PIP_*`` variables (PIP_CERT among them) from the
environment. ``tools/sanity.sh`` copies it into place; nothing else uses it.
"""

from __future__ import annotations

import os
import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel", "--no-pip"}
CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem")


def ca_bundle() -> str | None:
    for candidate in (os.environ.get("SSL_CERT_FILE"), os.environ.get("REQUESTS_CA_BUNDLE"), *CA_BUNDLES):
        if candidate and os.path.isfile(candidate):
            return candidate
    return None


def main() -> int:
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], check=True,
                   stdout=subprocess.DEVNULL)
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]
    bundle = ca_bundle()
    if bundle:
        command += ["--cert", bundle]
    packages = [arg for arg in args if not arg.startswith("-")]
    if not packages:
        return 0
    return subprocess.run(command + [arg for arg in args if arg != "--disable-pip-version-check"], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
