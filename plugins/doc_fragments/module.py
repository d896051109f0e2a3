# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every module of the collection shares in its documentation: the requirement and the attributes
that do not vary (a module states its own check_mode and diff_mode support)."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
requirements:
  - requests >= 2.28 (Python library), on the host the module runs on (the controller for C(connection=local))
attributes:
  check_mode:
    description: Can run in check mode and return a prediction of whether it would change something, without changing it.
  diff_mode:
    description: Returns what changed (or would change, in check mode) when run with C(--diff).
  platform:
    description: The systems the module can run on.
    support: full
    platforms: posix
  action_group:
    description: Takes defaults from C(group/processmaker.core.all) in C(module_defaults).
    support: full
    membership:
      - processmaker.core.all
"""
