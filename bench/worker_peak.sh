# shellcheck shell=bash
# worker_peak JOB INTERVAL: the peak memory of a training job's worker,
# sampled every INTERVAL seconds from the moment it has a pid until it
# exits: "RssAnon_kB VmHWM_kB" (0 0 if it never started).  Sourced by the
# training benchmarks' bodies, which run in the job's database.
worker_peak() {
  local job=$1 interval=$2 pid="" a h anon=0 hwm=0
  for _ in $(seq 1 1000); do
    pid=$(psql -X -At -c "SELECT pid FROM ml.training_jobs WHERE job_id = $job AND database = current_database() AND pid IS NOT NULL")
    [ -n "$pid" ] && break
    sleep 0.01
  done
  while [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; do
    a=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    h=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$a" ] && [ "$a" -gt "$anon" ] && anon=$a
    [ -n "$h" ] && hwm=$h
    sleep "$interval"
  done
  echo "$anon $hwm"
}

# mib KIB: kibibytes as mebibytes, one decimal
mib() { echo "scale=1; $1 / 1024" | bc; }
