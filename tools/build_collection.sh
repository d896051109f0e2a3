#!/usr/bin/env bash
# Build the collection tarball the way a clean clone would: stage the files git knows about
# (tracked, plus untracked ones that .gitignore does not exclude; so no .venv, caches or
# tests/output), then `ansible-galaxy collection build` there (galaxy.yml's build_ignore drops
# sandbox/, tests/, bench/ ...). Prints the tarball's path.
#   usage: [EXTRA_BUILD_IGNORE='a b'] tools/build_collection.sh ANSIBLE_GALAXY OUTPUT_DIR
set -euo pipefail
galaxy=${1:?ansible-galaxy}
out=${2:?output dir}
root=$(cd "$(dirname "$0")/.." && pwd)
stage="$root/tests/output/stage"
rm -rf "$stage" && mkdir -p "$stage" "$out"
cd "$root"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # read-only git: list the files, copy the ones that exist (a deleted tracked file is skipped)
  git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
    | tar --null -T - -cf - | tar -xf - -C "$stage"
else
  tar --exclude=./tests/output --exclude=./.venv --exclude=./.git -cf - . | tar -xf - -C "$stage"
fi
# EXTRA_BUILD_IGNORE="tools pytest.ini": preview the effect of more build_ignore entries (staged copy only)
for extra in ${EXTRA_BUILD_IGNORE:-}; do
  sed -i "s|^build_ignore:$|build_ignore:\n  - $extra|" "$stage/galaxy.yml"
done
"$galaxy" collection build --force --output-path "$out" "$stage" >&2
ls -t "$out"/processmaker-core-*.tar.gz | head -1
