"""Connection options: one definition, resolution and precedence, grant inference, argument rules."""

from __future__ import annotations

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.processmaker.core.plugins.module_utils.options import (
    CONNECTION_OPTIONS,
    CONNECTION_RULES,
    GRANT_TYPES,
    SECRET_OPTIONS,
    OptionError,
    RuleSet,
    check_rules,
    connection_argument_spec,
    explicit_from_lookup,
    explicit_from_module_args,
    resolve_connection,
)
from ansible_collections.processmaker.core.plugins.modules import pm_api, pm_token

URL = "https://pm.example.com"
PASSWORD_LOGIN = {"url": URL, "client_id": "2", "client_secret": "s3cret-client", "username": "admin",
                  "password": "pa55word!"}


def resolve(given, env=None, explicit=None, **kwargs):
    return resolve_connection(given, set(given) if explicit is None else explicit, env or {}, **kwargs)


# --- the one definition ------------------------------------------------------------------------

def test_every_option_has_an_env_var_named_pm():
    for option in CONNECTION_OPTIONS:
        assert option.env and option.env.startswith("PM_"), option.name
    envs = [option.env for option in CONNECTION_OPTIONS]
    assert len(envs) == len(set(envs))
    assert {o.name: o.env for o in CONNECTION_OPTIONS}["url"] == "PM_URL"
    assert {o.name: o.env for o in CONNECTION_OPTIONS}["access_token"] == "PM_TOKEN"


def test_argument_spec_marks_secrets_no_log():
    spec = connection_argument_spec()
    assert set(SECRET_OPTIONS) == {"client_secret", "password", "access_token", "refresh_token"}
    for name in SECRET_OPTIONS:
        assert spec[name]["no_log"] is True
    for name in ("url", "token_url", "username", "client_id"):
        assert spec[name].get("no_log") is not True
    assert spec["api_path"]["default"] == "/api/1.0"
    assert spec["validate_certs"] == {"type": "bool", "default": True}
    assert spec["grant_type"]["choices"] == list(GRANT_TYPES)
    assert spec["access_token"]["aliases"] == ["token"]


def test_argument_spec_is_valid_for_ansible():
    result = ArgumentSpecValidator(connection_argument_spec()).validate({"url": URL, "token": "abc"})
    assert not result.error_messages
    assert result.validated_parameters["access_token"] == "abc"
    assert "abc" in result._no_log_values


# --- resolution and precedence -------------------------------------------------------------------

def test_task_value_beats_environment_beats_default():
    env = {"PM_URL": "https://env.example.com", "PM_API_PATH": "/api/from-env", "PM_TIMEOUT": "7"}
    options = resolve({"url": URL, "access_token": "t0ken"}, env)
    assert options.base_url == URL
    assert options.values["api_path"] == "/api/from-env"
    assert options.values["timeout"] == 7.0
    assert options.values["retries"] == 3
    assert options.sources == {**options.sources, "url": "task", "api_path": "env", "retries": "default"}


def test_environment_fills_what_the_task_leaves_unset():
    env = {"PM_URL": URL + "/", "PM_TOKEN": "env-token", "PM_VALIDATE_CERTS": "false", "PM_SCOPE": "*"}
    options = resolve({}, env)
    assert options.base_url == URL
    assert options.grant_type == "token"
    assert options.values["validate_certs"] is False
    assert options.scope_string == "*"
    assert options.requests_tls() == {"verify": False}


def test_value_set_to_default_in_task_still_beats_environment():
    options = resolve({"url": URL, "access_token": "x", "api_path": "/api/1.0"}, {"PM_API_PATH": "/api/1.1"})
    assert options.api_base_url == URL + "/api/1.0"


def test_env_value_of_wrong_type_names_the_variable_and_hides_secrets():
    with pytest.raises(OptionError, match="environment variable PM_RETRIES.*'many' is not a valid int"):
        resolve({"url": URL, "access_token": "x"}, {"PM_RETRIES": "many"})
    with pytest.raises(OptionError, match="PM_GRANT_TYPE: option grant_type must be one of"):
        resolve({"url": URL, "access_token": "x"}, {"PM_GRANT_TYPE": "magic"})


def test_empty_environment_variable_counts_as_unset():
    options = resolve({"url": URL, "access_token": "x"}, {"PM_API_PATH": "", "PM_TIMEOUT": ""})
    assert options.values["api_path"] == "/api/1.0"
    assert options.values["timeout"] == 30.0


def test_url_and_endpoints():
    options = resolve({"url": URL + "/", "access_token": "x", "api_path": "api/1.0/"})
    assert options.api_base_url == URL + "/api/1.0"
    assert options.token_endpoint == URL + "/oauth/token"
    assert options.authorize_endpoint == URL + "/oauth/authorize"
    other = resolve({"url": URL, "access_token": "x", "token_url": "https://idp.example.com/token",
                     "authorize_url": "https://idp.example.com/auth"})
    assert other.token_endpoint == "https://idp.example.com/token"
    assert other.authorize_endpoint == "https://idp.example.com/auth"


def test_url_is_required_and_must_be_http():
    with pytest.raises(OptionError, match="url is required.*PM_URL"):
        resolve({"access_token": "x"})
    with pytest.raises(OptionError, match="must start with https://"):
        resolve({"url": "pm.example.com", "access_token": "x"})


@pytest.mark.parametrize("name,value", [("timeout", -1), ("retries", -2), ("retry_max_time", -5), ("timeout", 0)])
def test_negative_numbers_refused(name, value):
    with pytest.raises(OptionError, match=name):
        resolve({"url": URL, "access_token": "x", name: value})


def test_tls_options_for_requests():
    options = resolve({"url": URL, "access_token": "x", "ca_path": "/ca.pem", "client_cert": "/c.pem",
                       "client_key": "/k.pem"})
    assert options.requests_tls() == {"verify": "/ca.pem", "cert": ("/c.pem", "/k.pem")}
    assert resolve({"url": URL, "access_token": "x", "client_cert": "/both.pem"}).requests_tls()["cert"] == "/both.pem"


def test_repr_hides_secrets():
    options = resolve(PASSWORD_LOGIN)
    assert "pa55word!" not in repr(options) and "s3cret-client" not in repr(options)
    assert sorted(options.secret_values()) == ["pa55word!", "s3cret-client"]


# --- grant inference ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "given,grant",
    [
        ({"access_token": "t"}, "token"),
        ({"access_token": "t", "username": "u", "password": "p", "client_id": "2"}, "token"),
        ({"refresh_token": "r", "client_id": "2", "username": "u", "password": "p"}, "refresh_token"),
        ({"username": "u", "password": "p", "client_id": "2", "client_secret": "s"}, "password"),
        ({"client_id": "2", "client_secret": "s"}, "client_credentials"),
        ({"username": "u"}, None),
        ({"client_id": "2"}, None),
    ],
)
def test_grant_inference_order(given, grant):
    if grant is None:  # nothing implies a grant: resolving fails, naming the credentials to give
        with pytest.raises(OptionError):
            resolve({"url": URL, **given})
        return
    assert resolve({"url": URL, **given}).grant_type == grant


def test_task_credentials_win_over_a_different_credential_in_the_environment():
    # PM_TOKEN exported, the task logs in with a password: the task's credential is used
    env = {"PM_TOKEN": "exported-token"}
    options = resolve(PASSWORD_LOGIN, env)
    assert options.grant_type == "password"
    # and the other way round: the task gives a token, the environment has a password login
    env = {"PM_USERNAME": "ci", "PM_PASSWORD": "pw", "PM_CLIENT_ID": "2"}
    assert resolve({"url": URL, "access_token": "task-token"}, env).grant_type == "token"


def test_grant_type_from_the_environment_does_not_override_task_credentials():
    env = {"PM_GRANT_TYPE": "password", "PM_USERNAME": "ci", "PM_PASSWORD": "pw", "PM_CLIENT_ID": "2"}
    assert resolve({"url": URL, "access_token": "task-token"}, env).grant_type == "token"
    # but it decides when the task gives no credential of its own
    env["PM_CLIENT_SECRET"] = "s"
    assert resolve({"url": URL}, {**env, "PM_GRANT_TYPE": "client_credentials"}).grant_type == "client_credentials"
    # and a grant_type in the task always wins
    assert resolve({**PASSWORD_LOGIN, "grant_type": "client_credentials"}, env).grant_type == "client_credentials"


def test_inference_falls_back_to_the_environment():
    env = {"PM_CLIENT_ID": "2", "PM_CLIENT_SECRET": "s", "PM_USERNAME": "u", "PM_PASSWORD": "p"}
    assert resolve({"url": URL}, env).grant_type == "password"


def test_explicit_grant_type_and_grant_hint():
    options = resolve({**PASSWORD_LOGIN, "grant_type": "client_credentials"})
    assert options.grant_type == "client_credentials"
    assert resolve({"url": URL, "client_id": "3"}, grant_hint="authorization_code").grant_type == "authorization_code"


def test_no_credentials_is_one_line_with_the_ways_to_give_them():
    with pytest.raises(OptionError) as caught:
        resolve({"url": URL})
    message = str(caught.value)
    assert "\n" not in message and "access_token (PM_TOKEN)" in message and "grant_type" in message


# --- argument rules (the same checker for modules and lookups) ---------------------------------

@pytest.mark.parametrize(
    "given,missing",
    [
        ({"grant_type": "password", "client_id": "2", "username": "u"}, "password"),
        ({"grant_type": "password", "username": "u", "password": "p"}, "client_id"),
        ({"grant_type": "refresh_token", "client_id": "2"}, "refresh_token"),
        ({"grant_type": "client_credentials", "client_id": "2"}, "client_secret"),
        ({"grant_type": "authorization_code"}, "client_id"),
        ({"grant_type": "token"}, "access_token"),
    ],
)
def test_required_if_per_grant(given, missing):
    with pytest.raises(OptionError) as caught:
        resolve({"url": URL, **given})
    message = str(caught.value)
    assert f"needs {missing}" in message or f"with {missing}" in message
    assert "PM_" in message  # says where it can come from


def test_required_together_username_password():
    with pytest.raises(OptionError, match=r"username must be set together with password; set password \(or PM_PASSWORD\)"):
        resolve({"url": URL, "access_token": "t", "username": "u"})
    # satisfied across sources: username from the task, password from the environment
    assert resolve({"url": URL, "client_id": "2", "username": "u"}, {"PM_PASSWORD": "p"}).grant_type == "password"


def test_required_by_client_key():
    with pytest.raises(OptionError, match="client_key needs client_cert"):
        resolve({"url": URL, "access_token": "t", "client_key": "/k.pem"})


def test_mutually_exclusive_checker():
    rules = RuleSet(mutually_exclusive=(("body", "form"),))
    check_rules({"body": {"a": 1}}, rules)
    with pytest.raises(OptionError, match="body and form are mutually exclusive"):
        check_rules({"body": {"a": 1}, "form": {"b": 2}}, rules)


def test_connection_rules_as_module_kwargs_are_accepted_by_ansible():
    kwargs = CONNECTION_RULES.as_module_kwargs()
    assert ["grant_type", "password", ["client_id", "username", "password"]] in kwargs["required_if"]
    validator = ArgumentSpecValidator(connection_argument_spec(), **kwargs)
    result = validator.validate({"url": URL, "grant_type": "password", "client_id": "2"})
    assert any("username" in message for message in result.error_messages)


def _module_validator(module):
    spec = connection_argument_spec()
    spec.update(module.ARGUMENT_SPEC)
    return ArgumentSpecValidator(spec, **module.RULES.as_module_kwargs())


@pytest.mark.parametrize(
    "params,error",
    [
        ({"path": "users", "body": {"a": 1}, "form": {"b": 2}}, "mutually exclusive: body|form"),
        ({"path": "users", "body": {"a": 1}, "files": {"f": "/x"}}, "mutually exclusive: body|files"),
        ({"path": "users", "all_pages": True, "dest": "/tmp/x"}, "mutually exclusive: all_pages|dest"),
        ({"body": {}}, "missing required arguments: path"),
        ({"path": "users", "method": "FETCH"}, "value of method must be one of"),
        ({"path": "users"}, None),
    ],
)
def test_pm_api_rules(params, error):
    result = _module_validator(pm_api).validate(dict(params))
    if error is None:
        assert not result.error_messages
    else:
        assert any(error in message for message in result.error_messages), result.error_messages


@pytest.mark.parametrize(
    "params,error",
    [
        ({"code": "c", "callback_url": "http://x/?code=c"}, "mutually exclusive: code|callback_url"),
        ({"name": "ci", "code": "c"}, "mutually exclusive: name|code"),
        ({"token_id": "abc", "callback_url": "http://x"}, "mutually exclusive: token_id|callback_url"),
        ({"received_state": "s"}, "missing parameter(s) required by 'received_state': code"),
        ({"name": "ci", "state": "gone"}, "value of state must be one of"),
        ({"name": "ci", "user": "admin", "state": "absent"}, None),
    ],
)
def test_pm_token_rules(params, error):
    result = _module_validator(pm_token).validate(dict(params))
    if error is None:
        assert not result.error_messages
    else:
        assert any(error in message for message in result.error_messages), result.error_messages


def test_module_options_do_not_shadow_connection_options():
    names = {option.name for option in CONNECTION_OPTIONS}
    assert not names & set(pm_api.ARGUMENT_SPEC)
    assert not names & set(pm_token.ARGUMENT_SPEC)


# --- which options the task set -----------------------------------------------------------------

def test_explicit_from_module_args_maps_aliases_and_ignores_nulls():
    raw = {"url": URL, "token": "abc", "ca_cert": "/ca.pem", "username": None, "_ansible_check_mode": False}
    assert explicit_from_module_args(raw) == {"url", "access_token", "ca_path"}


def test_explicit_from_lookup_keywords_and_variables():
    direct = {"url": URL, "token": "abc", "password": None, "query": {"a": 1}}
    variables = {"pm_username": "jdoe", "pm_client_id": None, "pm_timeout": 5, "other": "x"}
    assert explicit_from_lookup(variables, direct) == {"url", "access_token", "username", "timeout"}
    assert explicit_from_lookup(None, None) == set()
