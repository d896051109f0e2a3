"""pm_sandbox: a ProcessMaker 4 compatible API server backed by SQLite."""

__version__ = "0.1.0"
