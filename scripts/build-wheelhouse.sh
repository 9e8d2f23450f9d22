#!/usr/bin/env bash
# Build the offline wheelhouse of the SSAS app on the control node (app/build_wheelhouse.py):
# the ssas_app wheel plus every locked dependency wheel and requirements.lock. The roles
# (ssas_app_wheelhouse_dir) copy it to the hosts, which install with `pip --no-index`.
#
#   scripts/build-wheelhouse.sh OUT_DIR        (PYTHON=... to pick the interpreter)
#
# Wheels are built for the interpreter running the build, so it must match the hosts:
# CPython 3.11 on x86_64 Linux (Debian 12). SOURCE_DATE_EPOCH (default: 1980-01-01, the
# earliest a wheel's zip can record) makes the app wheel byte-reproducible: its bytes depend
# only on the app's sources, so rebuilding an unchanged tree, from a checkout or from the
# sources an installed ssas-deploy carries, does not make the hosts reinstall.
#
# The lock only covers the interpreter it was compiled with. Debian 12's Python is 3.11.2,
# and some dependencies need more there (redis needs async-timeout below 3.11.3), so the
# wheelhouse is completed by resolving ssas-app with the hosts' interpreter
# (HOST_PYTHON, default /usr/bin/python3 = Debian 12's), pinned by the lock.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:?usage: build-wheelhouse.sh OUT_DIR}
python=${PYTHON:-python3}

"$python" - <<'PY' || exit 2
import platform, sys
if sys.version_info[:2] != (3, 11) or platform.machine() != "x86_64" or sys.platform != "linux":
    sys.exit(f"build-wheelhouse: need CPython 3.11 on x86_64 Linux like the hosts, "
             f"not {platform.python_version()} on {platform.machine()} {sys.platform}")
PY

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-315532800}
"$python" "$repo/app/build_wheelhouse.py" "$out"

host_python=${HOST_PYTHON:-/usr/bin/python3}
[ -x "$host_python" ] || { echo "build-wheelhouse: HOST_PYTHON $host_python not found" >&2; exit 2; }
"$host_python" -m pip --version >/dev/null 2>&1 || {
  echo "build-wheelhouse: $host_python has no pip, which completes the wheelhouse for the" \
       "hosts' Python: apt install python3-pip, or set HOST_PYTHON to a Debian 12 Python 3.11" \
       "with pip" >&2
  exit 2
}
app_wheel=$(cd "$out" && ls ssas_app-*.whl)
version=$(echo "$app_wheel" | cut -d- -f2)
constraints=$(mktemp)
trap 'rm -f "$constraints"' EXIT
grep -oE '^[A-Za-z0-9_.-]+==[^ ;\\]+' "$out/requirements.lock" > "$constraints"
before=$(ls "$out")
"$host_python" -m pip download --disable-pip-version-check --quiet --only-binary=:all: \
  --find-links "$out" --constraint "$constraints" --dest "$out" "ssas-app==$version"
added=$(comm -13 <(echo "$before") <(ls "$out") | tr '\n' ' ')
echo "wheelhouse $out: completed for $("$host_python" -V 2>&1) (added: ${added:-nothing})"
