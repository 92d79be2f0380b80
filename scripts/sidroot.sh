#!/usr/bin/env bash
# Run a command on a CPython this machine does not have (3.14, 3.15), in a Debian
# unstable (sid) chroot whose python3.X package provides it.
#
#   bash scripts/sidroot.sh VERSION COMMAND      e.g. scripts/sidroot.sh 3.15 "python3.15 course.py test"
#
# COMMAND runs with sh from /proj, a fresh copy of this repository's tracked and untracked
# (not ignored) files, with COURSE_VENV=/venvVERSION: course.py keeps that environment up
# to date inside the chroot as it does on the host. Of the caller's environment only
# PYTEST_ADDOPTS, COURSE_TEST_WORKERS and THREADKIT_BROWSER (default: skip) go in. The
# chroot is cached in $SIDROOT (default ~/.cache/threadkit-course/sidroot; a fresh machine
# builds it in 1-2 minutes), runs are serialized by a lock beside it, and everything
# mounted is unmounted on exit.
# Needs root (mount, chroot) or password-less sudo, and mmdebstrap (installed with apt-get
# when missing). The exit status is COMMAND's.
#
# Why a chroot: Debian sid's python3.14/3.15 need a newer C library than Debian 12 has, and
# pyenv/uv cannot download interpreters here. `Check-Valid-Until "false"`: the sid Release
# file served by a mirror can be older than its validity window.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 VERSION COMMAND (e.g. $0 3.15 'python3.15 course.py test')" >&2
    exit 2
fi
V=$1; shift
case "$V" in
    3.[0-9]|3.[0-9][0-9]) ;;
    *) echo "$0: VERSION must look like 3.15, not '$V'" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
    exec sudo -n --preserve-env=SIDROOT,SID_MIRROR,PYTEST_ADDOPTS,COURSE_TEST_WORKERS,THREADKIT_BROWSER bash "$0" "$V" "$@"
fi

PROJ=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SIDROOT=${SIDROOT:-$HOME/.cache/threadkit-course/sidroot}
MIRROR=${SID_MIRROR:-http://deb.debian.org/debian}
APT_OPT='Acquire::Check-Valid-Until=false'
mkdir -p "$(dirname "$SIDROOT")"

say() { echo "sidroot.sh: $*" >&2; }

if ! command -v mmdebstrap >/dev/null; then
    say "installing mmdebstrap"
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap >/dev/null
fi

exec 8>"$SIDROOT.lock"
flock 8

mounted=()
cleanup() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null || true
    done
}
trap cleanup EXIT

if [ ! -f "$SIDROOT/.complete" ]; then
    say "building a Debian sid chroot with python$V in $SIDROOT"
    rm -rf "$SIDROOT"
    mmdebstrap --variant=apt --aptopt='Acquire::Check-Valid-Until "false"' \
        --include="ca-certificates,python$V,python$V-venv" sid "$SIDROOT" "$MIRROR" >/dev/null 2>&1 \
        || { say "mmdebstrap failed (run it by hand to see why)"; exit 1; }
    touch "$SIDROOT/.complete"
fi
# The host's name resolution, pip settings and CA bundle (a proxy's CA may be in it).
cp /etc/resolv.conf "$SIDROOT/etc/resolv.conf"
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$SIDROOT/etc/pip.conf"
[ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$SIDROOT/etc/ssl/certs/ca-certificates.crt"
if [ ! -x "$SIDROOT/usr/bin/python$V" ]; then
    say "installing python$V in the chroot"
    chroot "$SIDROOT" sh -c "apt-get -o $APT_OPT update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python$V python$V-venv" >/dev/null 2>&1 \
        || { say "Debian sid has no python$V package"; exit 1; }
fi

# Kernels and multiprocessing need /proc, /dev, /dev/pts and a /dev/shm.
for m in proc dev dev/pts; do
    if ! mountpoint -q "$SIDROOT/$m"; then mount --bind "/$m" "$SIDROOT/$m"; mounted+=("$SIDROOT/$m"); fi
done
if ! mountpoint -q "$SIDROOT/dev/shm"; then mount -t tmpfs tmpfs "$SIDROOT/dev/shm"; mounted+=("$SIDROOT/dev/shm"); fi

rm -rf "$SIDROOT/proj"
mkdir -p "$SIDROOT/proj/.home" "$SIDROOT/tmp"
chmod 1777 "$SIDROOT/tmp"
(cd "$PROJ" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$SIDROOT/proj"

set +e
chroot "$SIDROOT" env -i HOME=/proj/.home PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 TMPDIR=/tmp \
    COURSE_VENV="/venv$V" SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=180 \
    THREADKIT_BROWSER="${THREADKIT_BROWSER:-skip}" \
    PYTEST_ADDOPTS="${PYTEST_ADDOPTS:-}" ${COURSE_TEST_WORKERS:+COURSE_TEST_WORKERS="$COURSE_TEST_WORKERS"} \
    sh -c "cd /proj && $*"
status=$?
set -e
# Keep the run's artifacts (logs, screenshots) where the host can read them.
if [ -d "$SIDROOT/proj/test-artifacts" ]; then
    mkdir -p "$PROJ/test-artifacts/sid-$V"
    cp -r "$SIDROOT/proj/test-artifacts/." "$PROJ/test-artifacts/sid-$V/" 2>/dev/null || true
fi
exit $status
