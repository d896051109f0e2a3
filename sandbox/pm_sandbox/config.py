"""Run-time settings of one sandbox process (filled from the command line)."""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field

ONE_YEAR = 365 * 24 * 3600  # Passport's P1Y (a leap day adds one more day; the sandbox ignores that)


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 0  # 0 = pick a free port; the real one is written to the credentials file
    db_path: str = ""  # empty = a temporary file removed at exit
    credentials_path: str | None = None
    public_url: str | None = None  # overrides the URL written to the credentials file
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_client_ca: str | None = None  # when set, client certificates are required and checked
    allow_remote: bool = False
    threads: int = 16
    access_token_ttl: int = ONE_YEAR
    refresh_token_ttl: int = ONE_YEAR
    personal_access_token_ttl: int = ONE_YEAR
    auth_code_ttl: int = 600  # Passport hard-codes PT10M
    bcrypt_cost: int = 4  # ProcessMaker uses Laravel's default 10 (or 12); low keeps tests fast
    rsa_bits: int = 2048  # passport:keys uses 4096; 2048 keeps start-up well under a second
    token_rate_limit: int = 60  # requests per minute per client IP on /oauth/token (Laravel's throttle)
    max_body_bytes: int = 32 * 1024 * 1024
    read_timeout: float = 10.0  # seconds a client has to send a request's head, and then its body
    operator_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    admin_username: str = "admin"
    admin_password: str | None = None  # None = random, written to the credentials file
    redirect_uri: str = "http://127.0.0.1:8976/callback"
    app_name: str = "ProcessMaker"
    log_requests: bool = False
    executor_build_seconds: float = 0.5  # how long an emulated script executor image build takes

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"

    def check(self) -> None:
        """Refuse settings that cannot work or are unsafe, with a message that names the option."""
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("--tls-cert and --tls-key must be given together")
        if self.tls_client_ca and not self.tls_cert:
            raise ValueError("--tls-client-ca needs --tls-cert and --tls-key")
        if not self.allow_remote and not _is_loopback(self.host):
            raise ValueError(
                f"--host {self.host} is not a loopback address; the sandbox holds test credentials and "
                "should not be reachable from other machines (pass --allow-remote to bind it anyway)"
            )
        if not 4 <= self.bcrypt_cost <= 31:
            raise ValueError("--bcrypt-cost must be between 4 and 31")
        ttl_options = {  # setting -> the command-line option that sets it
            "access_token_ttl": "--token-ttl",
            "refresh_token_ttl": "--refresh-ttl",
            "personal_access_token_ttl": "--pat-ttl",
            "auth_code_ttl": "--code-ttl",
            "read_timeout": "--read-timeout",
        }
        for name, option in ttl_options.items():
            if getattr(self, name) <= 0:
                raise ValueError(f"{option} must be a positive number of seconds")
        if not 0 <= self.executor_build_seconds <= 3600:
            raise ValueError("--executor-build-seconds must be between 0 and 3600")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
