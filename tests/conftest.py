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
