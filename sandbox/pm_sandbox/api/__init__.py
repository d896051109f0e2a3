"""The ProcessMaker /api/1.0 resources."""

from ..http import Router
from ..store import Store

router = Router()


def seed_defaults(store: Store) -> None:
    """System data a fresh ProcessMaker has: permissions, settings."""
