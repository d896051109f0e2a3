# Sphinx configuration of the processmaker.core documentation site.
# Built by `make docs` (tools/build_docs.py), which stages this file, the guides and the
# antsibull-docs reference in docs/_build/rst and writes the site to docs/_build/html.

from __future__ import annotations

import re

project = "processmaker.core"
copyright = "processmaker.core contributors"
author = "processmaker.core contributors"
title = "processmaker.core documentation"
html_title = "processmaker.core"
html_short_title = "processmaker.core"

extensions = ["myst_parser", "sphinx_antsibull_ext"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

pygments_style = "ansible"
highlight_language = "YAML+Jinja"

html_theme = "sphinx_ansible_theme"
html_theme_options = {
    "collapse_navigation": False,
    "navigation_depth": 3,
}
html_show_sphinx = False
html_show_sourcelink = False
html_copy_source = False
html_use_modindex = False
html_use_index = False
html_domain_indices = False

default_role = "any"
nitpicky = True

# The site is built offline: no intersphinx inventories. References the antsibull-docs pages make
# to ansible.builtin plugins and to Ansible's reference appendices point at docs.ansible.com.
_ANSIBLE_DOCS = "https://docs.ansible.com/ansible/latest"
_EXTERNAL_PLUGIN_REF = re.compile(
    r"^ansible_collections\.(ansible)\.(builtin)\.([a-z0-9_]+)_(module|lookup|filter|test)(?:__(.+))?$"
)
_EXTERNAL_LABELS = {
    "ansible_configuration_settings": "reference_appendices/config.html",
    "common_return_values": "reference_appendices/common_return_values.html",
}
# M(processmaker.core.<role>) in a role's argument_specs names a role as if it were a module;
# point it at the role's page (and say so in the build log) rather than fail the whole site.
_ROLE_AS_MODULE_REF = re.compile(r"^ansible_collections\.processmaker\.core\.([a-z0-9_]+)_module$")


def _external_reference(app, env, node, contnode):
    from docutils import nodes
    from sphinx.util import logging

    target = node.get("reftarget", "")
    uri = None
    match = _EXTERNAL_PLUGIN_REF.match(target)
    if match:
        namespace, name, plugin, kind, anchor = match.groups()
        uri = f"{_ANSIBLE_DOCS}/collections/{namespace}/{name}/{plugin}_{kind}.html" + (f"#{anchor}" if anchor else "")
    elif target in _EXTERNAL_LABELS:
        uri = f"{_ANSIBLE_DOCS}/{_EXTERNAL_LABELS[target]}"
    if uri:
        ref = nodes.reference("", "", internal=False, refuri=uri)
        ref.append(contnode)
        return ref
    match = _ROLE_AS_MODULE_REF.match(target)
    role_label = f"ansible_collections.processmaker.core.{match.group(1)}_role" if match else ""
    if role_label in env.domaindata["std"]["anonlabels"]:
        docname, labelid = env.domaindata["std"]["anonlabels"][role_label]
        logging.getLogger(__name__).info(
            f"{node.source}:{node.line}: M(processmaker.core.{match.group(1)}) names a role; linked to its role page"
            f" (write R(processmaker.core.{match.group(1)} role,{role_label}) instead)"
        )
        ref = nodes.reference("", "", internal=True, refuri=app.builder.get_relative_uri(node["refdoc"], docname) + "#" + labelid)
        ref.append(contnode)
        return ref
    return None


def setup(app):
    app.connect("missing-reference", _external_reference)
