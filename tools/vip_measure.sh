#!/bin/sh
# Measure the lab's web VIP failover RUNS times for one scenario with
# tools/vip_probe.py, restoring the pair after each run. Lab only: acts on
# the containers hapair-lab-ha1/ha2 and probes 172.28.77.100.
#   tools/vip_measure.sh stop|nginx|kill [RUNS]
set -eu
scenario=$1
runs=${2:-3}
cd "$(dirname "$0")/.."
holder() { curl -s -o /dev/null -D - --max-time 2 http://172.28.77.100/ | sed -n 's/^X-Served-By: *\([a-z0-9]*\).*/\1/Ip'; }
for run in $(seq "$runs"); do
    h=$(holder)
    case "$scenario" in
        stop)  fault="docker exec hapair-lab-$h systemctl stop keepalived" ;;
        nginx) fault="docker exec hapair-lab-$h systemctl kill -s KILL nginx" ;;
        kill)  fault="docker kill hapair-lab-$h" ;;
        *) echo "scenario: stop, nginx or kill" >&2; exit 2 ;;
    esac
    printf '%s run %s holder %s: ' "$scenario" "$run" "$h"
    python3 tools/vip_probe.py --duration 4 --warmup 1.5 --timeout "${PROBE_TIMEOUT:-0.05}" --fault "$fault" \
        --state-cmd 'docker exec hapair-lab-{node} cat /var/lib/hapair/vrrp/web.state' --nodes ha1 ha2
    case "$scenario" in
        stop)  docker exec "hapair-lab-$h" systemctl start keepalived ;;
        nginx) docker exec "hapair-lab-$h" sh -c 'systemctl reset-failed nginx; systemctl start nginx' ;;
        kill)  docker start "hapair-lab-$h" >/dev/null
               # systemd boots, then keepalived (enabled) rejoins as BACKUP.
               for _ in $(seq 60); do
                   s=$(docker exec "hapair-lab-$h" cat /var/lib/hapair/vrrp/web.state 2>/dev/null | sed -n 's/.*"state": "\([A-Z]*\)".*/\1/p')
                   [ "$s" = BACKUP ] && break; sleep 1
               done ;;
    esac
    sleep 3
done
