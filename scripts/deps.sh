# Sourced by scripts/run and scripts/test: installs the Debian 12 packages the build and the
# tests need, when any is missing. Uses sudo when not root.
CB_DEB_PACKAGES=(
  g++ meson ninja-build pkg-config cmake
  libasio-dev nlohmann-json3-dev libsimdjson-dev libsqlitecpp-dev libsqlite3-dev libssl-dev libspdlog-dev
  libfmt-dev doctest-dev libvalijson-dev libre2-dev libtomlplusplus-dev libcli11-dev libmimalloc-dev
  libmicrohttpd-dev libpq-dev
  bubblewrap socat sqlite3 git util-linux help2man
)
# What only the tests need (scripts/test): PostgreSQL 15's server and client for the team-store
# tests (tests/pg/with-pg starts a throw-away cluster of its own; the cluster the package may
# create and start is not used), and the openssl command that makes their TLS certificates.
CB_TEST_DEB_PACKAGES=(postgresql-15 postgresql-client-15 openssl)

cb_install_deps() {
  local missing=() p
  for p in "${CB_DEB_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing missing Debian packages: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
