#!/usr/bin/env bash
# Validate meta/execution-environment.yml with ansible-builder, on the built tarball:
#  1. `ansible-builder introspect` on the unpacked collection must find the collection's Python
#     requirements (requirements.txt) and system packages (bindep.txt) through the EE file;
#  2. `ansible-builder create` with the EE file (placed at the collection root, where its relative
#     paths point) must write a build context. No image is built: that needs a container engine.
#   usage: tools/check_ee.sh VENV TARBALL
set -euo pipefail
venv=$(cd "${1:?venv}" && pwd)
tarball=$(readlink -f "${2:?tarball}")
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/tests/output/ee"
rm -rf "$work" && mkdir -p "$work/collections/ansible_collections/processmaker/core"
coll="$work/collections/ansible_collections/processmaker/core"
tar -xzf "$tarball" -C "$coll"
for f in meta/execution-environment.yml requirements.txt bindep.txt; do
  [ -f "$coll/$f" ] || { echo "check_ee: $f is not in the built collection" >&2; exit 1; }
done

"$venv/bin/ansible-builder" introspect --sanitize "$work/collections" | tee "$work/introspect.yml"
"$venv/bin/python" - "$work/introspect.yml" "$coll" <<'PY'
import sys, yaml
data = yaml.safe_load(open(sys.argv[1]).read().split("\n", 1)[1])  # first line is a comment
coll = sys.argv[2]
def wanted(path):
    return [l.split("#")[0].strip() for l in open(path) if l.split("#")[0].strip() and not l.startswith("-")]
python = [l.split("#")[0].strip() for l in data.get("python") or []]
system = [l.split("#")[0].strip() for l in data.get("system") or []]
missing = [r for r in wanted(f"{coll}/requirements.txt") if r not in python]
missing += [r for r in wanted(f"{coll}/bindep.txt") if r not in system]
if missing:
    sys.exit(f"check_ee: ansible-builder introspect did not find {missing}")
print(f"check_ee: introspect found {len(python)} Python and {len(system)} system requirement(s)")
PY

# ansible-builder resolves the dependency files relative to the EE file, while a collection's
# meta/execution-environment.yml names them relative to the collection root (as introspect reads
# them): so create from a copy of the EE file placed at the root of a copy of the collection.
cp -r "$coll" "$work/root" && cp "$coll/meta/execution-environment.yml" "$work/root/execution-environment.yml"
(cd "$work/root" && "$venv/bin/ansible-builder" create -f execution-environment.yml --context "$work/context")
for f in Containerfile Dockerfile; do [ -f "$work/context/$f" ] && containerfile="$work/context/$f"; done
[ -n "${containerfile:-}" ] || { echo "check_ee: no Containerfile written" >&2; exit 1; }
grep -q requests "$work/context/_build/requirements.txt"
echo "check_ee: build context written: ${containerfile#$root/}"
