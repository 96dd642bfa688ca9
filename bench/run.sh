#!/usr/bin/env bash
# Benchmark: broadsheet's public reads against nginx serving the very same
# response bytes, in the same run, with the same wrk settings.
#
#   bench/run.sh [--n N]... [--pg POSTGRES_ADMIN_URL] [--smoke] [--duration S] [--connections C] [--rounds R] [--no-pin]
#
# For each N (default: 1000 and 100000) it generates a WXR of N articles
# (bench/gen_wxr.py), imports it (timed) into a fresh SQLite file, and into a
# fresh PostgreSQL database when --pg names a server (created and dropped
# here), starts the release server, and measures with wrk:
#   list       GET /api/v1/articles?per_page=20
#   body       GET /api/v1/articles?per_page=20&include=body
#   single     GET /api/v1/articles/post-1
#   filtered   GET /api/v1/articles?per_page=20&category=section-3
#   tagged     GET /api/v1/articles?per_page=20&tag=lead
#   cursor     GET /api/v1/articles?per_page=20&after=<cursor at the middle of the archive>
# each once uncached (CACHE_MAX_MIB=0) and once with the default cache (if
# the build has no response cache, both rows measure the same thing). nginx
# serves each response's body bytes, saved from the server, on another port.
# Each row runs R rounds (default 3, as issue 12's own measurements did),
# each round broadsheet then nginx; the table gives the median round of each
# (req/s, p50 and p99 each their own median), CPU per request over all the
# rounds, and the worst round's p99 ratio; on cached rows also the p99 of
# bench/probe.py run beside wrk (see run_wrk), over all the row's rounds'
# requests pooled. Every round is in rounds.tsv,
# printed after the table. Before the first row of a backend, the import's
# dirty pages are written out (sync, and CHECKPOINT on PostgreSQL) so that
# writeback does not share the cores with the measurements.
# It prints requests/s, p50/p99, server CPU per request (utime+stime from
# /proc/<pid>/stat before/after), RSS after the load, import time and, on
# PostgreSQL, how long a worker then takes to fill the search index.
# After the table: growth (uncached p50 at the largest N over the smallest,
# per backend and request; the goal is at most 1.5) and, with --pg,
# PostgreSQL's EXPLAIN ANALYZE of the list, category, tag and cursor queries
# at each N. --wxr-dir DIR keeps the generated WXRs there and reuses them.
# --smoke: N=50, 1-second runs, 4 connections, 1 round; proves the script works.
# Placement: with two CPUs or more, on the cached rows, the server under test
# (broadsheet, then nginx) runs on the first half of the CPUs this script may
# use and the load (wrk, one thread per CPU of its half, and the probe) on the
# other half, through taskset; each server starts one worker per CPU it is
# given. Uncached rows run unpinned (see place below). Shared
# cores let the kernel decide the tail: on 2 vCPUs, with HZ=250, a server
# worker and a wrk thread ended up paired on each core, each running a whole
# 4-ms tick while the other waited (perf sched; ARCHITECTURE.md, "Benchmark").
# --no-pin runs every row on all CPUs, wrk with two threads, as before
# 2026-12-06. The import and PostgreSQL are never pinned.
# Needs: wrk, nginx (installed with apt-get when missing), python3, curl, taskset,
# psql for --pg. Uses target/release/broadsheet (built when missing; BIN=… to override).
set -euo pipefail
cd "$(dirname "$0")/.."

NS=()
PG=""
DURATION=10
CONNS=32
ROUNDS=3
SMOKE=0
WXR_DIR=""
PROBE_INTERVAL_MS=1
PIN=auto
while [ $# -gt 0 ]; do
  case "$1" in
    --n) NS+=("$2"); shift 2 ;;
    --pg) PG="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --connections) CONNS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --smoke) SMOKE=1; shift ;;
    --wxr-dir) WXR_DIR="$2"; shift 2 ;;
    --probe-interval-ms) PROBE_INTERVAL_MS="$2"; shift 2 ;;
    --no-pin) PIN=0; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$SMOKE" = 1 ]; then
  [ ${#NS[@]} -eq 0 ] && NS=(50)
  DURATION=1
  CONNS=4
  ROUNDS=1
fi
[ ${#NS[@]} -eq 0 ] && NS=(1000 100000)

# The CPUs this script may use, split in two halves (see "Placement" above).
read -r SERVER_CPUS CLIENT_CPUS N_SERVER_CPUS N_CLIENT_CPUS < <(python3 -c '
import os
cpus = sorted(os.sched_getaffinity(0))
half = len(cpus) // 2
print(",".join(map(str, cpus[:half])) or "-", ",".join(map(str, cpus[half:])), half, len(cpus) - half)')
if [ "$PIN" = auto ]; then
  if [ "$N_SERVER_CPUS" -ge 1 ]; then PIN=1; else PIN=0; fi
fi
# place MODE: sets where the servers and the load run for MODE's rows.
# Cached rows are pinned (see "Placement"); uncached rows are not: they
# measure CPU per request and p50, and with the server on one CPU the
# PostgreSQL backends (never pinned) shared the load generator's CPU, and
# some of their statements took 50-190 ms (ARCHITECTURE.md, "Benchmark").
place() {
  if [ "$PIN" = 1 ] && [ "$1" = cached ]; then
    ON_SERVER=(taskset -c "$SERVER_CPUS")
    ON_CLIENT=(taskset -c "$CLIENT_CPUS")
    WRK_THREADS=$N_CLIENT_CPUS
    NGINX_WORKERS=$N_SERVER_CPUS
  else
    ON_SERVER=()
    ON_CLIENT=()
    WRK_THREADS=2
    NGINX_WORKERS=$(nproc)
  fi
}
if [ "$PIN" = 1 ]; then
  PLACEMENT="cached rows: servers on CPU $SERVER_CPUS, wrk -t$N_CLIENT_CPUS and the probe on CPU $CLIENT_CPUS, nginx worker_processes $N_SERVER_CPUS; uncached rows: not pinned, wrk -t2, nginx worker_processes $(nproc)"
else
  PLACEMENT="not pinned, wrk -t2, nginx worker_processes $(nproc)"
fi

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk || ! need nginx && [ ! -x /usr/sbin/nginx ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk nginx-light >/dev/null
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
BIN="${BIN:-target/release/broadsheet}"
[ -x "$BIN" ] || cargo build --release -q

WORK="$(mktemp -d /tmp/broadsheet-bench.XXXXXX)"
# mktemp makes the directory 0700, and nginx's workers (nobody) would answer
# every request with a tiny 403: a yardstick that is not serving the bytes.
chmod 755 "$WORK"
SERVER_PID=""
NGINX_PID=""
PGDBS=()
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  for db in "${PGDBS[@]}"; do psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=18290
NGINX_PORT=18291
CLK_TCK="$(getconf CLK_TCK)"
RESULTS="$WORK/results.tsv"
: > "$RESULTS"
INFO="$WORK/info.tsv"
: > "$INFO"
mkdir -p "$WORK/probe"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

# wrk → "rps p50_ms p99_ms requests errors probe_p99_ms"
#
# With a second argument `probe`, bench/probe.py runs beside wrk: one more
# keep-alive connection, one request every 1 ms (`--probe-interval-ms`),
# timed from send to the last byte; a third argument names the file its
# latencies are appended to (one per row and server, pooled over the rounds
# for the table: ~4,500 requests a 5-s round, so a row's p99 is read from
# ~13,500 requests, not the ~9th-worst of one round). wrk's own p50/p99 are "corrected" for coordinated omission (wrk
# 4.1.0's stats_correct, applied to every run): each response that took at
# least twice the mean interval between one connection's requests (about
# 1 ms at 30,000 req/s over 32 connections) adds a sample at every interval
# below its own latency. One 50-ms pause of the machine, in all 32
# connections at once, so adds about 1,500 samples spread up to 50 ms: a
# p99 in the tens of milliseconds from a single stall, as some rounds showed
# (ARCHITECTURE.md, "Benchmark"). The probe's p99 is uncorrected: what a
# client's requests took. Its ~4,500 requests a 5-s round are not in the CPU
# per request, so it runs only where CPU is not a goal (cached rows).
run_wrk() {
  local probe_pid=""
  if [ "${2:-}" = probe ]; then
    [[ "$1" =~ ^http://127\.0\.0\.1:([0-9]+)(/.*)$ ]]
    "${ON_CLIENT[@]}" python3 bench/probe.py "${BASH_REMATCH[2]}" "$DURATION" "${BASH_REMATCH[1]}" "$PROBE_INTERVAL_MS" "$3" > "$WORK/probe.out" 2>&1 &
    probe_pid=$!
  else
    echo "-" > "$WORK/probe.out"
  fi
  "${ON_CLIENT[@]}" wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$1" > "$WORK/wrk.out" 2>&1 || true
  [ -n "$probe_pid" ] && { wait "$probe_pid" || true; }
  python3 - "$WORK/wrk.out" "$WORK/probe.out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
req = re.search(r"(\d+) requests in", t)
p = {k: ms(v, u) for k, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", t, re.M)}
err = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", t))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
err += int(non2xx.group(1)) if non2xx else 0
probe = re.search(r"p99 ([\d.]+)", open(sys.argv[2]).read())
print(rps.group(1) if rps else "0", f"{p.get('50', 0):.2f}", f"{p.get('99', 0):.2f}", req.group(1) if req else "0", err,
      probe.group(1) if probe else "nan")
PY
}

start_server() { # url cache_mode
  local env=(DATABASE_URL="$1" BIND_ADDR="127.0.0.1:$PORT" PUBLIC_BASE_URL="http://127.0.0.1:$PORT"
             DATA_DIR="$WORK/data" RUST_LOG=error LIST_MAX_OFFSET=1000000 JOBS_IN_SERVER=false
             LOGIN_MAX_FAILURES_PER_CLIENT=20)
  [ "$2" = uncached ] && env+=(CACHE_MAX_MIB=0)
  local t0; t0=$(date +%s.%N)
  env "${env[@]}" "${ON_SERVER[@]}" "$BIN" serve > "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 1000); do
    curl -fs -o /dev/null "http://127.0.0.1:$PORT/api/v1/articles?per_page=1" && break
    sleep 0.005
  done
  local t1; t1=$(date +%s.%N)
  printf 'start_to_first_200_s\t%s\t%s\t%.3f\n' "$LABEL" "$2" "$(echo "$t1 - $t0" | bc)" >> "$INFO"
  printf 'idle_rss_mib\t%s\t%s\t%s\n' "$LABEL" "$2" "$(rss_mib "$SERVER_PID")" >> "$INFO"
  printf 'load_average_1m_at_start\t%s\t%s\t%s\n' "$LABEL" "$2" "$(cut -d' ' -f1 /proc/loadavg)" >> "$INFO"
}

stop_server() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }

start_nginx() { # dir with e_<name>.json files
  mkdir -p "$WORK/nginx"
  {
    echo "worker_processes $NGINX_WORKERS; pid $WORK/nginx/nginx.pid; error_log $WORK/nginx/error.log; daemon off;"
    echo "events { worker_connections 1024; }"
    # keepalive_requests: nginx closes a keep-alive connection after 1,000
    # requests by default, and wrk then reconnects; broadsheet never does.
    echo "http { access_log off; default_type application/json; keepalive_requests 100000000; client_body_temp_path $WORK/nginx;"
    echo "  proxy_temp_path $WORK/nginx; fastcgi_temp_path $WORK/nginx; uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;"
    echo "  server { listen 127.0.0.1:$NGINX_PORT; root $1; }"
    echo "}"
  } > "$WORK/nginx/nginx.conf"
  "${ON_SERVER[@]}" "$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
  NGINX_PID=$!
  for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$NGINX_PORT/e_list.json" && break; sleep 0.05; done
  # The yardstick must serve the very bytes: same status, same body.
  for f in "$1"/e_*.json; do
    if ! curl -fs "http://127.0.0.1:$NGINX_PORT/$(basename "$f")" | cmp -s - "$f"; then
      echo "nginx does not serve $(basename "$f") byte for byte; see $WORK/nginx/error.log" >&2
      exit 1
    fi
  done
}

bench_backend() { # label url
  LABEL=$1
  local url=$2
  local t0; t0=$(date +%s.%N)
  DATABASE_URL="$url" DATA_DIR="$WORK/data" RUST_LOG=error "$BIN" import wordpress "$WXR" > "$WORK/import.out"
  local t1; t1=$(date +%s.%N)
  printf 'import_s\t%s\t-\t%.2f\n' "$LABEL" "$(echo "$t1 - $t0" | bc)" >> "$INFO"
  # PostgreSQL leaves the search vectors to search_index jobs: run a worker
  # until none is left, timed from the import's end, before any server starts.
  if [[ "$url" == postgres* ]]; then
    DATABASE_URL="$url" DATA_DIR="$WORK/data" RUST_LOG=error "$BIN" worker > "$WORK/worker.log" 2>&1 &
    local worker=$!
    while [ "$(psql "$url" -Atc "SELECT count(*) FROM articles WHERE search IS NULL")" != 0 ]; do sleep 0.2; done
    local t2; t2=$(date +%s.%N)
    kill "$worker"; wait "$worker" 2>/dev/null || true
    printf 'search_indexed_after_import_s\t%s\t-\t%.2f\n' "$LABEL" "$(echo "$t2 - $t1" | bc)" >> "$INFO"
    # What autovacuum would do next anyway (an import of 100,000 articles
    # leaves it gigabytes to read), done now so that it does not share the
    # two cores with the measurements (the cached p99 outliers turned out
    # not to be autovacuum: see ARCHITECTURE.md, "Benchmark").
    psql "$url" -qc "VACUUM (ANALYZE)" > /dev/null
    local t3; t3=$(date +%s.%N)
    printf 'vacuum_analyze_after_index_s\t%s\t-\t%.2f\n' "$LABEL" "$(echo "$t3 - $t2" | bc)" >> "$INFO"
    # The checkpoint that would otherwise spread the import's writes over
    # the next minutes of measurements.
    psql "$url" -qc "CHECKPOINT" > /dev/null
  fi
  local t4; t4=$(date +%s.%N)
  sync
  printf 'sync_after_import_s\t%s\t-\t%.2f\n' "$LABEL" "$(echo "$(date +%s.%N) - $t4" | bc)" >> "$INFO"
  for mode in uncached cached; do
    place "$mode"
    start_server "$url" "$mode"
    local base="http://127.0.0.1:$PORT/api/v1"
    # A cursor at the middle of the archive: the article at offset N/2.
    local mid; mid=$(curl -fs "$base/articles?per_page=1&page=$((N / 2 + 1))&fields=published_at")
    local cursor; cursor=$(python3 - "$mid" <<'PY'
import base64, json, sys
from datetime import datetime, timezone
a = json.loads(sys.argv[1])["data"][0]
t = datetime.strptime(a["published_at"].replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S%z")
micros = int(t.timestamp()) * 1_000_000
print(base64.urlsafe_b64encode(f"v1|pd|t{micros}|{a['id']}".encode()).decode().rstrip("="))
PY
)
    local names=(list body single filtered tagged cursor)
    local paths=("/articles?per_page=20" "/articles?per_page=20&include=body" "/articles/post-1"
                 "/articles?per_page=20&category=section-3" "/articles?per_page=20&tag=lead"
                 "/articles?per_page=20&after=$cursor")
    [ "$mode" = uncached ] && echo "$cursor" > "$WORK/cursor-$LABEL"
    local docroot="$WORK/docroot"
    mkdir -p "$docroot"
    for i in "${!names[@]}"; do
      curl -fs "$base${paths[$i]}" > "$docroot/e_${names[$i]}.json"
    done
    [ -z "$NGINX_PID" ] && start_nginx "$docroot"
    for i in "${!names[@]}"; do
      local ticks=0 total=0 r
      for r in $(seq 1 "$ROUNDS"); do
        local before; before=$(cpu_ticks "$SERVER_PID")
        local probe=""; [ "$mode" = cached ] && probe=probe
        read -r rps p50 p99 reqs errs pp99 < <(run_wrk "$base${paths[$i]}" "$probe" "$WORK/probe/$LABEL.$mode.${names[$i]}.server")
        local after; after=$(cpu_ticks "$SERVER_PID")
        ticks=$((ticks + after - before)); total=$((total + reqs))
        if [[ "$url" == postgres* ]]; then
          # Autovacuum workers running right after the measurement (they
          # share the two cores), for reading a p99 outlier.
          printf 'autovacuum_workers_after\t%s\t%s\t%s (round %s): %s\n' "$LABEL" "$mode" "${names[$i]}" "$r" \
            "$(psql "$url" -Atc "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'")" >> "$INFO"
        fi
        read -r nrps np50 np99 _ nerrs npp99 < <(run_wrk "http://127.0.0.1:$NGINX_PORT/e_${names[$i]}.json" "$probe" "$WORK/probe/$LABEL.$mode.${names[$i]}.nginx")
        if [ "$nerrs" != 0 ]; then
          echo "nginx answered $nerrs requests for e_${names[$i]}.json with an error or a non-2xx status" >&2
          exit 1
        fi
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$LABEL" "$mode" "${names[$i]}" "$r" \
          "$rps" "$p50" "$p99" "$errs" "$nrps" "$np50" "$np99" "$reqs" "$pp99" "$npp99" >> "$WORK/rounds.tsv"
      done
      local cpu_ms; cpu_ms=$(python3 -c "print(f'{$ticks * 1000 / $CLK_TCK / max($total, 1):.3f}')")
      local bytes; bytes=$(stat -c %s "$docroot/e_${names[$i]}.json")
      printf '%s\t%s\t%s\t%s\t%s\n' "$LABEL" "$mode" "${names[$i]}" "$bytes" "$cpu_ms" >> "$RESULTS"
    done
    printf 'rss_after_load_mib\t%s\t%s\t%s\n' "$LABEL" "$mode" "$(rss_mib "$SERVER_PID")" >> "$INFO"
    kill "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; NGINX_PID=""
    rm -rf "$docroot"
    stop_server
  done
}

for N in "${NS[@]}"; do
  if [ -n "$WXR_DIR" ]; then
    mkdir -p "$WXR_DIR"
    WXR="$WXR_DIR/bench-$N.xml"
    [ -s "$WXR" ] || python3 bench/gen_wxr.py "$N" > "$WXR"
  else
    WXR="$WORK/bench-$N.xml"
    python3 bench/gen_wxr.py "$N" > "$WXR"
  fi
  bench_backend "sqlite-$N" "sqlite://$WORK/bench-$N.db"
  if [ -n "$PG" ]; then
    db="broadsheet_bench_$$_$N"
    PGDBS+=("$db")
    psql "$PG" -qc "CREATE DATABASE $db" >/dev/null
    PG_URL="${PG%/*}/$db"
    bench_backend "postgres-$N" "$PG_URL"
    # PostgreSQL's plans of the list queries at this size (the ids queries
    # and the category's total from its tally, as articles::repo builds them;
    # one tag's list pages through article_tags_list_idx: repo::tag_ids_query).
    PUB="(articles.status = 'published' OR (articles.status = 'scheduled' AND articles.published_at <= now()))"
    CAT="articles.id IN (SELECT article_id FROM article_categories WHERE category_id IN (SELECT id FROM categories WHERE slug = 'section-3'))"
    CUR=$(python3 -c "import base64,sys; c=sys.argv[1]; print(base64.urlsafe_b64decode(c + '=' * (-len(c) % 4)).decode())" "$(cat "$WORK/cursor-postgres-$N")")
    CT=$(echo "$CUR" | cut -d'|' -f3 | tr -d t); CID=$(echo "$CUR" | cut -d'|' -f4)
    CTS=$(python3 -c "import datetime,sys; print(datetime.datetime.fromtimestamp(int(sys.argv[1]) / 1e6, datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S'))" "$CT")
    ORDER="ORDER BY articles.published_at DESC, articles.id DESC LIMIT 21"
    for q in "list|SELECT articles.id FROM articles WHERE $PUB $ORDER" \
             "category|SELECT articles.id FROM articles WHERE $PUB AND $CAT $ORDER" \
             "category total (the tally lookup)|SELECT status, n FROM article_tallies WHERE kind = 'category' AND ref_id = (SELECT id FROM categories WHERE slug = 'section-3') AND status IN ('published', 'scheduled')" \
             "tag|SELECT article_tags.article_id FROM article_tags INNER JOIN articles ON articles.id = article_tags.article_id WHERE article_tags.tag_id = (SELECT id FROM tags WHERE slug = 'lead') AND $PUB ORDER BY article_tags.published_at DESC, article_tags.article_id DESC LIMIT 21" \
             "cursor|SELECT articles.id FROM articles WHERE $PUB AND (articles.published_at, articles.id) < ('$CTS', $CID) $ORDER"; do
      echo "plan postgres-$N ${q%%|*}:" >> "$WORK/plans.txt"
      psql "$PG_URL" -Atc "EXPLAIN ANALYZE ${q#*|}" | sed "s/^/  /" >> "$WORK/plans.txt"
    done
  fi
done

echo
echo "broadsheet bench: load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), Linux $(uname -r), wrk -c$CONNS -d${DURATION}s; $PLACEMENT"
echo "BENCH TABLE"
python3 - "$RESULTS" "$INFO" "$WORK/rounds.tsv" "$WORK/probe" <<'PY'
import os, statistics, sys
# One row per request: the median round of each figure (a round is one wrk
# run of broadsheet, then one of nginx), errors summed, and the worst
# round's p99 ratio beside the ratio of the medians.
rounds = {}
for l in open(sys.argv[3]):
    if l.strip():
        b, mode, name, _r, *v = l.rstrip("\n").split("\t")
        rounds.setdefault((b, mode, name), []).append([float(x) for x in v])
rows = []
for l in open(sys.argv[1]):
    if not l.strip():
        continue
    b, mode, name, size, cpu = l.rstrip("\n").split("\t")
    rs = rounds[(b, mode, name)]
    med = lambda k: statistics.median(r[k] for r in rs)
    worst = max(r[2] / r[6] if r[6] else 0 for r in rs)
    # The probe's p99 (cached rows only) over every round's requests pooled,
    # for broadsheet and for nginx, and the ratio.
    def pooled_p99(side):
        f = os.path.join(sys.argv[4], f"{b}.{mode}.{name}.{side}")
        xs = sorted(float(x) for x in open(f)) if os.path.exists(f) else []
        return (xs[int(len(xs) * 0.99)], len(xs)) if xs else (None, 0)
    (pp99, pn), (npp99, nn) = pooled_p99("server"), pooled_p99("nginx")
    if pp99 is not None and npp99:
        probe = [f"{pp99:.2f}", f"{npp99:.2f}", f"{pp99 / npp99:.1f}", f"{pn}/{nn}"]
    else:
        probe = ["-", "-", "-", "-"]
    rows.append([b, mode, name, size, f"{med(0):.2f}", f"{med(1):.3f}", f"{med(2):.3f}", str(int(sum(r[3] for r in rs))),
                 f"{med(4):.2f}", f"{med(5):.3f}", f"{med(6):.3f}", cpu, len(rs), f"{worst:.1f}", probe])
hdr = ["backend", "cache", "request", "bytes", "req/s", "p50 ms", "p99 ms", "errors", "nginx req/s",
       "nginx p50", "nginx p99", "ratio", "p99/nginx", "CPU ms/req", "rounds", "worst p99/nginx",
       "probe p99", "nginx probe p99", "probe p99/nginx", "probe requests"]
out = []
for r in rows:
    b, mode, name, size, rps, p50, p99, errs, nrps, np50, np99, cpu, n, worst, probe = r
    ratio = float(rps) / float(nrps) if float(nrps) else 0
    p99r = float(p99) / float(np99) if float(np99) else 0
    out.append([b, mode, name, size, f"{float(rps):.0f}", p50, p99, errs, f"{float(nrps):.0f}", np50, np99,
                f"{ratio:.3f}", f"{p99r:.1f}", cpu, n, worst, *probe])
w = [max(len(str(x)) for x in col) for col in zip(hdr, *out)]
line = lambda r: "| " + " | ".join(str(x).ljust(n) for x, n in zip(r, w)) + " |"
print(line(hdr))
print("|" + "|".join("-" * (n + 2) for n in w) + "|")
for r in out:
    print(line(r))
print()
for l in open(sys.argv[2]):
    k, b, mode, v = l.rstrip("\n").split("\t")
    print(f"{k} {b} {mode}: {v}")
# Growth: uncached p50 at the largest N over the smallest, per backend.
p50 = {}
for r in rows:
    b, mode, name = r[0], r[1], r[2]
    if mode == "uncached":
        kind, n = b.rsplit("-", 1)
        p50.setdefault((kind, name), {})[int(n)] = float(r[5])
for (kind, name), by_n in sorted(p50.items()):
    if len(by_n) > 1:
        lo, hi = min(by_n), max(by_n)
        ratio = by_n[hi] / by_n[lo] if by_n[lo] else 0
        print(f"growth {kind} {name}: p50 {by_n[lo]:.2f} ms at {lo}, {by_n[hi]:.2f} ms at {hi}, x{ratio:.2f}")
PY
echo "rounds (backend, cache, request, round, req/s, p50 ms, p99 ms, errors, nginx req/s, nginx p50, nginx p99, requests, probe p99, nginx probe p99):"
cat "$WORK/rounds.tsv"
[ -f "$WORK/plans.txt" ] && cat "$WORK/plans.txt"
echo "BENCH END"
