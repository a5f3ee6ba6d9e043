#!/usr/bin/env bash
# Run a command inside a private network namespace that has only loopback (multicast on), so DDS
# traffic from wire tests never leaves the machine and parallel runs cannot see each other.
# Falls back to ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST where unshare is not permitted.
set -euo pipefail
export FASTDDS_BUILTIN_TRANSPORTS=UDPv4
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
  exec unshare -n bash -c 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && exec "$@"' bash "$@"
fi
echo "run_isolated: no network namespace available; restricting ROS discovery to localhost" >&2
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
exec "$@"
