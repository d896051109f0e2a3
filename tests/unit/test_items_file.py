"""pm_resource's ``src``: the items file the module reads itself. Every way a file can be wrong is one line
naming src, the file and the fix, and never quotes the file (it holds passwords)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible_collections.processmaker.core.plugins.module_utils.resource import (
    items_file,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.items_file import (
    read_items,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.planner import (
    PlanError,
)

SECRET = "F1le-Secret-value"
USER = {"username": "jdoe", "firstname": "J", "lastname": "Doe", "email": "j@example.com", "password": SECRET}


def failure(path: Path) -> str:
    with pytest.raises(PlanError) as raised:
        read_items(str(path))
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"src {path}: "), message
    assert "JSON or YAML file holding a list" in message, "the fix"
    assert SECRET not in message
    return message


def test_json_and_yaml_give_the_same_items(tmp_path):
    as_json, as_yaml = tmp_path / "users.json", tmp_path / "users.yml"
    as_json.write_text(json.dumps([USER]))
    as_yaml.write_text("".join(f"{'- ' if n == 0 else '  '}{key}: {value}\n" for n, (key, value) in enumerate(USER.items())))
    assert read_items(str(as_json)) == read_items(str(as_yaml)) == [USER]


def test_yaml_dates_and_times_stay_text(tmp_path):
    path = tmp_path / "users.yaml"
    path.write_text("- {username: d, birthdate: 1990-01-02, meta: {seen: 2024-05-06 07:08:09}, age: 7, ok: true}\n")
    assert read_items(str(path)) == [{"username": "d", "birthdate": "1990-01-02",
                                      "meta": {"seen": "2024-05-06 07:08:09"}, "age": 7, "ok": True}]


def test_an_empty_list_is_no_items(tmp_path):
    path = tmp_path / "none.json"
    path.write_text("[]")
    assert read_items(str(path)) == []


@pytest.mark.parametrize(("name", "text", "says"), [
    ("broken.json", '[{"password": "' + SECRET + '", ', "not valid JSON (line 1, column"),
    ("broken.yml", f"- {{password: {SECRET}, email: [\n", "not valid YAML or JSON (line 2, column 1)"),
    ("tabs.yml", f"-\tpassword: {SECRET}\n\t- x", "not valid YAML or JSON (line"),
    ("mapping.json", json.dumps({"users": [USER]}), "holds a dict, not a list"),
    ("scalar.yml", SECRET, "holds a str, not a list"),
    ("empty.yml", "", "holds a NoneType, not a list"),
    ("deep.json", "[" * 200000 + "]" * 200000, "nested too deeply"),
    ("latin1.json", None, "not UTF-8 text"),
])
def test_a_bad_file_is_one_line_that_never_quotes_it(tmp_path, name, text, says):
    path = tmp_path / name
    if text is None:
        path.write_bytes(json.dumps([dict(USER, lastname="Müller")], ensure_ascii=False).encode("latin-1"))
    else:
        path.write_text(text)
    assert says in failure(path)


def test_a_missing_file_a_folder_and_an_unreadable_file(tmp_path, monkeypatch):
    assert "no such file on the host the task runs on" in failure(tmp_path / "nowhere.json")
    assert "is a directory" in failure(tmp_path)
    path = tmp_path / "locked.json"
    path.write_text("[]")

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("builtins.open", refused)
    assert "cannot be read (Permission denied)" in failure(path)


def test_without_pyyaml_json_still_works_and_yaml_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr(items_file, "yaml", None)
    as_json, as_yaml = tmp_path / "users.json", tmp_path / "users.yml"
    as_json.write_text(json.dumps([USER]))
    as_yaml.write_text(f"- username: jdoe\n  password: {SECRET}\n")
    assert read_items(str(as_json)) == [USER]
    assert "PyYAML is not installed where the task runs: use JSON" in failure(as_yaml)
