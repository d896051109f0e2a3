# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Documentation of the connection and auth options (generated: do not edit).

Rendered from the one option table in ``plugins/module_utils/options.py`` by
``tools/render_doc_fragment.py`` (``make doc-fragment``); a unit test fails when they differ.

- ``processmaker.core.connection``: for modules (task arguments, module_defaults, environment).
- ``processmaker.core.connection.plugins``: for lookups (adds the ``pm_*`` variables and ``PM_*``
  environment entries Ansible's config system reads).
- ``processmaker.core.connection.cache``: the lookups' token cache options.
"""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  url:
    description:
    - Base URL of the ProcessMaker server, for example C(https://pm.example.com).
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_URL) is used.
    type: str
  api_path:
    description:
    - Path of the REST API below O(url). Relative O(processmaker.core.pm_api#module:path) values start here.
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_API_PATH) is used.
    type: str
    default: /api/1.0
  token_url:
    description:
    - OAuth 2.0 token endpoint. Any RFC 6749 authorization server works, not only ProcessMaker's.
    - 'Default: O(url)/oauth/token.'
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_TOKEN_URL) is used.
    type: str
  authorize_url:
    description:
    - OAuth 2.0 authorization endpoint, used to build the URL of the authorization code flow.
    - 'Default: O(url)/oauth/authorize.'
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_AUTHORIZE_URL) is used.
    type: str
  client_id:
    description:
    - OAuth client ID. Sent in the body of every token request.
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_CLIENT_ID) is used.
    type: str
  redirect_uri:
    description:
    - Redirect URI registered for the client, for the authorization code flow. ProcessMaker needs it when the client
      has several, and the code exchange must repeat the one of the authorization URL.
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_REDIRECT_URI) is used.
    type: str
  client_secret:
    description:
    - OAuth client secret. Leave unset for a public client (authorization code with PKCE).
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_CLIENT_SECRET) is used.
    - 'This is a secret: it is never logged or shown.'
    type: str
  username:
    description:
    - User name for the V(password) grant.
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_USERNAME) is used.
    type: str
  password:
    description:
    - Password for the V(password) grant.
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_PASSWORD) is used.
    - 'This is a secret: it is never logged or shown.'
    type: str
  access_token:
    description:
    - 'A bearer token to call the API with: a personal access token, a token from M(processmaker.core.pm_token)
      or any access token the server accepts.'
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_TOKEN) is used.
    - 'This is a secret: it is never logged or shown.'
    type: str
    aliases:
    - token
  refresh_token:
    description:
    - A refresh token. With O(grant_type=refresh_token) it is exchanged for a new access token; with O(access_token)
      it renews that token when the server rejects it.
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_REFRESH_TOKEN) is used.
    - 'This is a secret: it is never logged or shown.'
    type: str
  scope:
    description:
    - Scopes to request, joined with spaces on the wire. ProcessMaker knows only V(*).
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_SCOPE) is used.
    type: list
    elements: str
  grant_type:
    description:
    - 'How to get an access token. When unset it is inferred, first from the options the task sets (task arguments,
      the module_defaults group, lookup arguments or C(pm_*) variables), then from the environment too: O(access_token)
      gives V(token), O(refresh_token) gives V(refresh_token), O(username) with O(password) gives V(password), O(client_id)
      with O(client_secret) gives V(client_credentials). V(authorization_code) is never inferred except by M(processmaker.core.pm_token)
      when a code is given. A grant_type from the environment (E(PM_GRANT_TYPE)) only applies when the task''s own
      options imply no grant.'
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_GRANT_TYPE) is used.
    type: str
    choices:
    - password
    - refresh_token
    - client_credentials
    - authorization_code
    - token
  validate_certs:
    description:
    - Verify the server's TLS certificate. Only set V(false) for tests.
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
    - PEM file of CA certificates to verify the server with.
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_CA_PATH) is used.
    type: path
    aliases:
    - ca_cert
  client_cert:
    description:
    - PEM client certificate for mutual TLS (may also hold the key).
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_CLIENT_CERT) is used.
    type: path
  client_key:
    description:
    - PEM private key of O(client_cert) when it is a separate file.
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_CLIENT_KEY) is used.
    type: path
  timeout:
    description:
    - Seconds to wait for the server to connect or answer, per request.
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_TIMEOUT) is used.
    type: float
    default: 30.0
  retries:
    description:
    - How many times to retry a request that failed with 429 (any method), 500, 502, 503, 504, a dropped connection
      or a corrupt response (idempotent methods only). V(0) disables retries.
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_RETRIES) is used.
    type: int
    default: 3
  retry_backoff:
    description:
    - Base delay in seconds between retries; it doubles on each attempt, with random jitter. A C(Retry-After) header
      from the server is honoured when longer.
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_RETRY_BACKOFF) is used.
    type: float
    default: 0.5
  retry_max_time:
    description:
    - Upper bound, in seconds, on the time spent retrying one request. No retry starts past it.
    - When the task does not set it (nor the module_defaults group C(processmaker.core.all)), the environment variable
      E(PM_RETRY_MAX_TIME) is used.
    type: float
    default: 60.0
notes:
- 'Connection and auth options are shared by every module of the collection: set them once with C(module_defaults:
  {group/processmaker.core.all: ...}) or C(PM_*) environment variables. Precedence is task arguments, then module_defaults,
  then environment, then defaults.'
- 'A refresh token given with O(access_token) is spent when the module renews the token: the server revokes the
  pair. The module remembers the token it became in the token cache (E(PM_TOKEN_CACHE_DIR), off with E(PM_TOKEN_CACHE=false)),
  so later tasks that present the same pair with the same client credentials keep working.'
"""

    PLUGINS = r"""
options:
  url:
    description:
    - Base URL of the ProcessMaker server, for example C(https://pm.example.com).
    type: str
    env:
    - name: PM_URL
    vars:
    - name: pm_url
  api_path:
    description:
    - Path of the REST API below O(url). Relative O(processmaker.core.pm_api#module:path) values start here.
    type: str
    default: /api/1.0
    env:
    - name: PM_API_PATH
    vars:
    - name: pm_api_path
  token_url:
    description:
    - OAuth 2.0 token endpoint. Any RFC 6749 authorization server works, not only ProcessMaker's.
    - 'Default: O(url)/oauth/token.'
    type: str
    env:
    - name: PM_TOKEN_URL
    vars:
    - name: pm_token_url
  client_id:
    description:
    - OAuth client ID. Sent in the body of every token request.
    type: str
    env:
    - name: PM_CLIENT_ID
    vars:
    - name: pm_client_id
  client_secret:
    description:
    - OAuth client secret. Leave unset for a public client (authorization code with PKCE).
    - 'This is a secret: it is never logged or shown.'
    type: str
    env:
    - name: PM_CLIENT_SECRET
    vars:
    - name: pm_client_secret
  username:
    description:
    - User name for the V(password) grant.
    type: str
    env:
    - name: PM_USERNAME
    vars:
    - name: pm_username
  password:
    description:
    - Password for the V(password) grant.
    - 'This is a secret: it is never logged or shown.'
    type: str
    env:
    - name: PM_PASSWORD
    vars:
    - name: pm_password
  access_token:
    description:
    - 'A bearer token to call the API with: a personal access token, a token from M(processmaker.core.pm_token)
      or any access token the server accepts.'
    - 'This is a secret: it is never logged or shown.'
    type: str
    aliases:
    - token
    env:
    - name: PM_TOKEN
    vars:
    - name: pm_access_token
  refresh_token:
    description:
    - A refresh token. With O(grant_type=refresh_token) it is exchanged for a new access token; with O(access_token)
      it renews that token when the server rejects it.
    - 'This is a secret: it is never logged or shown.'
    type: str
    env:
    - name: PM_REFRESH_TOKEN
    vars:
    - name: pm_refresh_token
  scope:
    description:
    - Scopes to request, joined with spaces on the wire. ProcessMaker knows only V(*).
    type: list
    elements: str
    env:
    - name: PM_SCOPE
    vars:
    - name: pm_scope
  grant_type:
    description:
    - 'How to get an access token. When unset it is inferred, first from the options the task sets (task arguments,
      the module_defaults group, lookup arguments or C(pm_*) variables), then from the environment too: O(access_token)
      gives V(token), O(refresh_token) gives V(refresh_token), O(username) with O(password) gives V(password), O(client_id)
      with O(client_secret) gives V(client_credentials). V(authorization_code) is never inferred except by M(processmaker.core.pm_token)
      when a code is given. A grant_type from the environment (E(PM_GRANT_TYPE)) only applies when the task''s own
      options imply no grant.'
    - 'Lookups cannot run V(authorization_code), which needs a person at a browser: get the token with M(processmaker.core.pm_token)
      and pass it as O(access_token).'
    type: str
    choices:
    - password
    - refresh_token
    - client_credentials
    - authorization_code
    - token
    env:
    - name: PM_GRANT_TYPE
    vars:
    - name: pm_grant_type
  validate_certs:
    description:
    - Verify the server's TLS certificate. Only set V(false) for tests.
    type: bool
    default: true
    env:
    - name: PM_VALIDATE_CERTS
    vars:
    - name: pm_validate_certs
  ca_path:
    description:
    - PEM file of CA certificates to verify the server with.
    type: path
    aliases:
    - ca_cert
    env:
    - name: PM_CA_PATH
    vars:
    - name: pm_ca_path
  client_cert:
    description:
    - PEM client certificate for mutual TLS (may also hold the key).
    type: path
    env:
    - name: PM_CLIENT_CERT
    vars:
    - name: pm_client_cert
  client_key:
    description:
    - PEM private key of O(client_cert) when it is a separate file.
    type: path
    env:
    - name: PM_CLIENT_KEY
    vars:
    - name: pm_client_key
  timeout:
    description:
    - Seconds to wait for the server to connect or answer, per request.
    type: float
    default: 30.0
    env:
    - name: PM_TIMEOUT
    vars:
    - name: pm_timeout
  retries:
    description:
    - How many times to retry a request that failed with 429 (any method), 500, 502, 503, 504, a dropped connection
      or a corrupt response (idempotent methods only). V(0) disables retries.
    type: int
    default: 3
    env:
    - name: PM_RETRIES
    vars:
    - name: pm_retries
  retry_backoff:
    description:
    - Base delay in seconds between retries; it doubles on each attempt, with random jitter. A C(Retry-After) header
      from the server is honoured when longer.
    type: float
    default: 0.5
    env:
    - name: PM_RETRY_BACKOFF
    vars:
    - name: pm_retry_backoff
  retry_max_time:
    description:
    - Upper bound, in seconds, on the time spent retrying one request. No retry starts past it.
    type: float
    default: 60.0
    env:
    - name: PM_RETRY_MAX_TIME
    vars:
    - name: pm_retry_max_time
notes:
- Connection and auth options resolve as lookup keyword arguments, then C(pm_*) variables, then C(PM_*) environment
  variables, then defaults.
"""

    CACHE = r"""
options:
  cache:
    description:
    - Share tokens between the tasks, hosts and forks of a run (and later runs, until the token expires) through
      files in O(cache_dir), so each credential asks the server once. V(false) asks the server on every lookup.
    type: bool
    default: true
    env:
    - name: PM_TOKEN_CACHE
    vars:
    - name: pm_token_cache
  cache_dir:
    description:
    - Directory of the token cache. It must be private (mode 0700, owned by the user) or the cache is not used;
      files in it are 0600. Keys are hashes of url, token_url, client_id, username, grant and scope, never of a
      password or client secret.
    - 'Default: C($XDG_RUNTIME_DIR/processmaker_core_tokens) when XDG_RUNTIME_DIR is set, else C(~/.ansible/tmp/processmaker_core_tokens).'
    type: path
    env:
    - name: PM_TOKEN_CACHE_DIR
    vars:
    - name: pm_token_cache_dir
  refresh_margin:
    description:
    - Renew a cached token this many seconds before it expires (at most half its lifetime early), with its refresh
      token when it has one, else with the grant.
    type: float
    default: 60.0
    env:
    - name: PM_TOKEN_REFRESH_MARGIN
    vars:
    - name: pm_token_refresh_margin
"""
