#!/usr/bin/env bash
# kill -9 at random points of ingest, verdicts, findings and `audit start`
# (ROUNDS of each, default 30): after every kill, every committed change is
# present, nothing is partial, and `verify` (chain, head file, state replayed
# against the log) is green.
#   benches/crash.sh [path/to/quarterdeck] [rounds]
set -euo pipefail
QD="${1:-${CARGO_TARGET_DIR:-$HOME/.cache/quarterdeck-target}/release/quarterdeck}"
ROUNDS="${2:-30}"
[ -x "$QD" ] || { echo "no binary at $QD (cargo build --release first)" >&2; exit 2; }
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
export HOME="$WORK" QUARTERDECK_ACTOR=crash QUARTERDECK_NOW=2026-11-26T12:00:00Z QUARTERDECK_THREADS=2
WS="$WORK/ws"
"$QD" demo "$WS" --no-open --as-of 2026-11-26 >/dev/null 2>&1
qd() { "$QD" --workspace "$WS" "$@"; }
# The binary itself, not a function: kill -9 must reach quarterdeck, not a subshell.
QDW=("$QD" --workspace "$WS")
scalar() { qd --format csv query "$1" | tail -1; }
now_ms() { date +%s%3N; }
killed=0
declare -A kills=([ingest]=0 [verdict]=0 [finding]=0 [audit]=0)

# Runs "$@" in the background, kills it -9 after a random delay within the
# duration of its first run (measured once per kind), then checks the log.
strike() {
    local kind="$1"; shift
    local limit_var="LIMIT_$kind"
    if [ -z "${!limit_var:-}" ]; then
        local t0; t0=$(now_ms); "$@" >/dev/null 2>&1 || true
        printf -v "$limit_var" '%s' $(( $(now_ms) - t0 + 1 ))
        return
    fi
    "$@" >/dev/null 2>&1 &
    local pid=$!
    sleep "$(awk -v max="${!limit_var}" 'BEGIN { srand(); printf "%.3f", rand() * max / 1000 }')"
    if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); kills[$kind]=$((kills[$kind] + 1)); fi
    wait "$pid" 2>/dev/null || true
    if ! qd verify >"$WORK/verify.out" 2>&1; then
        echo "verify failed after a kill during $kind:" >&2; cat "$WORK/verify.out" >&2; exit 1
    fi
}

qd audit start 2026-Q3 --controls all --seed crash >/dev/null
KEYS=$(qd --format csv query "SELECT key FROM qd.sample_rows r JOIN qd.samples s USING (sample_id)
                               WHERE s.audit = '2026-Q3' AND s.control = 'CHG-1' AND s.current ORDER BY position")
for i in $(seq 0 "$ROUNDS"); do
    # Ingest: the source holds its rows before or after the run, never a part; its stats agree.
    strike ingest "${QDW[@]}" ingest deploys
    rows=$(scalar "SELECT count(*) FROM deploys")
    stats=$(scalar "SELECT rows FROM qd.source_stats WHERE source = 'deploys'")
    [ "$rows" = "$stats" ] || { echo "deploys: $rows rows but stats say $stats" >&2; exit 1; }
    # A verdict, a finding, an audit: each whole or absent.
    key=$(echo "$KEYS" | sed -n "$(( i % 20 + 2 ))p")
    strike verdict "${QDW[@]}" verdict 2026-Q3 CHG-1 "$key" exception --note "round $i"
    strike finding "${QDW[@]}" findings add --audit 2026-Q3 --control CHG-1 --title "round $i" --severity low \
        --owner o@example --due 2026-12-31 --row "$key"
    label="M-$i"
    strike audit "${QDW[@]}" audit start "$label" --period 2026-Q2 --controls all --seed "s$i"
    n=$(scalar "SELECT count(*) FROM qd.audits WHERE label = '$label'")
    if [ "$n" = 1 ]; then
        drawn=$(scalar "SELECT count(*) FROM qd.samples WHERE audit = '$label'")
        [ "$drawn" -gt 0 ] || { echo "audit $label exists without its samples" >&2; exit 1; }
    fi
done
echo "crash: $killed kill(s) -9 over $ROUNDS round(s): ingest ${kills[ingest]}, verdict ${kills[verdict]}, finding ${kills[finding]}, audit start ${kills[audit]}; verify green after each"
