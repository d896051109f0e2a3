"""The ProcessMaker /api/1.0 routes: one module per resource, registered here."""

from ..http import Router
from . import (
    categories,
    environment_variables,
    export_import,
    group_members,
    groups,
    permissions,
    processes,
    requests,
    screens,
    script_executors,
    scripts,
    settings,
    tasks,
    tokens,
    users,
)

router = Router()
# Literal paths before parameterised ones is how Laravel registers them; werkzeug ranks static
# segments first anyway, so /users/restore never reaches /users/{user}.
for _module in (
    users, tokens, groups, group_members, environment_variables, categories, settings, permissions, screens, scripts,
    script_executors, processes, export_import, requests, tasks,
):
    router.include(_module.router)

__all__ = ["router"]
