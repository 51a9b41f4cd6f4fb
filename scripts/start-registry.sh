#!/usr/bin/env bash
# Run Debian's docker-registry (distribution 2.x) on 127.0.0.1 with htpasswd authentication and
# push local OCI archives into it, for image pull tests against the node's containerd.
#
#   scripts/start-registry.sh --dir DIR [--port PORT] [--user USER] [--password PASS]
#                             [--push ARCHIVE=REPO:TAG]... [--stop]
#
# DIR holds config.yml, htpasswd, storage/, registry.log and registry.pid. PORT defaults to 5000,
# USER/PASS to stratus/stratus. Without --push the node's busybox archive is pushed as
# test/busybox:1.0. A registry already running for DIR is reused (only the pushes happen).
# --stop ends the registry started for DIR. Prints "registry 127.0.0.1:PORT ready" when done.
# Needs root only when packages are missing.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_DIR="${STRATUS_NODE_DIR:-$REPO/.cluster/node}"
DIR="" PORT=5000 USER_NAME=stratus PASSWORD=stratus STOP=0
PUSHES=()
PACKAGES=(docker-registry apache2-utils skopeo)

while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --user) USER_NAME="$2"; shift 2 ;;
    --password) PASSWORD="$2"; shift 2 ;;
    --push) PUSHES+=("$2"); shift 2 ;;
    --stop) STOP=1; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "start-registry: unknown argument: $1" >&2; exit 2 ;;
  esac
done
[ -n "$DIR" ] || { echo "start-registry: --dir is required" >&2; exit 2; }
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
PIDFILE="$DIR/registry.pid"
LOG="$DIR/registry.log"
CONF="$DIR/config.yml"
ADDR="127.0.0.1:$PORT"

fail() { printf '[start-registry] ERROR: %s\n' "$*" >&2; exit 1; }

registry_running() {
  [ -f "$PIDFILE" ] || return 1
  local pid; pid="$(cat "$PIDFILE")"
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "serve $CONF"
}

if [ "$STOP" = 1 ]; then
  if registry_running; then
    pid="$(cat "$PIDFILE")"
    kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$PIDFILE"
  exit 0
fi

need=""
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need="$need $p"
done
if [ -n "$need" ]; then
  [ "$(id -u)" -eq 0 ] || fail "missing packages:$need (run as root or: sudo apt-get install -y$need)"
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  apt-get install -y --no-install-recommends $need >/dev/null 2>&1 || { apt-get update -q >/dev/null; apt-get install -y --no-install-recommends $need; }
fi

if ! registry_running; then
  mkdir -p "$DIR/storage"
  htpasswd -Bbc "$DIR/htpasswd" "$USER_NAME" "$PASSWORD" 2>/dev/null
  cat >"$CONF" <<EOF
# Written by scripts/start-registry.sh
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $DIR/storage
  delete:
    enabled: true
http:
  addr: $ADDR
auth:
  htpasswd:
    realm: stratus-registry
    path: $DIR/htpasswd
EOF
  setsid nohup docker-registry serve "$CONF" >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  for i in $(seq 1 100); do
    # /v2/ answers 401 with a Basic challenge once the registry listens.
    code="$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR/v2/" || true)"
    [ "$code" = 401 ] && break
    registry_running || fail "docker-registry exited; last log lines:
$(tail -n 20 "$LOG")"
    [ "$i" = 100 ] && fail "registry on $ADDR did not answer within 10 s"
    sleep 0.1
  done
fi

[ ${#PUSHES[@]} -gt 0 ] || PUSHES=("$NODE_DIR/images/busybox.tar=test/busybox:1.0")
for push in "${PUSHES[@]}"; do
  archive="${push%%=*}" ref="${push#*=}"
  [ -s "$archive" ] || fail "image archive $archive does not exist (run scripts/setup-node.sh)"
  skopeo copy -q --dest-tls-verify=false --dest-creds "$USER_NAME:$PASSWORD" "oci-archive:$archive" "docker://$ADDR/$ref"
done
echo "registry $ADDR ready"
