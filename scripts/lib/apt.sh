# shellcheck shell=bash
# Sourced by the test scripts. `ensure_apt_command CMD PACKAGE` installs Debian's PACKAGE (without
# its recommended packages) when CMD is not on PATH: as root, or else with sudo; when the install
# fails, the package lists are updated and it is tried once more. Fails when CMD is still missing.
#
#   ensure_apt_command promtool prometheus

ensure_apt_command() {
  local cmd="$1" package="$2"
  command -v "$cmd" >/dev/null 2>&1 && return 0
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  printf '\n--> %s\n' "installing Debian's $package (for $cmd)"
  local install=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "$package")
  if ! "${install[@]}" >/dev/null; then
    "${sudo[@]}" apt-get update -qq
    "${install[@]}" >/dev/null
  fi
  if ! command -v "$cmd" >/dev/null 2>&1; then
    echo "installing $package gave no $cmd" >&2
    return 1
  fi
}
