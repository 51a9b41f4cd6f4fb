#!/usr/bin/env bash
# Prepare this machine to run real pods for a stratus node agent, offline and idempotently:
# Debian packages, a private containerd (own root/state/socket under the data dir) with the CRI
# plugin, a CNI bridge network, locally built pause and busybox images, and containerd running in
# the background. A second run only checks what exists.
#
#   scripts/setup-node.sh [--data-dir DIR] [--pause-image NAME]
#
# DIR defaults to $STRATUS_NODE_DIR, else <repo>/.cluster/node. Needs root.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${STRATUS_NODE_DIR:-$REPO/.cluster/node}"
PAUSE_IMAGE="${STRATUS_PAUSE_IMAGE:-registry.k8s.io/pause:3.9}"
BUSYBOX_IMAGES=(docker.io/library/busybox:latest docker.io/library/busybox:1.36)
PACKAGES=(containerd runc containernetworking-plugins umoci skopeo busybox-static gcc libc6-dev docker-registry apache2-utils iptables)
CNI_BIN=/usr/lib/cni
POD_SUBNET=10.88.0.0/16

while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) DIR="$2"; shift 2 ;;
    --data-dir=*) DIR="${1#*=}"; shift ;;
    --pause-image) PAUSE_IMAGE="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup-node: unknown argument: $1" >&2; exit 2 ;;
  esac
done
case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac

SOCK="$DIR/containerd.sock"
CONF="$DIR/containerd.toml"
PIDFILE="$DIR/containerd.pid"
LOG="$DIR/containerd.log"
CNI_CONF_DIR="$DIR/cni/net.d"
IMG_DIR="$DIR/images"
STARTED_AT=$(date +%s%N)

step() { printf '[setup-node] %s\n' "$*"; }
fail() { printf '[setup-node] ERROR: %s\n' "$*" >&2; exit 1; }

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || printf '%s ' "$p"
  done
}

containerd_running() {
  [ -f "$PIDFILE" ] || return 1
  local pid; pid="$(cat "$PIDFILE")"
  # Match the command line, not the name: right after launch the process may still be setsid/nohup.
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "containerd --config $CONF"
}

# ---- root check: say exactly what is missing instead of failing half way
if [ "$(id -u)" -ne 0 ]; then
  need="$(missing_packages)"
  echo "[setup-node] this script must run as root (it installs packages, mounts overlay filesystems, creates network namespaces and cgroups)." >&2
  [ -n "$need" ] && echo "[setup-node] missing packages: $need" >&2
  containerd_running || echo "[setup-node] containerd for $DIR is not running" >&2
  [ -f "$CONF" ] || echo "[setup-node] containerd config $CONF does not exist" >&2
  for f in pause.tar busybox.tar; do [ -s "$IMG_DIR/$f" ] || echo "[setup-node] image archive $IMG_DIR/$f is not built" >&2; done
  [ -z "$need" ] && containerd_running && echo "[setup-node] nothing is missing, but the containerd socket $SOCK only accepts root: run the agent as root" >&2
  echo "[setup-node] run: sudo $0 --data-dir $DIR" >&2
  exit 1
fi

# ---- packages
need="$(missing_packages)"
if [ -n "$need" ]; then
  step "installing packages: $need"
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  apt-get install -y --no-install-recommends $need >/dev/null 2>&1 || {
    step "apt-get update"
    apt-get update -q >/dev/null
    # shellcheck disable=SC2086
    apt-get install -y --no-install-recommends $need
  }
else
  step "packages present (${PACKAGES[*]})"
fi
for bin in containerd ctr runc umoci skopeo gcc iptables iptables-restore iptables-save; do command -v "$bin" >/dev/null || fail "$bin not found after installing packages"; done
[ -x /bin/busybox ] || fail "/bin/busybox (busybox-static) not found"
[ -x "$CNI_BIN/bridge" ] || fail "CNI plugins not found in $CNI_BIN"

mkdir -p "$DIR/containerd/root" "$DIR/containerd/state" "$CNI_CONF_DIR" "$DIR/cni/ipam" "$DIR/certs.d" "$IMG_DIR" "$DIR/pods"

# write_if_changed FILE: stdin becomes FILE's content unless it already is; returns 0 when changed.
write_if_changed() {
  local tmp; tmp="$(mktemp "$1.XXXX")"
  cat >"$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; return 1; fi
  mv "$tmp" "$1"
  return 0
}

# ---- containerd config. Registry hosts come from certs.d (config_path) only: also setting
# registry.mirrors makes the CRI plugin silently fail to load. A registry on 127.0.0.1:<port> needs
# no entry: without one containerd talks plain HTTP to loopback hosts (scripts/start-registry.sh).
config_changed=0
write_if_changed "$CONF" <<EOF && config_changed=1 || true
# Written by scripts/setup-node.sh: a containerd private to this stratus node.
version = 2
root = "$DIR/containerd/root"
state = "$DIR/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

[grpc]
  address = "$SOCK"

[plugins."io.containerd.internal.v1.opt"]
  path = "$DIR/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN"
    conf_dir = "$CNI_CONF_DIR"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$DIR/certs.d"
EOF
if [ "$config_changed" = 1 ]; then step "wrote $CONF"; else step "containerd config up to date"; fi

# ---- CNI: one bridge network; traffic stays on this machine (pod addresses, the bridge, loopback).
if write_if_changed "$CNI_CONF_DIR/10-stratus.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "stratus",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "stratus0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$DIR/cni/ipam",
        "ranges": [[{ "subnet": "$POD_SUBNET" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } },
    { "type": "loopback" }
  ]
}
EOF
then step "wrote CNI network stratus ($POD_SUBNET) in $CNI_CONF_DIR"; else step "CNI config up to date"; fi
[ -x "$CNI_BIN/loopback" ] && [ -x "$CNI_BIN/portmap" ] && [ -x "$CNI_BIN/host-local" ] || fail "CNI plugins loopback/portmap/host-local missing in $CNI_BIN"

# ---- images, built offline as OCI layouts and converted to OCI archives
ARCH="$(dpkg --print-architecture)"
BUILD="$IMG_DIR/build"

# oci_image NAME ROOTFS-FILLER CONFIG-ARGS... : layout $BUILD/NAME with one layer.
oci_image() {
  local name="$1" fill="$2"; shift 2
  local layout="$BUILD/$name-oci" bundle="$BUILD/$name-bundle"
  rm -rf "$layout" "$bundle"
  umoci init --layout "$layout"
  umoci new --image "$layout:latest"
  umoci unpack --image "$layout:latest" "$bundle" >/dev/null
  "$fill" "$bundle/rootfs"
  umoci repack --image "$layout:latest" "$bundle"
  umoci config --image "$layout:latest" --os linux --architecture "$ARCH" --author stratus "$@"
  rm -rf "$bundle"
}

fill_pause() {
  install -m 0755 "$BUILD/pause" "$1/pause"
}

fill_busybox() {
  local root="$1" applet
  mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/etc" "$root/root" "$root/var/www" "$root/home"
  install -m 0755 /bin/busybox "$root/bin/busybox"
  # One symlink per applet at the path busybox itself lists for it.
  for applet in $(/bin/busybox --list-full); do
    [ "$applet" = bin/busybox ] && continue
    [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n' >"$root/etc/group"
  mkdir -p "$root/tmp" && chmod 1777 "$root/tmp"
}

if [ -s "$IMG_DIR/pause.tar" ] && [ "$(cat "$IMG_DIR/pause.name" 2>/dev/null)" = "$PAUSE_IMAGE" ]; then
  step "pause image archive present"
else
  step "building pause image $PAUSE_IMAGE (gcc -static)"
  mkdir -p "$BUILD"
  gcc -static -O2 -s -o "$BUILD/pause" "$REPO/scripts/node-setup/pause.c"
  oci_image pause fill_pause --config.entrypoint /pause
  rm -f "$IMG_DIR/pause.tar"
  skopeo copy -q "oci:$BUILD/pause-oci:latest" "oci-archive:$IMG_DIR/pause.tar:$PAUSE_IMAGE"
  echo "$PAUSE_IMAGE" >"$IMG_DIR/pause.name"
fi

if [ -s "$IMG_DIR/busybox.tar" ]; then
  step "busybox image archive present"
else
  step "building busybox image from busybox-static"
  mkdir -p "$BUILD"
  oci_image busybox fill_busybox --config.cmd sh --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  skopeo copy -q "oci:$BUILD/busybox-oci:latest" "oci-archive:$IMG_DIR/busybox.tar:${BUSYBOX_IMAGES[0]}"
fi

# ---- containerd
ctr_() { ctr --address "$SOCK" --namespace k8s.io "$@"; }

stop_containerd() {
  local pid; pid="$(cat "$PIDFILE")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$PIDFILE"
}

if containerd_running && [ "$config_changed" = 1 ]; then
  step "config changed: restarting containerd (pods keep running in their shims)"
  stop_containerd
fi
if containerd_running; then
  step "containerd running (pid $(cat "$PIDFILE"))"
else
  step "starting containerd (log $LOG)"
  rm -f "$SOCK"
  # No systemd here: run detached in its own session so it outlives this script and its caller.
  setsid nohup containerd --config "$CONF" >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
fi
for i in $(seq 1 200); do
  [ -S "$SOCK" ] && ctr --address "$SOCK" version >/dev/null 2>&1 && break
  containerd_running || fail "containerd exited; last log lines:
$(tail -n 20 "$LOG")"
  [ "$i" = 200 ] && fail "containerd socket $SOCK did not answer within 20 s"
  sleep 0.1
done
step "containerd socket ready: $SOCK"

# ---- import images under the names users type (CRI sees what ctr imports into k8s.io)
have_images="$(ctr_ images ls -q)"
has_image() { grep -qxF "$1" <<<"$have_images"; }
if has_image "$PAUSE_IMAGE"; then step "image $PAUSE_IMAGE present"; else
  step "importing $PAUSE_IMAGE"
  ctr_ images import "$IMG_DIR/pause.tar" >/dev/null
fi
if has_image "${BUSYBOX_IMAGES[0]}"; then step "image ${BUSYBOX_IMAGES[0]} present"; else
  step "importing ${BUSYBOX_IMAGES[0]}"
  ctr_ images import "$IMG_DIR/busybox.tar" >/dev/null
fi
for extra in "${BUSYBOX_IMAGES[@]:1}"; do
  if has_image "$extra"; then step "image $extra present"; else
    step "tagging $extra"
    ctr_ images tag "${BUSYBOX_IMAGES[0]}" "$extra" >/dev/null
  fi
done

# ---- the CRI plugin must answer (it can fail to load while containerd itself runs fine)
TSX="$REPO/node_modules/.bin/tsx"
if [ -x "$TSX" ] && command -v node >/dev/null; then
  out=""
  for i in $(seq 1 50); do
    if out="$("$TSX" "$REPO/node-agent/cri/check-cri.ts" "$SOCK" "$PAUSE_IMAGE" "${BUSYBOX_IMAGES[@]}" 2>&1)"; then break; fi
    [ "$i" = 50 ] && fail "CRI check failed: $out
containerd log: $LOG"
    sleep 0.2
  done
  step "$out"
else
  status="$(ctr --address "$SOCK" plugins ls 2>/dev/null | awk '$1=="io.containerd.grpc.v1" && $2=="cri" {print $4}')"
  [ "$status" = ok ] || fail "the CRI plugin is not loaded (status: ${status:-absent}); see $LOG"
  step "CRI plugin loaded (node_modules not installed: skipped the CRI Version call)"
fi
step "node ready in $(( ($(date +%s%N) - STARTED_AT) / 1000000 )) ms: socket $SOCK, pod logs under $DIR/pods"
