# shellcheck shell=bash
#
# Helpers shared by scripts/pg, scripts/run and scripts/test. Sourced, not run.
#
# Everything the scripts create lives under $OMBUD_ROOT/.ombud (private
# database clusters, the development admin key, setup and build logs), so
# `scripts/pg stop && rm -rf .ombud` returns a checkout to its fresh state.

OMBUD_ROOT=$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
OMBUD_STATE="$OMBUD_ROOT/.ombud"

# Packages needed to build the server.
# (libcurl: the webhook sender, src/outbound.)
OMBUD_BUILD_PKGS=(build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev
                  libpq-dev libssl-dev libglib2.0-dev libcurl4-openssl-dev)
# Extra packages for the test suite (unit tests, the format check, and
# clang with its libFuzzer runtime for the fuzz targets).
OMBUD_TEST_PKGS=(libcmocka-dev clang-format clang libclang-rt-14-dev)

ombud_say() { printf '==> %s\n' "$*"; }
ombud_warn() { printf 'ombud: %s\n' "$*" >&2; }
ombud_die() {
    printf 'ombud: %s\n' "$*" >&2
    exit 1
}

ombud_is_root() { [ "$(id -u)" -eq 0 ]; }

# Prints the last lines of a log file to stderr, framed, for failures.
ombud_show_log() {
    local file=$1 lines=${2:-80}
    [ -s "$file" ] || return 0
    {
        printf -- '----- last %s lines of %s -----\n' "$lines" "$file"
        tail -n "$lines" -- "$file"
        printf -- '----- end of %s -----\n' "$file"
    } >&2
}

# --- ports -----------------------------------------------------------------

# True when something accepts TCP connections on 127.0.0.1:$1.
ombud_port_taken() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints the first port in [$1, $2] that nothing listens on.
ombud_free_port() {
    local p=$1 last=$2
    while [ "$p" -le "$last" ]; do
        if ! ombud_port_taken "$p"; then
            printf '%s\n' "$p"
            return 0
        fi
        p=$((p + 1))
    done
    return 1
}

# --- PostgreSQL ----------------------------------------------------------------

# Prints the bin directory of the highest PostgreSQL major version installed,
# or of version $1 when given.
# shellcheck disable=SC2120
ombud_pg_bindir() {
    local want=${1:-} dir best="" bestver=-1 ver
    if [ -n "$want" ]; then
        dir="/usr/lib/postgresql/$want/bin"
        [ -x "$dir/pg_ctl" ] || return 1
        printf '%s\n' "$dir"
        return 0
    fi
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/pg_ctl" ] || continue
        ver=${dir#/usr/lib/postgresql/}
        ver=${ver%/bin}
        case $ver in '' | *[!0-9]*) continue ;; esac
        if [ "$ver" -gt "$bestver" ]; then
            bestver=$ver
            best=$dir
        fi
    done
    [ -n "$best" ] || return 1
    printf '%s\n' "$best"
}

# --- Debian packages -------------------------------------------------------------

ombud_pkg_installed() {
    dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q ' ok installed$'
}

OMBUD_APT_UPDATED=${OMBUD_APT_UPDATED:-0}

# Installs the given Debian packages that are missing. As root this runs
# apt-get (output to $OMBUD_STATE/setup.log, shown only on failure); as any
# other user it prints the command to run and exits 1.
#
# Installing `postgresql` would normally create and start a system cluster on
# port 5432. Ombud never uses it, so while apt-get runs the package scripts are
# told not to create a main cluster (createcluster.d) and not to start
# services (policy-rc.d). Both files are removed afterwards if we wrote them.
ombud_install_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        ombud_pkg_installed "$pkg" || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0

    if ! ombud_is_root; then
        {
            printf 'ombud: these Debian packages are missing: %s\n' "${missing[*]}"
            printf 'Install them, then run this command again:\n\n'
            printf '  sudo apt-get install -y --no-install-recommends %s\n\n' "${missing[*]}"
        } >&2
        exit 1
    fi
    command -v apt-get >/dev/null 2>&1 ||
        ombud_die "missing packages (${missing[*]}) and no apt-get: this needs Debian 12"

    mkdir -p -- "$OMBUD_STATE"
    local log="$OMBUD_STATE/setup.log"
    ombud_say "installing ${missing[*]} (log: .ombud/setup.log)"
    printf '\n=== %s: apt-get install %s\n' "$(date -u +%FT%TZ)" "${missing[*]}" >>"$log"

    local made_policy=0 made_ccdir=0 made_ccfile=0 rc=0
    local policy=/usr/sbin/policy-rc.d
    local ccdir=/etc/postgresql-common/createcluster.d
    local ccfile=$ccdir/zz-ombud-no-main-cluster.conf
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# Temporary: keeps services from starting during package installation.\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
        made_policy=1
    fi
    if [ ! -d "$ccdir" ]; then
        mkdir -p -- "$ccdir"
        made_ccdir=1
    fi
    if [ ! -e "$ccfile" ]; then
        printf '# Temporary: no system cluster while packages install.\ncreate_main_cluster = off\n' >"$ccfile"
        made_ccfile=1
    fi

    if [ "$OMBUD_APT_UPDATED" != 1 ]; then
        if apt-get update >>"$log" 2>&1; then
            OMBUD_APT_UPDATED=1
        else
            ombud_warn "apt-get update failed; trying to install anyway"
        fi
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        -o DPkg::Lock::Timeout=300 \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}" >>"$log" 2>&1 || rc=$?

    [ "$made_ccfile" = 1 ] && rm -f -- "$ccfile"
    [ "$made_ccdir" = 1 ] && rmdir -- "$ccdir" 2>/dev/null
    [ "$made_policy" = 1 ] && rm -f -- "$policy"

    if [ "$rc" -ne 0 ]; then
        ombud_show_log "$log" 40
        ombud_die "apt-get install failed (exit $rc)"
    fi
    return 0
}

# ombud_setup_packages serve|test: packages for building and serving, plus the
# test suite's with "test". OMBUD_NEED_PG=0 leaves out the PostgreSQL server.
ombud_setup_packages() {
    local pkgs=("${OMBUD_BUILD_PKGS[@]}")
    local with_pg=${OMBUD_NEED_PG:-1}
    [ "$with_pg" = 1 ] && pkgs+=(postgresql)
    if [ "${1:-}" = test ]; then
        pkgs+=("${OMBUD_TEST_PKGS[@]}")
        # The OpenAPI lint runs through npx; any npm on PATH will do.
        command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
    fi
    ombud_install_packages "${pkgs[@]}"
    if [ "$with_pg" = 1 ] && ! ombud_pg_bindir >/dev/null; then
        ombud_die "no PostgreSQL server found under /usr/lib/postgresql/*/bin"
    fi
    return 0
}

# --- building --------------------------------------------------------------------

# ombud_build <dir under build/> <CMAKE_BUILD_TYPE>: configures and builds,
# output to .ombud/build-<dir>.log, shown only on failure.
ombud_build() { # dir type [extra cmake -D options...]
    local dir=$1 type=$2 log jobs
    shift 2
    mkdir -p -- "$OMBUD_STATE"
    log="$OMBUD_STATE/build-$dir.log"
    jobs=$(nproc 2>/dev/null || echo 2)
    ombud_say "building $type (log: .ombud/build-$dir.log)"
    : >"$log"
    if ! cmake -S "$OMBUD_ROOT" -B "$OMBUD_ROOT/build/$dir" -DCMAKE_BUILD_TYPE="$type" "$@" >>"$log" 2>&1 ||
        ! cmake --build "$OMBUD_ROOT/build/$dir" -j"$jobs" >>"$log" 2>&1; then
        ombud_show_log "$log" 150
        ombud_die "build failed ($type)"
    fi
}

# Builds the libFuzzer targets (tests/fuzz) with clang in build/fuzz.
ombud_build_fuzz() {
    ombud_build fuzz Fuzz -DCMAKE_C_COMPILER=clang -DOMBUD_FUZZ=ON -DBUILD_TESTING=OFF
}
