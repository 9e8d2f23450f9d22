#!/usr/bin/env bash
# Test-host harness: real Debian 12 hosts as systemd containers under rootful podman.
#
# Shared by the molecule scenarios (roles/*/molecule) and the end-to-end tests.
#
#   scripts/testhosts.sh setup    install podman/runc/debootstrap if missing, write the
#                                 container engine config, build the base image (cached)
#   scripts/testhosts.sh image    print the image name
#   scripts/testhosts.sh status   show the engine config, the image and its recipe hash
#   scripts/testhosts.sh clean    remove leftover containers labelled for this project
#
# Environment:
#   SSAS_TESTHOST_IMAGE   image name            (default localhost/ssas-testhost:bookworm)
#   SSAS_TESTHOST_MIRROR  Debian mirror URL     (default: the one the host's apt uses)
#   SSAS_TESTHOST_SECURITY_MIRROR               (default: the host's bookworm-security URI)
#   SSAS_TESTHOST_REBUILD=1                     rebuild the image even if it is current
#
# Every container this project starts carries the label ssas-deploy.testhost=true
# (molecule scenarios add it through the shared config); `clean` removes them.
set -euo pipefail

IMAGE="${SSAS_TESTHOST_IMAGE:-localhost/ssas-testhost:bookworm}"
SUITE="bookworm"
LABEL_KEY="ssas-deploy.testhost"
RECIPE_LABEL="ssas-deploy.recipe"
ENGINE_CONF_DIR="/etc/containers/containers.conf.d"
ENGINE_CONF="${ENGINE_CONF_DIR}/90-ssas-testhost.conf"
HOST_PACKAGES=(podman runc debootstrap)

# Packages of the base image. Everything every managed host needs is here, so roles
# never have to bootstrap Ansible's own prerequisites at run time:
#   python3, python3-apt (ansible.builtin.apt), python3-debian (deb822_repository),
#   sudo + acl (become to unprivileged users, e.g. postgres), dbus (hostnamectl,
#   timedatectl, loginctl), procps (sysctl), locales (PostgreSQL cluster locale).
IMAGE_PACKAGES=(
  systemd systemd-sysv dbus
  python3 python3-apt python3-debian
  openssh-server sudo acl
  iproute2 procps ca-certificates locales
)

# Units that cannot work, or make no sense, inside a container.
MASKED_UNITS=(
  getty@tty1.service console-getty.service serial-getty@.service getty-static.service
)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'testhosts: error: %s\n' "$*" >&2; exit 1; }

# run_step NAME FUNCTION...: run one step and print how long it took.
run_step() {
  local name="$1" start end
  shift
  start=$(date +%s.%N)
  "$@"
  end=$(date +%s.%N)
  printf 'testhosts: step %-14s %6.1fs\n' "$name" "$(awk "BEGIN{print $end - $start}")"
}

require_root() {
  [ "$(id -u)" -eq 0 ] || die "run as root (rootful podman is required for systemd containers)"
}

# --- step: packages ----------------------------------------------------------------------
install_host_packages() {
  local missing=() p
  for p in "${HOST_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    log "packages present: ${HOST_PACKAGES[*]}"
    return 0
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- step: engine config -----------------------------------------------------------------
# crun fails on this machine kind ("cgroups in hybrid mode not supported") and podman's
# default rlimits exceed the hard limits the machine grants, so: runc, limits at or below
# the host's hard limits.
engine_conf_content() {
  local nofile nproc
  nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
  [ "$nofile" = unlimited ] && nofile=1048576
  [ "$nproc" = unlimited ] && nproc=4194304
  [ "$nofile" -gt 65536 ] && nofile=65536
  [ "$nproc" -gt 32768 ] && nproc=32768
  cat <<EOF
# Written by ssas-deploy scripts/testhosts.sh: test hosts are systemd containers.
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]

[engine]
runtime = "runc"
EOF
}

write_engine_config() {
  local want
  want=$(engine_conf_content)
  mkdir -p "$ENGINE_CONF_DIR"
  if [ -f "$ENGINE_CONF" ] && [ "$(cat "$ENGINE_CONF")" = "$want" ]; then
    log "engine config up to date: $ENGINE_CONF"
  else
    printf '%s\n' "$want" >"$ENGINE_CONF.tmp"
    chmod 0644 "$ENGINE_CONF.tmp"
    mv "$ENGINE_CONF.tmp" "$ENGINE_CONF"
    log "wrote $ENGINE_CONF"
  fi
  local runtime
  runtime=$(podman info --format '{{.Host.OCIRuntime.Name}}' 2>/dev/null) || die "podman info failed"
  [ "$runtime" = runc ] || die "podman uses runtime '$runtime', expected runc (check other files in $ENGINE_CONF_DIR)"
}

# --- mirrors -----------------------------------------------------------------------------
# The URI of the first apt source (deb822 or one-line format) that serves suite $1.
host_apt_uri() {
  local suite="$1" f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '
      function flush() { if (is_deb && has_suite && uri != "" && !done) { print uri; done = 1 }
                         is_deb = 0; has_suite = 0; uri = "" }
      /^[[:space:]]*$/ { flush(); next }
      /^[[:space:]]*#/ { next }
      tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") is_deb = 1 }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) has_suite = 1 }
      END { flush() }' "$f"
  done | head -n1 | grep . && return 0
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk -v suite="$suite" '$1 == "deb" {
        i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i + 1) == suite) { print $i; exit } }' | grep .
}

resolve_mirrors() {
  MIRROR="${SSAS_TESTHOST_MIRROR:-$(host_apt_uri "$SUITE" || true)}"
  MIRROR="${MIRROR:-http://deb.debian.org/debian}"
  SECURITY_MIRROR="${SSAS_TESTHOST_SECURITY_MIRROR:-$(host_apt_uri "${SUITE}-security" || true)}"
  SECURITY_MIRROR="${SECURITY_MIRROR:-${MIRROR%/debian}/debian-security}"
}

# --- step: image -------------------------------------------------------------------------
# Runs inside the debootstrapped root (chroot). Its source is part of the recipe hash.
customize_rootfs() {
  local root="$1"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: ${MIRROR}
Suites: ${SUITE} ${SUITE}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${SECURITY_MIRROR}
Suites: ${SUITE}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  rm -f "$root/etc/apt/sources.list"
  # Keep images small; documentation is not needed on test hosts.
  cat >"$root/etc/dpkg/dpkg.cfg.d/01-ssas-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
EOF
  printf 'en_US.UTF-8 UTF-8\n' >"$root/etc/locale.gen"
  chroot "$root" /usr/sbin/locale-gen >/dev/null
  printf 'LANG=C.UTF-8\n' >"$root/etc/default/locale"

  # Fresh machine-id per container: an empty file makes systemd generate one at boot.
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id"
  ln -s /etc/machine-id "$root/var/lib/dbus/machine-id"

  # Fresh SSH host keys per container, generated at first boot.
  rm -f "$root"/etc/ssh/ssh_host_*
  cat >"$root/etc/systemd/system/ssh-hostkeys.service" <<'EOF'
[Unit]
Description=Generate SSH host keys on first boot
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key
Before=ssh.service ssh.socket

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target
EOF
  mkdir -p "$root/etc/systemd/system/ssh.service.d"
  cat >"$root/etc/systemd/system/ssh.service.d/10-hostkeys.conf" <<'EOF'
[Unit]
Wants=ssh-hostkeys.service
After=ssh-hostkeys.service
EOF
  mkdir -p "$root/root/.ssh"
  chmod 0700 "$root/root/.ssh"

  chroot "$root" systemctl enable ssh.service ssh-hostkeys.service >/dev/null 2>&1
  chroot "$root" systemctl mask "${MASKED_UNITS[@]}" >/dev/null 2>&1
  chroot "$root" systemctl set-default multi-user.target >/dev/null 2>&1

  # No policy-rc.d, so packages installed later start their services as on a real host.
  rm -f "$root/usr/sbin/policy-rc.d"
  chroot "$root" apt-get clean
  rm -rf "$root"/var/log/*.log "$root"/var/cache/debconf/*-old "$root"/tmp/* "$root"/var/tmp/*
}

recipe_hash() {
  {
    echo "suite=$SUITE"
    echo "packages=${IMAGE_PACKAGES[*]}"
    echo "masked=${MASKED_UNITS[*]}"
    declare -f customize_rootfs
  } | sha256sum | cut -c1-16
}

image_recipe() {
  podman image inspect --format "{{ index .Labels \"$RECIPE_LABEL\" }}" "$IMAGE" 2>/dev/null || true
}

build_image() {
  local want have
  want=$(recipe_hash)
  have=$(image_recipe)
  if [ "$have" = "$want" ] && [ "${SSAS_TESTHOST_REBUILD:-0}" != 1 ]; then
    log "image $IMAGE is current (recipe $want)"
    return 0
  fi
  resolve_mirrors
  log "building $IMAGE (recipe $want${have:+, was $have}) from $MIRROR"
  local work
  work=$(mktemp -d /var/tmp/ssas-testhost.XXXXXX)
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" EXIT
  local includes
  includes=$(IFS=,; echo "${IMAGE_PACKAGES[*]}")
  if ! debootstrap --variant=minbase --include="$includes" "$SUITE" "$work/rootfs" "$MIRROR" \
      >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    [ -f "$work/rootfs/debootstrap/debootstrap.log" ] && tail -n 30 "$work/rootfs/debootstrap/debootstrap.log" >&2
    die "debootstrap failed"
  fi
  customize_rootfs "$work/rootfs"
  tar --numeric-owner --xattrs -C "$work/rootfs" -c . |
    podman import --quiet \
      --change 'CMD ["/sbin/init"]' \
      --change 'STOPSIGNAL SIGRTMIN+3' \
      --change "LABEL $RECIPE_LABEL=$want" \
      --change "LABEL org.opencontainers.image.title=ssas-testhost" \
      - "$IMAGE" >/dev/null
  rm -rf "$work"
  trap - EXIT
  log "built $IMAGE ($(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
}

# --- commands ----------------------------------------------------------------------------
cmd_setup() {
  require_root
  local start end
  start=$(date +%s)
  run_step packages install_host_packages
  run_step engine-config write_engine_config
  run_step image build_image
  end=$(date +%s)
  printf 'testhosts: setup done in %ss, image %s\n' "$((end - start))" "$IMAGE"
}

cmd_clean() {
  require_root
  command -v podman >/dev/null || { log "podman not installed: nothing to clean"; return 0; }
  local ids
  ids=$(podman ps -a -q --filter "label=${LABEL_KEY}=true")
  if [ -z "$ids" ]; then
    log "no leftover test-host containers"
    return 0
  fi
  # shellcheck disable=SC2086
  podman rm -f -t 2 $ids >/dev/null
  log "removed $(echo "$ids" | wc -w) test-host container(s)"
}

cmd_status() {
  echo "image:        $IMAGE"
  echo "recipe:       $(recipe_hash) (image has: $(image_recipe || true))"
  echo "engine conf:  $ENGINE_CONF $([ -f "$ENGINE_CONF" ] && echo present || echo missing)"
  command -v podman >/dev/null && echo "runtime:      $(podman info --format '{{.Host.OCIRuntime.Name}}')"
  command -v podman >/dev/null && podman ps -a --filter "label=${LABEL_KEY}=true" --format '{{.Names}} {{.Status}}'
  return 0
}

case "${1:-}" in
  setup) cmd_setup ;;
  clean) cmd_clean ;;
  image) echo "$IMAGE" ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 {setup|clean|image|status}" >&2
    exit 2
    ;;
esac
