#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# memctl metrics and the daemon's metrics file and syslog: the Prometheus
# text format is well formed, its figures are the module's (a 64M process
# in a cgroup with a policy shows up with its pid, cgroup, usage and
# thresholds), the daemon counts the events and actions it saw, and a
# missing module or a bad argument is said clearly.
set -u
# -P: the runner starts tests from a link to this directory.
repo=$(cd -P "$(dirname "$0")/.." && pwd)
# shellcheck source=selftests/memwatch_lib.sh
. "$repo/selftests/memwatch_lib.sh"
memctl=${MEMCTL:-$repo/userspace/memctl}
hog=${MEMWATCH_HOG:-$repo/selftests/memwatch_hog}
ko=${MEMWATCH_KO:-$repo/module/memwatch.ko}
cg=/sys/fs/cgroup/memctl-metrics
tmp=$(mktemp -d)
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null; done
	wait 2> /dev/null
	"$memctl" policy clear "${cg#/sys/fs/cgroup}" > /dev/null 2>&1
	[ -d $cg ] && rmdir $cg 2> /dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT


# Every sample line is NAME{LABELS} VALUE, with a # TYPE for its family
# before it; every # TYPE is gauge or counter and counters end in _total.
wellformed() {
	awk '
	/^# HELP / { next }
	/^# TYPE / {
		if ($4 != "gauge" && $4 != "counter") { print "# bad type: " $0; bad = 1 }
		if ($4 == "counter" && $3 !~ /_total$/) { print "# counter not _total: " $0; bad = 1 }
		typed[$3] = 1; next
	}
	/^#/ { print "# stray comment: " $0; bad = 1; next }
	{
		if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.]+([eE][-+]?[0-9]+)?$/) {
			print "# malformed: " $0; bad = 1; next
		}
		name = $0; sub(/[{ ].*/, "", name)
		if (!(name in typed)) { print "# no TYPE before: " $0; bad = 1 }
		samples++
	}
	END { if (!samples) { print "# no samples"; bad = 1 } exit bad }' "$1"
}
# The value of the sample whose line starts with $2 (exactly one).
value() {
	local v
	v=$(awk -v k="$2 " 'index($0, k) == 1 { print $NF }' "$1")
	[ "$(wc -l <<< "$v")" -eq 1 ] && [ -n "$v" ] || { echo "# no single sample '$2' in $1" >&2; return 1; }
	echo "$v"
}

tap_begin
[ -d /sys/module/memwatch ] || insmod "$ko" || { echo "Bail out! cannot load $ko"; exit 1; }

mkdir -p $cg
echo "+memory" > /sys/fs/cgroup/cgroup.subtree_control 2> /dev/null
echo 256M > $cg/memory.max
"$memctl" policy set /memctl-metrics --notify 50% --reclaim 90% > /dev/null ||
	{ echo "Bail out! memctl policy set failed"; exit 1; }
mkfifo "$tmp/ready"
( echo $BASHPID > $cg/cgroup.procs && exec "$hog" --hold 64M --name metricshog --ready 3 3> "$tmp/ready" ) &
hogpid=$!
disown
pids+=("$hogpid")
read -r -n 1 < "$tmp/ready"

# 1. Well formed, with the module's own figures.
(
	set -e
	"$memctl" metrics > "$tmp/m" || fail "memctl metrics exited $?"
	wellformed "$tmp/m"
	[ "$(value "$tmp/m" memwatch_up)" = 1 ] || fail "memwatch_up is not 1"
	grep -qF "memwatch_info{version=\"$(cat /sys/module/memwatch/version)\"" "$tmp/m" ||
		fail "memwatch_info does not carry /sys/module/memwatch/version"
	# The mode's page-start hook: the tracepoint (default) or the charge.
	hits=$(value "$tmp/m" 'memwatch_hook_hits_total{hook="mm_page_alloc"}' 2> /dev/null) ||
		hits=$(value "$tmp/m" 'memwatch_hook_hits_total{hook="__mem_cgroup_charge"}')
	[ "$hits" -gt 16384 ] || fail "allocation hits $hits, the hog alone faulted 16384 pages"
	for t in procs pages policies node-policies events; do
		[ "$(value "$tmp/m" "memwatch_table_capacity{table=\"$t\"}")" -gt 0 ] ||
			fail "table $t has no capacity"
	done
	grep -q '^memwatch_events_sent_total [0-9]' "$tmp/m" || fail "no memwatch_events_sent_total"
)
ok $? "metrics: well formed, memwatch_up 1, version, hook hits, tables"

# 2. The cgroup's policy and the process, as the module sees them.
(
	set -e
	"$memctl" metrics > "$tmp/m"
	usage=$(value "$tmp/m" 'memwatch_cgroup_usage_bytes{cgroup="/memctl-metrics"}')
	[ "$usage" -ge $((60 << 20)) ] || fail "cgroup usage $usage < 60M"
	[ "$usage" -eq "$(cat $cg/memory.current)" ] ||
		[ $((usage - $(cat $cg/memory.current))) -lt $((4 << 20)) ] || fail "usage $usage far from memory.current"
	[ "$(value "$tmp/m" 'memwatch_cgroup_limit_bytes{cgroup="/memctl-metrics"}')" -eq $((256 << 20)) ] ||
		fail "limit is not 256M"
	[ "$(value "$tmp/m" 'memwatch_cgroup_threshold_bytes{cgroup="/memctl-metrics",level="notify"}')" -eq $((128 << 20)) ] ||
		fail "notify threshold is not 128M"
	[ "$(value "$tmp/m" 'memwatch_cgroup_level{cgroup="/memctl-metrics"}')" -eq 0 ] ||
		fail "level is not 0 at 64M of 256M"
	live=$(value "$tmp/m" "memwatch_process_live_bytes{pid=\"$hogpid\",comm=\"metricshog\",cgroup=\"/memctl-metrics\"}")
	[ "$live" -ge $((63 << 20)) ] || fail "the hog's live bytes $live < 63M"
	nodes=$(grep '^memwatch_node_live_bytes' "$tmp/m" | awk '{ s += $NF } END { print s + 0 }')
	loc=$(grep '^memwatch_live_bytes' "$tmp/m" | awk '{ s += $NF } END { print s + 0 }')
	[ "$nodes" -ge "$live" ] || fail "the nodes' sum $nodes < the hog's $live"
	[ "$nodes" -eq "$loc" ] || fail "nodes $nodes != local + remote $loc"
)
ok $? "metrics: a cgroup's usage, limit, thresholds and level; the process with pid, comm, cgroup"

# 3. --top and --output.
(
	set -e
	"$memctl" metrics --top 0 > "$tmp/m0"
	! grep -q '^memwatch_process_live_bytes{' "$tmp/m0" || fail "--top 0 still lists processes"
	[ "$("$memctl" metrics --top 1 | grep -c '^memwatch_process_live_bytes{')" -eq 1 ] ||
		fail "--top 1 does not list one process"
	"$memctl" metrics --output "$tmp/out.prom"
	[ "$(stat -c %a "$tmp/out.prom")" = 644 ] || fail "--output file mode is not 644"
	wellformed "$tmp/out.prom"
	[ "$(value "$tmp/out.prom" memwatch_up)" = 1 ]
	[ "$(ls "$tmp" | grep -c 'out.prom.tmp')" -eq 0 ] || fail "a temporary file was left"
	! "$memctl" metrics --output /nonexistent/dir/m.prom 2> "$tmp/err" || fail "writing into a missing directory succeeded"
	grep -q 'cannot write /nonexistent/dir/m.prom' "$tmp/err" || fail "no error naming the file"
)
ok $? "metrics: --top N lists N processes, --output writes a whole file (644, no temporary left)"

# 4. Bad arguments.
(
	set -e
	for args in "--top x" "--top -1" "--top 1001" "--bogus" "extra" "--output"; do
		set +e
		# shellcheck disable=SC2086
		"$memctl" metrics $args > "$tmp/o" 2> "$tmp/e"
		rc=$?
		set -e
		[ $rc -eq 2 ] || fail "'metrics $args' exited $rc, not 2"
		[ "$(wc -l < "$tmp/e")" -eq 1 ] || fail "'metrics $args' said more than one line"
		[ ! -s "$tmp/o" ] || fail "'metrics $args' printed on stdout"
	done
)
ok $? "metrics: six bad arguments each give one line and exit 2"

# 5. The daemon's file and syslog: events and actions counted.
(
	set -e
	busybox syslogd -n -O "$tmp/syslog" &
	syslogd=$!
	trap 'kill $syslogd 2> /dev/null' EXIT
	until_ok 30 test -S /dev/log
	"$memctl" daemon --metrics "$tmp/d.prom" --metrics-interval 200ms \
		--state "$tmp/state" --syslog > "$tmp/daemon.out" 2>&1 &
	dpid=$!
	until_ok 50 grep -q '^memctl_daemon_up 1' "$tmp/d.prom" || fail "no daemon metrics file"
	wellformed "$tmp/d.prom"
	[ "$(value "$tmp/d.prom" memwatch_up)" = 1 ] || fail "the daemon's file lacks the module's figures"
	# Over the notify level (128M): one event up, one notify action.
	( echo $BASHPID > $cg/cgroup.procs && exec "$hog" --hold 80M --name metricshog2 ) &
	until_ok 100 grep -q '^memctl_daemon_actions_total{action="notify",result="ok"} 1$' "$tmp/d.prom" ||
		{ cat "$tmp/daemon.out" | sed 's/^/#   /'; fail "the notify action was not counted"; }
	[ "$(value "$tmp/d.prom" 'memctl_daemon_events_total{level="notify",direction="up"}')" -eq 1 ] ||
		fail "the notify event was not counted once"
	[ "$(value "$tmp/d.prom" 'memctl_daemon_events_total{level="kill",direction="up"}')" -eq 0 ]
	"$memctl" metrics --daemon-metrics "$tmp/d.prom" > "$tmp/m"
	wellformed "$tmp/m"
	[ "$(value "$tmp/m" memctl_daemon_up)" = 1 ] || fail "memctl metrics does not include the daemon's"
	[ "$(grep -c '^memwatch_up ' "$tmp/m")" -eq 1 ] || fail "the module's figures twice"
	until_ok 30 grep -q 'memctl\[[0-9]*\]: /memctl-metrics: notify: ok' "$tmp/syslog" ||
		{ sed 's/^/#   /' "$tmp/syslog"; fail "syslog has no notify line"; }
	kill $!
	kill -TERM $dpid
	wait $dpid || fail "the daemon exited $? after SIGTERM"
	[ ! -e "$tmp/d.prom" ] || fail "the metrics file outlived the daemon"
	"$memctl" metrics --daemon-metrics "$tmp/d.prom" > "$tmp/m"
	[ "$(value "$tmp/m" memctl_daemon_up)" = 0 ] || fail "memctl_daemon_up is not 0 with no daemon"
)
ok $? "daemon --metrics: the module's and its own figures, events and actions counted; --syslog; file gone on stop"

# 6. Bad daemon settings.
(
	set -e
	for args in "--metrics-interval 0" "--metrics-interval soon"; do
		set +e
		# shellcheck disable=SC2086
		"$memctl" daemon $args > /dev/null 2> "$tmp/e"
		rc=$?
		set -e
		[ $rc -eq 2 ] && [ "$(wc -l < "$tmp/e")" -eq 1 ] || fail "'daemon $args' exited $rc"
	done
	printf '[daemon]\nsyslog = maybe\n' > "$tmp/bad.conf"
	set +e
	"$memctl" daemon --check --config "$tmp/bad.conf" 2> "$tmp/e"
	rc=$?
	set -e
	[ $rc -eq 2 ] && grep -q 'bad.conf:2: syslog: takes yes or no' "$tmp/e" || fail "syslog = maybe: $rc $(cat "$tmp/e")"
	printf '[daemon]\nmetrics = /x.prom\nmetrics-interval = 3s\nsyslog = yes\n' > "$tmp/good.conf"
	"$memctl" daemon --check --config "$tmp/good.conf" > "$tmp/o"
	grep -qx 'metrics = /x.prom' "$tmp/o" && grep -qx 'metrics-interval = 3000ms' "$tmp/o" &&
		grep -qx 'syslog = yes' "$tmp/o" || fail "the config's metrics settings not taken"
)
ok $? "daemon: metrics-interval 0 and a bad syslog value refused; the config's metrics settings taken"

# 7. Without the module: memwatch_up 0, exit 1, the file still written.
(
	set -e
	for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null; done
	"$memctl" policy clear /memctl-metrics > /dev/null
	rmmod memwatch
	set +e
	"$memctl" metrics > "$tmp/m" 2> "$tmp/e"
	rc=$?
	"$memctl" metrics --output "$tmp/off.prom" 2> /dev/null
	rc2=$?
	set -e
	insmod "$ko"
	[ $rc -eq 1 ] && [ $rc2 -eq 1 ] || fail "exit $rc and $rc2, not 1"
	grep -q 'memwatch module not loaded' "$tmp/e" || fail "stderr: $(cat "$tmp/e")"
	[ "$(value "$tmp/m" memwatch_up)" = 0 ] && [ "$(value "$tmp/off.prom" memwatch_up)" = 0 ] ||
		fail "memwatch_up is not 0"
	wellformed "$tmp/m"
)
ok $? "metrics without the module: memwatch_up 0 (on stdout and in --output), the reason, exit 1"

tap_end
