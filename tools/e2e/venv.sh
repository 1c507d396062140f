#!/usr/bin/env bash
# Creates (or reuses) a project-local Python virtualenv from a pinned, hashed requirements file.
#
#   tools/e2e/venv.sh aws      # .venv-e2e/aws:    moto[server] + awscli  (npm run e2e:aws)
#   tools/e2e/venv.sh judges   # .venv-e2e/judges: checkov + zizmor       (the judges test)
#
# Prints the venv's bin directory on stdout (progress goes to stderr). Idempotent: the venv
# records the sha256 of the requirements file it was built from and is reused while that
# matches; any change rebuilds it from scratch. Two venvs because the resolver settles checkov
# on boto3/botocore 1.35 and awscli on botocore 1.44 (awscli pins botocore exactly).
# Regenerate a requirements file after editing its .in (all transitive deps, with hashes):
#   pip-compile --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
#     --no-emit-find-links -o tools/e2e/requirements-<name>.txt tools/e2e/requirements-<name>.in
set -euo pipefail

name="${1:?usage: venv.sh aws|judges}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
requirements="$root/tools/e2e/requirements-$name.txt"
[ -f "$requirements" ] || { echo "venv.sh: no requirements file $requirements (allowed: aws, judges)" >&2; exit 2; }
venv="$root/.venv-e2e/$name"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  echo "venv.sh: $venv matches $(basename "$requirements") ($want), reused" >&2
else
  # The requirements were resolved on Python 3.11.7 and some pins need >= 3.11.5. Under `npm
  # test`, npm puts node's own directory (/usr/bin here) first on PATH, so a bare python3 may be
  # Debian's 3.11.2 while pyenv's 3.11.7 is installed: take the first interpreter new enough.
  python=""
  for candidate in ${PYTHON:+"$PYTHON"} "${PYENV_ROOT:-$HOME/.pyenv}/shims/python3" python3 python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11, 5) else 1)' 2>/dev/null; then
      python="$candidate"
      break
    fi
  done
  [ -n "$python" ] || { echo "venv.sh: no Python 3.11.5 or newer found (set PYTHON=/path/to/python3)" >&2; exit 1; }
  echo "venv.sh: building $venv from $(basename "$requirements")" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  # --require-hashes: every distribution, transitive ones included, must match a pinned hash.
  # --no-deps: nothing outside the file is resolved. PIP_CONSTRAINT is cleared so a machine-wide
  # constraints file cannot change what the hashes pin.
  PIP_CONSTRAINT="" "$venv/bin/pip" install --quiet --disable-pip-version-check \
    --require-hashes --no-deps -r "$requirements" >&2
  "$venv/bin/pip" check >&2
  echo "$want" >"$stamp"
fi
echo "$venv/bin"
