"""Docs: ansible-doc renders every plugin, module docs match the argument_spec (the options are
defined once and rendered into both), and the examples follow the collection's rules."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible_collections.processmaker.core.plugins.module_utils.options import (
    CACHE_OPTIONS,
    CONNECTION_OPTIONS,
    LOOKUP_OPTIONS,
    connection_argument_spec,
)
from ansible_collections.processmaker.core.plugins.modules import (
    pm_api,
    pm_auth_client,
    pm_package,
    pm_request,
    pm_resource,
    pm_task,
    pm_token,
)

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS_ROOT = REPO / "tests" / "output" / "collections"
ANSIBLE_DOC = Path(sys.executable).parent / "ansible-doc"
# Every plugin file in the collection, so a new plugin is checked without editing this test.
PLUGINS = {
    kind: sorted(path.stem for path in (REPO / "plugins" / folder).glob("*.py") if not path.stem.startswith("_"))
    for kind, folder in (("module", "modules"), ("lookup", "lookup"))
}
MODULES = [pm_api, pm_auth_client, pm_package, pm_request, pm_resource, pm_task, pm_token]


@pytest.fixture(scope="module")
def docs():
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_ROOT), "ANSIBLE_NOCOLOR": "1"}
    rendered = {}
    for kind, names in PLUGINS.items():
        done = subprocess.run(
            [str(ANSIBLE_DOC), "-t", kind, "--json", *[f"processmaker.core.{n}" for n in names]],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "WARNING" not in done.stderr and "ERROR" not in done.stderr, done.stderr
        for name, doc in json.loads(done.stdout).items():
            rendered[(kind, name.split(".")[-1])] = doc
    return rendered


def test_every_plugin_renders_with_examples_and_returns(docs):
    for kind, names in PLUGINS.items():
        for name in names:
            doc = docs[(kind, name)]
            assert doc["doc"]["short_description"] and doc["doc"]["description"]
            assert doc["examples"].strip() and doc["return"]


def test_every_module_is_checked_against_its_argument_spec():
    assert sorted(module.__name__.rsplit(".", 1)[1] for module in MODULES) == PLUGINS["module"]


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.__name__.rsplit(".", 1)[1])
def test_module_docs_match_the_argument_spec(docs, module):
    name = module.__name__.rsplit(".", 1)[1]
    documented = docs[("module", name)]["doc"]["options"]
    spec = connection_argument_spec()
    spec.update(module.ARGUMENT_SPEC)
    assert set(documented) == set(spec)
    for option, definition in spec.items():
        doc = documented[option]
        assert doc["type"] == definition.get("type", "str"), option
        assert doc.get("default") == definition.get("default"), option
        assert doc.get("choices") == definition.get("choices"), option
        assert doc.get("aliases", []) == definition.get("aliases", []), option
        assert doc.get("elements") == definition.get("elements"), option
        assert bool(doc.get("required")) == bool(definition.get("required")), option


def test_modules_are_in_the_action_group(docs):
    for name in PLUGINS["module"]:
        attributes = docs[("module", name)]["doc"]["attributes"]
        assert attributes["action_group"]["membership"] == ["processmaker.core.all"]
        assert attributes["check_mode"]["support"] == "full"
        assert (attributes["platform"]["support"], attributes["platform"]["platforms"]) == ("full", "posix"), name
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
    assert set(PLUGINS["module"]) <= set(runtime["action_groups"]["all"])


def test_module_docs_name_each_environment_variable(docs):
    for name in PLUGINS["module"]:
        options = docs[("module", name)]["doc"]["options"]
        for option in CONNECTION_OPTIONS:
            assert f"E({option.env})" in " ".join(options[option.name]["description"]), option.name


@pytest.mark.parametrize("name", PLUGINS["lookup"])
def test_lookup_options_read_variables_and_environment(docs, name):
    options = docs[("lookup", name)]["doc"]["options"]
    for option in (*LOOKUP_OPTIONS, *CACHE_OPTIONS):
        doc = options[option.name]
        assert doc["env"] == [{"name": option.env}], option.name
        assert doc["vars"] == [{"name": option.var}], option.name
        assert doc.get("default") == option.default, option.name


@pytest.mark.parametrize("name", PLUGINS["lookup"])
def test_lookups_document_no_option_they_cannot_use(docs, name):
    """The authorization code flow needs a person: its options are the modules' alone, and the grant_type
    docs say why a lookup cannot run it."""
    options = docs[("lookup", name)]["doc"]["options"]
    assert "authorize_url" not in options and "redirect_uri" not in options
    assert "Lookups cannot run V(authorization_code)" in " ".join(options["grant_type"]["description"])


def test_the_doc_fragment_is_rendered_from_the_option_table():
    """plugins/doc_fragments/connection.py is static YAML (as ansible-test reads it), generated from the
    option table: an option changed without `make doc-fragment` fails here."""
    done = subprocess.run([sys.executable, str(REPO / "tools" / "render_doc_fragment.py"), "--check"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr


def _doc_texts(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for child in value.values():
            yield from _doc_texts(child)
    elif isinstance(value, list):
        for child in value:
            yield from _doc_texts(child)


def test_classic_markup_never_holds_a_parenthesis(docs):
    """C(...) ends at the first closing parenthesis (classic markup has no escapes): C(lookup('x'))
    renders as code 'lookup('x'' and a stray ')'. Values with parentheses use V() with a backslash."""
    sources = [doc["doc"] for doc in docs.values()]
    sources += [yaml.safe_load(path.read_text()) for path in sorted(REPO.glob("roles/*/meta/argument_specs.yml"))]
    broken = [match for text in _doc_texts(sources) for match in re.findall(r"\bC\(([^)]*)\)", text) if "(" in match]
    assert not broken, broken


def _examples(path: Path):
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "EXAMPLES":
            return yaml.safe_load(node.value.value)
    raise AssertionError(f"no EXAMPLES in {path}")


def _tasks(plays):
    for play in plays:
        yield from play.get("tasks", [])


@pytest.mark.parametrize("path", sorted((REPO / "plugins").glob("*/pm_*.py")), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_examples_are_plays_with_fqcn_and_no_log_on_registered_tokens(path):
    plays = _examples(path)
    assert isinstance(plays, list) and all("hosts" in play and "tasks" in play for play in plays)
    for task in _tasks(plays):
        action = next(key for key in task if "." in key and key not in ("no_log",))
        assert action.startswith(("processmaker.core.", "ansible.builtin.")), action
        if action == "processmaker.core.pm_token" and "register" in task and task[action].get("state") != "absent" \
                and "access_token" not in task[action]:
            assert task.get("no_log") is True, task["name"]


def test_examples_use_the_module_defaults_group():
    for path in sorted((REPO / "plugins" / "modules").glob("pm_*.py")):
        plays = _examples(path)
        assert any("group/processmaker.core.all" in play.get("module_defaults", {}) for play in plays), path


# ---------------------------------------------------------------------------------------------
# The guides, the README, `make help` and galaxy.yml agree with the repository

MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)")
MYST_MARKUP = re.compile(r"\{(ref|doc|toctree)\}")


def _pages():
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", _pages(), ids=lambda path: str(path.relative_to(REPO)))
def test_links_between_pages_resolve(page):
    """A link to another Markdown file (docs/awx_fallback.md, say) points at a file that exists."""
    for target in MARKDOWN_LINK.findall(page.read_text()):
        if "://" not in target:
            assert (page.parent / target).is_file(), f"{page.name} links to {target}, which does not exist"


def test_galaxy_documentation_link_is_a_plain_url_to_rendered_markdown():
    """galaxy.yml's documentation is a plain https URL to a page of this repository that GitHub renders as it is
    (no MyST roles such as {ref}, which the guides in docs/ use and GitHub shows raw)."""
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    url = galaxy["documentation"]
    assert re.fullmatch(r"https://[^\s\[\]()<>`{}]+", url), url
    prefix = galaxy["repository"].rstrip("/") + "/blob/main/"
    assert url.startswith(prefix), url
    target = REPO / url[len(prefix):]
    assert target.is_file() and not MYST_MARKUP.search(target.read_text()), target


def _make_help() -> str:
    done = subprocess.run(["make", "--no-print-directory", "-s", "help"], cwd=REPO, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_help_and_readme_list_every_target():
    """Every target of the Makefile's first .PHONY line (the developer's entry points) and PYTEST_ARGS are in
    `make help` and in the README's Development table."""
    makefile = (REPO / "Makefile").read_text()
    targets = re.search(r"^\.PHONY: (.*)$", makefile, re.MULTILINE).group(1).split()
    assert {"test-unit", "test-sandbox", "test-integration"} <= set(targets)
    helped = _make_help()
    readme = (REPO / "README.md").read_text()
    for target in [name for name in targets if name != "help"]:
        assert re.search(rf"^make {re.escape(target)}\s+- ", helped, re.MULTILINE), f"make help lacks {target}"
        assert f"`make {target}`" in readme, f"README lacks make {target}"
    assert "PYTEST_ARGS" in helped and "PYTEST_ARGS" in readme


def test_guides_name_real_pm_package_options():
    """Where a guide or the README names an option of pm_package in backticks, it is one of its options."""
    options = set(pm_package.ARGUMENT_SPEC) | set(connection_argument_spec())
    for page in _pages():
        for option in re.findall(r"`pm_package` with `([a-z_]+)`", page.read_text()):
            assert option in options, f"{page.name}: pm_package has no option {option}"


def test_readme_and_authentication_guide_agree_on_the_guides_bugs():
    """Both say the guide's snippets have two bugs against a real server; prepare_request_uri is a note."""
    readme = " ".join((REPO / "README.md").read_text().split())
    guide = " ".join((REPO / "docs" / "authentication.md").read_text().split())
    assert "in two ways" in readme and "two bugs" in guide
    assert "three reasons" not in guide and "3. **" not in guide
    for text in (readme, guide):
        assert "application/x-www-form-urlencoded" in text and "include_client_id=True" in text
        assert "prepare_request_uri" in text and "not a server bug" in text
