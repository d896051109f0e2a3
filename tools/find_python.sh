#!/usr/bin/env bash
# Print the path of a working interpreter for the Python version given as $1 (e.g. 3.13).
# `python3.13` on PATH may be a pyenv shim that refuses to run when 3.13 is not the active pyenv
# version; in that case ask pyenv for the newest installed 3.13.x directly.
set -euo pipefail
want=${1:?usage: find_python.sh 3.13}
if command -v "python$want" >/dev/null 2>&1 && "python$want" -c 'import sys' >/dev/null 2>&1; then
  "python$want" -c 'import sys; print(sys.executable)'
  exit 0
fi
if command -v pyenv >/dev/null 2>&1; then
  ver=$(pyenv versions --bare 2>/dev/null | grep -E "^${want//./\\.}\.[0-9]+$" | sort -V | tail -1 || true)
  if [ -n "$ver" ]; then
    echo "$(pyenv root)/versions/$ver/bin/python$want"
    exit 0
  fi
fi
echo "find_python.sh: no working python$want found" >&2
exit 1
