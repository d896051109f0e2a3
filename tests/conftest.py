"""Make this checkout importable as the collection ``processmaker.core``.

Ansible finds collections under ``<path>/ansible_collections/<namespace>/<name>``; the repository
root is the collection root, so a symlink under tests/output/ gives both pytest (imports of
``ansible_collections.processmaker.core...``) and ansible-playbook (ANSIBLE_COLLECTIONS_PATH) a view
of the working tree without copying it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS_ROOT = REPO_ROOT / "tests" / "output" / "collections"


def ensure_collection_link() -> Path:
    link = COLLECTIONS_ROOT / "ansible_collections" / "processmaker" / "core"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        try:
            link.symlink_to(REPO_ROOT, target_is_directory=True)
        except FileExistsError:
            pass
    return COLLECTIONS_ROOT


ensure_collection_link()
if str(COLLECTIONS_ROOT) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS_ROOT))
sys.path.append(str(REPO_ROOT / "tests"))  # helpers shared across suites: pki_helpers, headless_chromium
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(COLLECTIONS_ROOT))


def pytest_configure(config) -> None:
    """Property tests run a quarter of their examples in ``make test``, all in ``make test-deep``."""
    from hypothesis import settings
    from property_runs import DEEP

    settings.register_profile("quick", max_examples=25)
    settings.register_profile("deep", max_examples=100)
    settings.load_profile("deep" if DEEP else "quick")


def pytest_collection_modifyitems(items) -> None:
    """Every hypothesis test is a ``property`` test: ``make test-deep`` runs them again, in full."""
    import pytest

    for item in items:
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.property)
