"""``pm-sandbox serve ...``: the command line of the sandbox."""

from __future__ import annotations

import argparse
import os
import sys

from .config import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pm-sandbox", description="A ProcessMaker 4 compatible API server for tests.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the server in the foreground (SIGTERM or Ctrl-C stops it)")
    defaults = Settings(operator_key="")
    serve.add_argument("--host", default=defaults.host, help="address to bind (loopback only unless --allow-remote)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind; 0 picks a free port (default 8000)")
    serve.add_argument("--db", default="", help="SQLite file (kept between runs); default: a temporary file")
    serve.add_argument("--credentials", help="write URL, admin login, client ids/secrets and operator key here (0600); "
                       "default: next to the database (<db name>.credentials.json)")
    serve.add_argument("--public-url", help="URL to write to the credentials file instead of the bound address")
    serve.add_argument("--tls-cert", help="PEM certificate (chain) to serve HTTPS")
    serve.add_argument("--tls-key", help="PEM private key for --tls-cert")
    serve.add_argument("--tls-client-ca", help="require client certificates signed by this CA bundle")
    serve.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    serve.add_argument("--threads", type=int, default=defaults.threads, help="worker threads (default 16)")
    serve.add_argument("--token-ttl", type=int, default=defaults.access_token_ttl,
                       help="access token lifetime in seconds (default 1 year, as Passport)")
    serve.add_argument("--refresh-ttl", type=int, default=defaults.refresh_token_ttl,
                       help="refresh token lifetime in seconds (default 1 year)")
    serve.add_argument("--pat-ttl", type=int, default=defaults.personal_access_token_ttl,
                       help="personal access token lifetime in seconds (default 1 year)")
    serve.add_argument("--code-ttl", type=int, default=defaults.auth_code_ttl,
                       help="authorization code lifetime in seconds (default 600, as Passport)")
    serve.add_argument("--bcrypt-cost", type=int, default=defaults.bcrypt_cost,
                       help="bcrypt cost for stored passwords (default 4 for speed; ProcessMaker uses 10)")
    serve.add_argument("--rsa-bits", type=int, default=defaults.rsa_bits, choices=[2048, 3072, 4096],
                       help="size of the JWT signing key generated for a new database (Passport: 4096)")
    serve.add_argument("--token-rate-limit", type=int, default=defaults.token_rate_limit,
                       help="requests per minute per client on /oauth/token, 0 = unlimited (default 60)")
    serve.add_argument("--max-body-bytes", type=int, default=defaults.max_body_bytes, help="largest request body")
    serve.add_argument("--read-timeout", type=float, default=defaults.read_timeout,
                       help="seconds a client has to send a request's headers, and again its body; "
                       "slower ones get 408 and are closed (default 10)")
    serve.add_argument("--operator-key", default=os.environ.get("PM_SANDBOX_OPERATOR_KEY"),
                       help="key for /_sandbox/* (env PM_SANDBOX_OPERATOR_KEY); default: random")
    serve.add_argument("--admin-password", default=os.environ.get("PM_SANDBOX_ADMIN_PASSWORD"),
                       help="password of the seeded admin on a new database (env PM_SANDBOX_ADMIN_PASSWORD)")
    serve.add_argument("--redirect-uri", default=defaults.redirect_uri,
                       help="redirect URI of the seeded authorization-code client")
    serve.add_argument("--executor-build-seconds", type=float, default=defaults.executor_build_seconds,
                       help="how long an emulated script executor image build takes: queued for the first half, "
                       "building for the second (default 0.5)")
    serve.add_argument("--log-requests", action="store_true", help="log one line per request")
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    settings = Settings(
        host=args.host,
        port=args.port,
        db_path=args.db,
        credentials_path=args.credentials,
        public_url=args.public_url,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_client_ca=args.tls_client_ca,
        allow_remote=args.allow_remote,
        threads=args.threads,
        access_token_ttl=args.token_ttl,
        refresh_token_ttl=args.refresh_ttl,
        personal_access_token_ttl=args.pat_ttl,
        auth_code_ttl=args.code_ttl,
        bcrypt_cost=args.bcrypt_cost,
        rsa_bits=args.rsa_bits,
        token_rate_limit=args.token_rate_limit,
        max_body_bytes=args.max_body_bytes,
        read_timeout=args.read_timeout,
        admin_password=args.admin_password,
        redirect_uri=args.redirect_uri,
        log_requests=args.log_requests,
        executor_build_seconds=args.executor_build_seconds,
    )
    if args.operator_key:
        settings.operator_key = args.operator_key
    return settings


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = settings_from_args(args)
    try:
        settings.check()
    except ValueError as error:
        print(f"pm-sandbox: error: {error}", file=sys.stderr)
        return 2
    from .server import StartupError, serve

    try:
        serve(settings)
    except StartupError as error:
        print(f"pm-sandbox: {error}", file=sys.stderr)
        return 1
    return 0
