# shellcheck shell=bash
# Sourced by the Python scripts: make_venv DIR creates a virtualenv at DIR with $PYTHON (default
# python3), installing Debian's python3-venv first when `python3 -m venv` needs it.

make_venv() {
  local dir="$1" python="${PYTHON:-python3}"
  if "$python" -m venv "$dir"; then
    return 0
  fi
  rm -rf "$dir"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null
  "$python" -m venv "$dir"
}
