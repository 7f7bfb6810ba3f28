#!/usr/bin/env bash
# qemukit set-up: installs what the project needs, skipping what is already there.
#   bash scripts/setup.sh [--guests tiny,debian,installer] [--no-guests]
# Idempotent: a second run only checks and prints "ok" lines.
set -euo pipefail
cd "$(dirname "$0")/.."

guests="tiny"
for arg in "$@"; do
  case "$arg" in
    --guests) shift_next=1 ;;
    --guests=*) guests="${arg#--guests=}" ;;
    --no-guests) guests="" ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    *) if [ "${shift_next:-0}" = 1 ]; then guests="$arg"; shift_next=0; else echo "setup: unknown option $arg" >&2; exit 2; fi ;;
  esac
done

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# libvirt-daemon-system and openssh-server install without systemd as PID 1: their
# postinst scripts skip starting services, and tests start private daemons by hand.
# Debian packages: every program qemukit, its recipes, tests and benchmarks run, and the packages
# needed for their files. The table with the reasons is sdk/util/programs.ts; this list is a copy
# that test/util/programs.test.ts keeps equal to setupPackages() (this step runs before npm ci,
# so it cannot import the table).
packages=(
  apt bash bsdutils busybox-static chromium coreutils cpio dash debian-archive-keyring
  debian-installer-12-netboot-amd64 dpkg e2fsprogs fdisk findutils gnupg gpgconf gpgv grep grub-common
  grub-pc-bin iproute2 isolinux libc-bin libc6 libvirt-clients libvirt-daemon libvirt-daemon-system
  libxml2-utils mmdebstrap mount netcat-openbsd openssh-client openssh-server procps qemu-system-x86 qemu-utils
  syslinux-common tar tmux util-linux vncsnapshot xorriso xz-utils zstd
)

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  die "this set-up step supports Debian/Ubuntu (apt). Install QEMU ($(printf '%s ' qemu-system-x86 qemu-utils)) by hand on other systems."
fi

missing=()
for p in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != "installed" ]; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  say "ok: Debian packages (${#packages[@]} present)"
else
  if [ "$(id -u)" = 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    die "missing Debian packages: ${missing[*]}
  qemukit needs root to install them and this user is not root and has no password-less sudo.
  Ask an administrator to run:  apt-get install ${missing[*]}"
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q | sed 's/^/[setup]   /'
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" | grep -E '^(Setting up|E:)' | sed 's/^/[setup]   /' || true
  for p in "${missing[@]}"; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = "installed" ] || die "apt-get could not install $p"
  done
  say "installed ${#missing[@]} Debian packages"
fi

# apt-get download (guest kernels) needs package lists.
if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
  say "fetching apt package lists (apt-get update)"
  if [ "$(id -u)" = 0 ]; then apt-get update -q | sed 's/^/[setup]   /'; else sudo -n apt-get update -q | sed 's/^/[setup]   /'; fi
fi

# npm dependencies: reinstall only when the lockfile changed since the last install.
if [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ] && [ -x node_modules/.bin/tsx ]; then
  say "ok: npm dependencies"
else
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund 2>&1 | sed 's/^/[setup]   /'
  touch node_modules/.package-lock.json
fi

# Guest images, built from Debian packages and cached; a cached guest is a no-op.
if [ -n "$guests" ]; then
  IFS=',' read -r -a glist <<<"$guests"
  for g in "${glist[@]}"; do
    node_modules/.bin/tsx sdk/cli/main.ts guest build "$g" 2>&1 | sed 's/^/[setup]   /'
    [ "${PIPESTATUS[0]}" = 0 ] || die "building the $g guest failed (see above)"
  done
fi
say "done"
