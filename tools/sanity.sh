#!/usr/bin/env bash
# `ansible-test sanity` on the collection as users get it: the tarball that
# `ansible-galaxy collection build` makes (tools/build_collection.sh), unpacked at
# $SANITY_ROOT/ansible_collections/processmaker/core, plus tests/sanity/ (the ignore files,
# which build_ignore leaves out of the tarball). sandbox/, tests/, bench/ are not part of the
# collection, so they are not sanity-checked.
#
# ansible-test --venv bootstraps pip in each venv with a get-pip script it downloads from a host
# that is unreachable here; it uses a cached copy when there is one, so the stand-in
# tools/get_pip_standin.py (ensurepip + pip install) is put in that cache first.
#   usage: tools/sanity.sh VENV TARBALL [PYTHON_VERSION] [extra ansible-test args]
# SANITY_ROOT defaults to a directory outside the checkout: under the repository's tests/output/
# ansible-test finds no targets at all ("All targets skipped"), so the tree must live elsewhere.
set -euo pipefail
venv=$(cd "${1:?venv}" && pwd)
tarball=$(readlink -f "${2:?tarball}")
python_version=${3:-3.11}
shift 3 || shift $#
root=$(cd "$(dirname "$0")/.." && pwd)

pip_version=$("$venv/bin/python" - <<'PY'
import inspect, re
from ansible_test._internal import python_requirements as r
print(re.search(r"pip='([^']+)'", inspect.getsource(r.get_venv_packages)).group(1))
PY
)
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
mkdir -p "$(dirname "$cache")"
if ! cmp -s "$root/tools/get_pip_standin.py" "$cache"; then
  if [ -e "$cache" ] && ! grep -q "Stand-in for ansible-test's get-pip script" "$cache"; then
    echo "sanity.sh: keeping the existing (real) $cache"
  else
    cp "$root/tools/get_pip_standin.py" "$cache"
  fi
fi

sanity_root=${SANITY_ROOT:-${TMPDIR:-/tmp}/processmaker-core-sanity}
dest="$sanity_root/ansible_collections/processmaker/core"
rm -rf "$sanity_root" && mkdir -p "$dest"
tar -xzf "$tarball" -C "$dest"
if [ -d "$root/tests/sanity" ]; then
  mkdir -p "$dest/tests" && cp -r "$root/tests/sanity" "$dest/tests/"
fi
cd "$dest"
export PATH="$venv/bin:$PATH"
set +e
ansible-test sanity --venv --python "$python_version" --color no "$@"
rc=$?
# keep the results (ansible-test writes them under the tree) where the project's outputs live
rm -rf "$root/tests/output/sanity" && mkdir -p "$root/tests/output/sanity"
cp -r tests/output/. "$root/tests/output/sanity/" 2>/dev/null || true
exit $rc
