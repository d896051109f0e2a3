# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The connection and authentication options: defined once, used by every module and lookup.

Each option is one ``OptionDef`` (name, type, default, environment variable, no_log, aliases, doc).
From that single table come the modules' ``argument_spec``, the doc fragment
``processmaker.core.connection`` and the lookups' option resolution.

Precedence, per option: what the task sets (task arguments, then the ``module_defaults`` group
``processmaker.core.all``; for lookups: keyword arguments, then ``pm_*`` variables) wins over the
``PM_*`` environment variable, which wins over the default. Ansible's ``env_fallback`` is not used
because it cannot tell an option set by the task from one read from the environment, and the grant
inference below needs to know that (see ``resolve_connection``).
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ansible.module_utils.common.validation import (
    check_mutually_exclusive,
    check_required_by,
    check_required_if,
    check_required_together,
    check_type_bool,
    check_type_float,
    check_type_int,
    check_type_list,
    check_type_path,
    check_type_str,
)
from ansible_collections.processmaker.core.plugins.module_utils.redaction import (
    Redactor,
    redact_url,
)
from ansible_collections.processmaker.core.plugins.module_utils.tokens import (
    is_bearer_value,
)

# Seconds: the longest per-request timeout (a day; far longer ones overflow the socket layer).
MAX_TIMEOUT = 86400.0

GRANT_TYPES = ("password", "refresh_token", "client_credentials", "authorization_code", "token")

# Grant inference: the first rule whose options are all set wins. Checked first against the options
# the task set, then against everything (environment included), so a credential given in the task
# is never overridden by a different kind of credential exported in the environment.
GRANT_INFERENCE = (
    ("token", ("access_token",)),
    ("refresh_token", ("refresh_token",)),
    ("password", ("username", "password")),
    ("client_credentials", ("client_id", "client_secret")),
)

# Options whose mere presence selects a grant: given empty, they are a mistake, never "unset".
GRANT_SELECTORS = ("access_token", "refresh_token")

# What each grant needs once it is known.
GRANT_REQUIREMENTS = {
    "password": ("client_id", "username", "password"),
    "refresh_token": ("client_id", "refresh_token"),
    "client_credentials": ("client_id", "client_secret"),
    "authorization_code": ("client_id",),
    "token": ("access_token",),
}


@dataclass(frozen=True)
class OptionDef:
    name: str
    type: str
    description: str
    env: str | None = None
    default: Any = None
    no_log: bool = False
    aliases: tuple = ()
    choices: tuple = ()
    elements: str | None = None
    default_doc: str | None = None  # shown instead of a literal default (computed defaults)
    var_name: str | None = None  # lookup variable, when not pm_<name>
    in_lookups: bool = True  # False: only the modules use it (the authorization code flow needs a person)
    lookup_doc: str = ""  # what the lookups' docs add
    minimum: float | None = None  # numbers: the smallest value allowed
    positive: bool = False  # numbers: must be greater than 0
    maximum: float | None = None  # numbers: the largest value allowed
    maximum_doc: str = ""  # the maximum in words, for the message

    def check_limits(self, value: Any) -> None:
        """Raise OptionError (one line) when a resolved number is outside what the option allows."""
        if value is None or self.type not in ("int", "float"):
            return
        if self.minimum is not None and value < self.minimum:
            raise OptionError(f"{self.name} must not be negative")
        if self.positive and value == 0:
            raise OptionError(f"{self.name} must be greater than 0")
        if self.type == "float" and not math.isfinite(value):
            raise OptionError(f"{self.name} must be a finite number of seconds, not {value!r}")
        if self.maximum is not None and value > self.maximum:
            raise OptionError(f"{self.name} must be at most {self.maximum:g} seconds{self.maximum_doc}, not {value:g}")

    @property
    def var(self) -> str:
        """Variable name a lookup reads (``pm_<name>`` unless set)."""
        return self.var_name or "pm_" + self.name

    def argument_spec(self) -> dict:
        spec: dict = {"type": self.type}
        if self.default is not None:
            spec["default"] = self.default
        if self.no_log:
            spec["no_log"] = True
        elif self.type in ("str", "path"):
            # names like "token_url" trip Ansible's no_log heuristic; they are not secrets
            spec["no_log"] = False
        if self.aliases:
            spec["aliases"] = list(self.aliases)
        if self.choices:
            spec["choices"] = list(self.choices)
        if self.elements:
            spec["elements"] = self.elements
        return spec


CONNECTION_OPTIONS = (
    OptionDef("url", "str", "Base URL of the ProcessMaker server, for example C(https://pm.example.com).",
              env="PM_URL"),
    OptionDef(
        "api_path", "str",
        "Path of the REST API below O(url). Relative O(processmaker.core.pm_api#module:path) values start here.",
        env="PM_API_PATH", default="/api/1.0",
    ),
    OptionDef(
        "token_url", "str",
        "OAuth 2.0 token endpoint. Any RFC 6749 authorization server works, not only ProcessMaker's.",
        env="PM_TOKEN_URL", default_doc="O(url)/oauth/token",
    ),
    OptionDef(
        "authorize_url", "str",
        "OAuth 2.0 authorization endpoint, used to build the URL of the authorization code flow.",
        env="PM_AUTHORIZE_URL", default_doc="O(url)/oauth/authorize", in_lookups=False,
    ),
    OptionDef("client_id", "str", "OAuth client ID. Sent in the body of every token request.", env="PM_CLIENT_ID"),
    OptionDef(
        "redirect_uri", "str",
        "Redirect URI registered for the client, for the authorization code flow. ProcessMaker needs it"
        " when the client has several, and the code exchange must repeat the one of the authorization URL.",
        env="PM_REDIRECT_URI", in_lookups=False,
    ),
    OptionDef(
        "client_secret", "str",
        "OAuth client secret. Leave unset for a public client (authorization code with PKCE).",
        env="PM_CLIENT_SECRET", no_log=True,
    ),
    OptionDef("username", "str", "User name for the V(password) grant.", env="PM_USERNAME"),
    OptionDef("password", "str", "Password for the V(password) grant.", env="PM_PASSWORD", no_log=True),
    OptionDef(
        "access_token", "str",
        "A bearer token to call the API with: a personal access token, a token from"
        " M(processmaker.core.pm_token) or any access token the server accepts.",
        env="PM_TOKEN", no_log=True, aliases=("token",),
    ),
    OptionDef(
        "refresh_token", "str",
        "A refresh token. With O(grant_type=refresh_token) it is exchanged for a new access token; with"
        " O(access_token) it renews that token when the server rejects it.",
        env="PM_REFRESH_TOKEN", no_log=True,
    ),
    OptionDef(
        "scope", "list",
        "Scopes to request, joined with spaces on the wire. ProcessMaker knows only V(*).",
        env="PM_SCOPE", elements="str",
    ),
    OptionDef(
        "grant_type", "str",
        "How to get an access token. When unset it is inferred, first from the options the task sets"
        " (task arguments, the module_defaults group, lookup arguments or C(pm_*) variables), then"
        " from the environment too: O(access_token) gives V(token), O(refresh_token) gives"
        " V(refresh_token), O(username) with O(password) gives V(password), O(client_id) with"
        " O(client_secret) gives V(client_credentials). V(authorization_code) is never inferred"
        " except by M(processmaker.core.pm_token) when a code is given. A grant_type from the"
        " environment (E(PM_GRANT_TYPE)) only applies when the task's own options imply no grant.",
        env="PM_GRANT_TYPE", choices=GRANT_TYPES,
        lookup_doc="Lookups cannot run V(authorization_code), which needs a person at a browser: get the token with"
        " M(processmaker.core.pm_token) and pass it as O(access_token).",
    ),
    OptionDef(
        "validate_certs", "bool", "Verify the server's TLS certificate. Only set V(false) for tests.",
        env="PM_VALIDATE_CERTS", default=True,
    ),
    OptionDef("ca_path", "path", "PEM file of CA certificates to verify the server with.", env="PM_CA_PATH",
              aliases=("ca_cert",)),
    OptionDef("client_cert", "path", "PEM client certificate for mutual TLS (may also hold the key).",
              env="PM_CLIENT_CERT"),
    OptionDef("client_key", "path", "PEM private key of O(client_cert) when it is a separate file.",
              env="PM_CLIENT_KEY"),
    OptionDef("timeout", "float", "Seconds to wait for the server to connect or answer, per request.",
              env="PM_TIMEOUT", default=30.0, minimum=0, positive=True, maximum=MAX_TIMEOUT, maximum_doc=" (one day)"),
    OptionDef(
        "retries", "int",
        "How many times to retry a request that failed with 429 (any method), 500, 502, 503, 504, a dropped"
        " connection or a corrupt response (idempotent methods only). V(0) disables retries.",
        env="PM_RETRIES", default=3, minimum=0,
    ),
    OptionDef(
        "retry_backoff", "float",
        "Base delay in seconds between retries; it doubles on each attempt, with random jitter."
        " A C(Retry-After) header from the server is honoured when longer.",
        env="PM_RETRY_BACKOFF", default=0.5, minimum=0,
    ),
    OptionDef(
        "retry_max_time", "float",
        "Upper bound, in seconds, on the time spent retrying one request. No retry starts past it.",
        env="PM_RETRY_MAX_TIME", default=60.0, minimum=0,
    ),
)

# Lookup-only options: the shared token cache (token_cache.py).
CACHE_OPTIONS = (
    OptionDef(
        "cache", "bool",
        "Share tokens between the tasks, hosts and forks of a run (and later runs, until the token"
        " expires) through files in O(cache_dir), so each credential asks the server once."
        " V(false) asks the server on every lookup.",
        env="PM_TOKEN_CACHE", default=True, var_name="pm_token_cache",
    ),
    OptionDef(
        "cache_dir", "path",
        "Directory of the token cache. It must be private (mode 0700, owned by the user) or the"
        " cache is not used; files in it are 0600. Keys are hashes of url, token_url, client_id,"
        " username, grant and scope, never of a password or client secret.",
        env="PM_TOKEN_CACHE_DIR", var_name="pm_token_cache_dir",
        default_doc="C($XDG_RUNTIME_DIR/processmaker_core_tokens) when XDG_RUNTIME_DIR is set, else"
        " C(~/.ansible/tmp/processmaker_core_tokens)",
    ),
    OptionDef(
        "refresh_margin", "float",
        "Renew a cached token this many seconds before it expires (at most half its lifetime early),"
        " with its refresh token when it has one, else with the grant.",
        env="PM_TOKEN_REFRESH_MARGIN", default=60.0, var_name="pm_token_refresh_margin",
    ),
)

OPTIONS_BY_NAME = {option.name: option for option in CONNECTION_OPTIONS}
LOOKUP_OPTIONS = tuple(option for option in CONNECTION_OPTIONS if option.in_lookups)
SECRET_OPTIONS = tuple(option.name for option in CONNECTION_OPTIONS if option.no_log)


class OptionError(ValueError):
    """Bad or missing connection options; str() is one line naming the option and the fix."""


def connection_argument_spec() -> dict:
    """The options as an AnsibleModule ``argument_spec`` fragment."""
    return {option.name: option.argument_spec() for option in CONNECTION_OPTIONS}


def _describe_source(name: str) -> str:
    option = OPTIONS_BY_NAME.get(name)
    if option is None or option.env is None:
        return name
    return f"{name} (or {option.env})"


# ---------------------------------------------------------------------------------------------
# Argument rules, in AnsibleModule's vocabulary, checked on the resolved values.


@dataclass(frozen=True)
class RuleSet:
    required_if: tuple = ()  # (option, value, (needed, ...))
    required_together: tuple = ()  # ((a, b), ...)
    mutually_exclusive: tuple = ()  # ((a, b), ...)
    required_by: tuple = ()  # ((option, (needed, ...)), ...)

    def as_module_kwargs(self) -> dict:
        """Keyword arguments for AnsibleModule (for module-specific rules without env values)."""
        kwargs: dict = {}
        if self.required_if:
            kwargs["required_if"] = [[name, value, list(needed)] for name, value, needed in self.required_if]
        if self.required_together:
            kwargs["required_together"] = [list(rule) for rule in self.required_together]
        if self.mutually_exclusive:
            kwargs["mutually_exclusive"] = [list(rule) for rule in self.mutually_exclusive]
        if self.required_by:
            kwargs["required_by"] = {name: list(needed) for name, needed in self.required_by}
        return kwargs


CONNECTION_RULES = RuleSet(
    required_if=tuple(("grant_type", grant, needed) for grant, needed in GRANT_REQUIREMENTS.items()),
    required_together=(("username", "password"),),
    required_by=(("client_key", ("client_cert",)),),
)


def _is_set(value: Any) -> bool:
    return value is not None and value != "" and value != []


def check_rules(values: Mapping[str, Any], rules: RuleSet) -> None:
    """Raise OptionError (one line: what is wrong and how to fix it) for the first broken rule.

    Whether a rule holds is Ansible's call (its own checkers, on the values as resolved from the task
    *and* the environment, which AnsibleModule cannot see); the message is ours, naming the PM_*
    variables that can supply what is missing.
    """
    given = {name: value for name, value in values.items() if _is_set(value)}

    def broken(check: Any, *rule: Any) -> bool:
        try:
            check(*rule, given)
        except TypeError:
            return True
        return False

    def sources(names: Iterable[str]) -> str:
        return ", ".join(_describe_source(name) for name in names)

    for group in rules.mutually_exclusive:
        if broken(check_mutually_exclusive, [list(group)]):
            named = [name for name in group if name in given]
            raise OptionError(f"options {' and '.join(named)} are mutually exclusive; set only one of them")
    for group in rules.required_together:
        if broken(check_required_together, [list(group)]):
            named = [name for name in group if name in given]
            missing = [name for name in group if name not in given]
            raise OptionError(f"{', '.join(named)} must be set together with {', '.join(missing)}; set {sources(missing)}")
    for name, needed in rules.required_by:
        if broken(check_required_by, {name: list(needed)}):
            missing = [other for other in needed if other not in given]
            raise OptionError(f"{name} needs {', '.join(missing)}; set {sources(missing)}")
    for name, expected, needed in rules.required_if:
        if broken(check_required_if, [[name, expected, list(needed)]]):
            missing = [other for other in needed if other not in given]
            raise OptionError(
                f"{name}={expected} needs {', '.join(missing)}; set {sources(missing)} as a task option,"
                " in module_defaults (group/processmaker.core.all) or in the environment"
            )


# ---------------------------------------------------------------------------------------------
# Resolution: explicit values > PM_* environment > defaults, then grant inference and checks.

_CHECKERS = {
    "str": check_type_str,
    "path": check_type_path,
    "bool": check_type_bool,
    "int": check_type_int,
    "float": check_type_float,
    "list": check_type_list,
}


def convert(option: OptionDef, value: Any, origin: str) -> Any:
    """Convert a value (usually a string from the environment) to the option's type."""
    if value is None:
        return None
    try:
        if option.type == "str":
            converted = check_type_str(value, allow_conversion=True)
        else:
            converted = _CHECKERS[option.type](value)
        if option.type == "list":
            converted = [check_type_str(item, allow_conversion=True) for item in converted]
    except (TypeError, ValueError):
        shown = "<hidden>" if option.no_log else repr(value)
        raise OptionError(f"{origin}: {shown} is not a valid {option.type} for option {option.name}")
    if option.choices and converted not in option.choices:
        raise OptionError(
            f"{origin}: option {option.name} must be one of {', '.join(option.choices)}, not {converted!r}"
        )
    return converted


@dataclass
class ConnectionOptions:
    """Resolved connection and auth options, ready for the auth strategies and the client."""

    values: dict
    grant_type: str | None
    sources: dict = field(default_factory=dict)  # option -> "task" | "env" | "default"

    def __repr__(self) -> str:  # never show secrets
        shown = {k: ("********" if k in SECRET_OPTIONS and v else v) for k, v in self.values.items()}
        return f"ConnectionOptions(grant_type={self.grant_type!r}, values={shown!r})"

    @property
    def base_url(self) -> str:
        return (self.values.get("url") or "").rstrip("/")

    @property
    def api_base_url(self) -> str:
        path = (self.values.get("api_path") or "").strip("/")
        return self.base_url + ("/" + path if path else "")

    @property
    def token_endpoint(self) -> str:
        return self.values.get("token_url") or self.base_url + "/oauth/token"

    @property
    def authorize_endpoint(self) -> str:
        return self.values.get("authorize_url") or self.base_url + "/oauth/authorize"

    @property
    def scope_string(self) -> str | None:
        scopes = [s for s in (self.values.get("scope") or []) if s]
        return " ".join(scopes) if scopes else None

    def secret_values(self) -> list:
        """Every secret given to us, for redaction (no_log values, warnings, error messages)."""
        return [self.values[name] for name in SECRET_OPTIONS if self.values.get(name)]

    @property
    def actor_password(self) -> str | None:
        """The acting user's password, when the task logs in with it (some writes must repeat it)."""
        return self.values.get("password") if self.grant_type == "password" else None

    def redactor(self) -> Redactor:
        """Masks every wire form of the given secrets (Basic credentials with client_id included)."""
        return Redactor(self.secret_values(), self.values.get("client_id"))

    def requests_tls(self) -> dict:
        """``verify`` and ``cert`` keyword arguments for requests."""
        verify: Any = bool(self.values.get("validate_certs", True))
        if verify and self.values.get("ca_path"):
            verify = self.values["ca_path"]
        tls: dict = {"verify": verify}
        cert = self.values.get("client_cert")
        if cert:
            key = self.values.get("client_key")
            tls["cert"] = (cert, key) if key else cert
        return tls


def check_endpoint(name: str, url: str) -> None:
    """An http(s) URL without user info: requests would send ``user:password@`` as Basic credentials
    in place of the Bearer token, to the API and the token endpoint alike."""
    if not url.startswith(("https://", "http://")):
        raise OptionError(f"{name} must start with https:// or http://, got {redact_url(url)!r}")
    if "@" in urlsplit(url).netloc:
        raise OptionError(f"{name} must not hold user:password@ (it would be sent instead of the token); remove it"
                          " and give the credentials as username/password or client_id/client_secret")


def userinfo_password(url: object) -> str | None:
    """The password in ``https://user:password@host`` (refused, and masked in what is shown)."""
    if not isinstance(url, str) or "@" not in url:
        return None
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _infer(values: Mapping[str, Any]) -> str | None:
    for grant, needed in GRANT_INFERENCE:
        if all(_is_set(values.get(name)) for name in needed):
            return grant
    return None


def resolve_values(options: Iterable[OptionDef], given: Mapping[str, Any], explicit: Iterable[str],
                   environ: Mapping[str, str]) -> tuple:
    """(values, sources): what the task set > the PM_* environment > the default, per option."""
    values: dict = {}
    sources: dict = {}
    for option in options:
        if option.name in explicit:
            values[option.name] = convert(option, given[option.name], "option " + option.name)
            sources[option.name] = "task"
        elif option.env and environ.get(option.env, "") != "":
            values[option.name] = convert(option, environ[option.env], "environment variable " + option.env)
            sources[option.name] = "env"
        else:
            values[option.name] = option.default
            sources[option.name] = "default"
    return values, sources


def resolve_connection(
    given: Mapping[str, Any],
    explicit: Iterable[str],
    environ: Mapping[str, str] | None = None,
    *,
    grant_hint: str | None = None,
    require_url: bool = True,
    rules: RuleSet = CONNECTION_RULES,
) -> ConnectionOptions:
    """Resolve explicit values over ``PM_*`` environment variables over defaults, then check rules.

    ``given`` holds the values as parsed (from AnsibleModule or a lookup); only the names in
    ``explicit`` count as set by the task, the others fall back to the environment, then the
    default. ``grant_hint`` is the grant a caller implies (pm_token with a code), used when
    grant_type is not set. Raises OptionError.
    """
    environ = os.environ if environ is None else environ
    explicit = {name for name in explicit if given.get(name) is not None}
    for name in GRANT_SELECTORS:
        if name in explicit and isinstance(given[name], str) and not given[name].strip():
            # an empty credential must not hand the task to another grant (PM_USERNAME/PM_PASSWORD...)
            raise OptionError(f"{name} is empty: give the {name.replace('_', ' ')}, or leave {name} unset")
    values, sources = resolve_values(CONNECTION_OPTIONS, given, explicit, environ)

    if values.get("url"):
        values["url"] = values["url"].rstrip("/")
    if values.get("api_path") is not None:
        values["api_path"] = "/" + values["api_path"].strip("/") if values["api_path"].strip("/") else ""

    if require_url and not values.get("url"):
        raise OptionError("url is required: set the url option (module_defaults group/processmaker.core.all) or PM_URL")
    for name in ("url", "token_url", "authorize_url"):
        if values.get(name):
            check_endpoint(name, values[name])
    api_path = values.get("api_path") or ""
    if values.get("url") and api_path and urlsplit(values["url"]).path.rstrip("/").endswith(api_path):
        raise OptionError(f"url must be the server's root, without {api_path} (api_path adds it): give"
                          f" {values['url'][: -len(api_path)] or values['url']}")
    for option in CONNECTION_OPTIONS:
        option.check_limits(values[option.name])
    token = values.get("access_token")
    if token and not is_bearer_value(token):
        raise OptionError(
            f"{_describe_source('access_token')} is not a bearer token: it has spaces, line breaks or non-ASCII"
            " characters; give the token alone"
        )

    # The same order as everywhere: what the task says (its grant_type, the grant its module implies,
    # the credentials it gives) before what the environment says.
    grant = (
        (values["grant_type"] if sources["grant_type"] == "task" else None)
        or grant_hint
        or _infer({name: value for name, value in values.items() if name in explicit})
        or values.get("grant_type")
        or _infer(values)
    )
    values["grant_type"] = grant
    try:
        check_rules(values, rules)
    except OptionError as error:
        if sources["grant_type"] == "task" and grant != "token" and "access_token" in explicit:
            raise OptionError(f"{error}; access_token is used only with grant_type=token: leave grant_type unset"
                              " to call the API with it") from None
        raise
    if grant is None:
        raise OptionError(
            "no credentials: set access_token (PM_TOKEN), or username and password (PM_USERNAME, PM_PASSWORD)"
            " with client_id and client_secret, or client_id and client_secret for client_credentials,"
            " or set grant_type"
        )
    return ConnectionOptions(values=values, grant_type=grant, sources=sources)


def explicit_from_module_args(raw_args: Mapping[str, Any]) -> set:
    """Option names the task set, from the raw module arguments (aliases mapped to their option)."""
    names = set()
    for option in CONNECTION_OPTIONS:
        for key in (option.name,) + tuple(option.aliases):
            if key in raw_args and raw_args[key] is not None:
                names.add(option.name)
    return names


def explicit_from_lookup(var_options: Mapping[str, Any] | None, direct: Mapping[str, Any] | None) -> set:
    """Option names set by lookup keywords (aliases mapped to their option) or ``pm_*`` variables.

    Decided from what the lookup was given rather than from Ansible's config origins:
    ``get_option_and_origin`` on ansible-core 2.17 re-reads the configuration without the variables
    and keywords given to ``set_options``. Like Ansible's config system, a null value does not count.
    """
    names = explicit_from_module_args(direct or {})
    for option in CONNECTION_OPTIONS:
        if (var_options or {}).get(option.var) is not None:
            names.add(option.name)
    return names
