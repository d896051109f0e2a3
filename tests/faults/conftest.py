"""Fixtures of the fault scenarios: the integration fixtures, reused as they are.

``pytest_plugins`` is only allowed in the root conftest, so the integration conftest is loaded
from its file under a name of its own (it puts ``tests/integration`` on ``sys.path`` for
``pm_integration``) and its fixtures are re-exported here: ``sandbox``, ``clean_sandbox``, ``pb``
and the autouse ``leak_guard`` behave exactly as in tests/integration.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

INTEGRATION_CONFTEST = Path(__file__).resolve().parents[1] / "integration" / "conftest.py"
_NAME = "processmaker_core_integration_conftest"


def _load_integration_conftest():  # the module
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    spec = importlib.util.spec_from_file_location(_NAME, INTEGRATION_CONFTEST)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module
    spec.loader.exec_module(module)
    return module


_integration = _load_integration_conftest()
sys.path.insert(0, str(Path(__file__).resolve().parent))  # faults_support, the helpers here
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))  # bulk_data, the 300 users

leak_guard = _integration.leak_guard
sandbox = _integration.sandbox
clean_sandbox = _integration.clean_sandbox
pb = _integration.pb
