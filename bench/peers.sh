# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sections 4 and 5 of bench/run (sourced): memctl daemon against earlyoom
# and nohang, and the kernel alone, on the same scenarios, in a cgroup with
# a limit and host-wide. Uses bench/run's helpers and variables. With
# swapsec set (section 5, in the --profile host guest): swap on, memctl's
# policies count it (swap = yes), and a thrash scenario.

cgname=bench-peer
cgdir=/sys/fs/cgroup/$cgname
# The innocent's pass count: on the guest's tmpfs (a file on the 9p
# share costs a round trip to the host on every pass).
workf=/tmp/memwatch-bench.work
# Waits without a fork (sleep(1) is a fork and an exec each time, which
# the guest's one emulating thread takes from the workloads measured).
tick=/tmp/memwatch-bench.tick
rm -f $tick && mkfifo $tick && exec 4<> $tick
nap() { read -rt "$1" -u 4 _; true; }
# Centiseconds since boot, into the variable named $1, without a fork.
now_cs() { local u _; read -r u _ < /proc/uptime; printf -v "$1" '%d' "$((10#${u/./}))"; }
swapsec=${swapsec:-}
# Raw files: peer-SCOPE-SCENARIO-TOOL.log (section 4), swap-... (5).
pfx=peer
tools="none memctl-sample memctl-tuned earlyoom-default earlyoom-tuned nohang-default nohang-tuned"
scenarios="fast slow burst children"
# Host-wide, the kernel alone ends a fast leak only after minutes of
# thrashing under emulation (140 to 668 s in four runs): within the time
# limit it never does, and one scenario shows that.
host_none_scenarios="fast"
[ -n "$quick" ] && { tools="none memctl-tuned earlyoom-default"; scenarios="fast children"; host_none_scenarios=; }
if [ -n "$swapsec" ]; then
	# The peers as users run them (their tuned rows are in section 4).
	pfx=swap
	tools="none memctl-tuned earlyoom-default nohang-default"
	scenarios="fast slow burst children thrash"
	host_none_scenarios="thrash"
	[ -n "$quick" ] && { tools="none memctl-tuned earlyoom-default"; scenarios="fast thrash"; }
fi
# A part of the table, to look again at a row: BENCH_SCOPES (cgroup
# host), BENCH_SCENARIOS, BENCH_TOOLS.
scopes=${BENCH_SCOPES:-cgroup host}
scenarios=${BENCH_SCENARIOS:-$scenarios}
tools=${BENCH_TOOLS:-$tools}
# memctl counts swap in its policies' usage in section 5.
swapline=
[ -n "$swapsec" ] && swapline=$'swap = yes\n'

# Prefix each line with the time since boot, as /proc/uptime says it, as
# the line comes (not awk: mawk reads a pipe in blocks).
stamp() {
	local line up _
	while IFS= read -r line; do
		read -r up _ < /proc/uptime
		printf '%s %s\n' "$up" "$line"
	done
}

# In the bench cgroup, with the OOM killer allowed to pick it. Disowned:
# its death by SIGKILL is the point, not news for the log ($! stays valid).
in_cg() { ( echo $BASHPID > $cgdir/cgroup.procs; exec "$hog" --oom-score-adj 0 "$@" ) & disown $!; }

tool_start() {
	local tool=$1 scope=$2
	tool_pid=
	: > "$raw/peer.log"
	rm -f "$raw/peer.jsonl" "$raw/peer.state"
	case $tool in
	memctl-*)
		# Host-wide: a policy on the root cgroup, the whole host.
		local cg=/$cgname
		[ "$scope" = host ] && cg=/
		if [ "$tool" = memctl-sample ]; then
			# userspace/memctl.conf's levels and the daemon's defaults
			printf '[cgroup %s]\nnotify = 60%%\nreclaim = 70%%\nthrottle = 80%%\nfreeze = 90%%\nkill = 95%%\n%s' $cg "$swapline"
		elif [ "$scope" = host ]; then
			printf '[daemon]\nfreeze-grace = 1s\nkill-grace = 1s\nsettle = 3s\n[cgroup /]\nnotify = 50%%\nreclaim = 60%%\nthrottle = 65%%\nfreeze = 70%%\nkill = 80%%\n%s' "$swapline"
		else
			printf '[daemon]\nfreeze-grace = 1s\nkill-grace = 1s\nsettle = 3s\n[cgroup /%s]\nnotify = 40%%\nreclaim = 50%%\nthrottle = 60%%\nfreeze = 64%%\nkill = 80%%\n%s' $cgname "$swapline"
		fi > "$raw/peer.conf"
		"$memctl" daemon --config "$raw/peer.conf" --log-json "$raw/peer.jsonl" \
			--state "$raw/peer.state" > >(stamp >> "$raw/peer.log") 2>&1 &
		tool_pid=$!
		for _ in $(seq 100); do grep -q 'daemon: ready' "$raw/peer.log" && break; sleep 0.1; done
		;;
	earlyoom-*)
		local args=()
		[ "$tool" = earlyoom-tuned ] && args=(-m 20,10 -r 0)
		# stdbuf: its report goes to a pipe; each line is stamped as it comes.
		stdbuf -oL "$peers/usr/bin/earlyoom" "${args[@]}" > >(stamp >> "$raw/peer.log") 2>&1 &
		tool_pid=$!
		sleep 1
		;;
	nohang-*)
		cp "$peers/etc/nohang/nohang.conf" "$raw/nohang.conf"
		if [ "$tool" = nohang-tuned ]; then
			sed -i 's/^soft_threshold_min_mem *=.*/soft_threshold_min_mem = 20 %/;
				s/^hard_threshold_min_mem *=.*/hard_threshold_min_mem = 10 %/;
				s/^max_sleep *=.*/max_sleep = 0.5/' "$raw/nohang.conf"
		fi
		python3 -u -W ignore "$peers/usr/sbin/nohang" --monitor --config "$raw/nohang.conf" \
			> >(stamp >> "$raw/peer.log") 2>&1 &
		tool_pid=$!
		for _ in $(seq 300); do grep -qi 'monitoring has started' "$raw/peer.log" && break; sleep 0.1; done
		;;
	esac
	return 0
}

tool_stop() {
	[ -n "$tool_pid" ] || return 0
	kill "$tool_pid" 2>/dev/null
	wait "$tool_pid" 2>/dev/null
	tool_pid=
	# The module keeps policies; a cgroup's go with it, the root's not.
	"$memctl" policy clear / > /dev/null 2>&1
	true
}

# Seconds after t0 of the tool's first action, or "-".
first_action() {
	local tool=$1 t0=$2 t=
	case $tool in
	memctl-*)
		[ -s "$raw/peer.jsonl" ] &&
			t=$(jq -rs '[.[] | select(.action != "notify" and .action != "oom") | .ts_ns] | min // empty' "$raw/peer.jsonl" |
			    awk '{ printf "%.3f", $1 / 1e9 }') ;;
	earlyoom-*|nohang-*)
		# "sending SIGTERM to process ..." (earlyoom), "Sending SIGTERM to the
		# victim" (nohang); not earlyoom's "sending SIGTERM when mem <= ...".
		t=$(grep -im1 'sending sig[a-z]* to' "$raw/peer.log" | cut -d' ' -f1) ;;
	esac
	[ -n "$t" ] && awk -v t="$t" -v t0="$t0" 'BEGIN { printf "%.1f", t - t0 }' || echo -
}

# Seconds after t0 of the first kernel OOM kill since dmesg line $2, or "-".
first_oom() {
	local t
	t=$(dmesg | tail -n +"$(($2 + 1))" | grep -m1 'Killed process\|oom-kill:' | sed 's/^\[ *\([0-9.]*\)\].*/\1/')
	[ -n "$t" ] && awk -v t="$t" -v t0="$1" 'BEGIN { printf "%.1f", t - t0 }' || echo -
}

# Remove the bench cgroup, killing what is in it; a thrashing guest may
# take a while to let it go.
cg_remove() {
	[ -d $cgdir ] || return 0
	echo 1 > $cgdir/cgroup.kill
	for _ in $(seq 600); do rmdir $cgdir 2>/dev/null && return 0; sleep 0.1; done
	note "  $cgdir still busy after 60 s"
}

# Start the innocent in the bench cgroup and wait for its first pass
# over its memory (the faults of the first touch are behind it).
innocent_start() {
	local w i
	rm -f "$workf"
	in_cg --hold "$1" --work "$workf" --name innocent
	kid=$!
	for ((i = 0; i < 600; i++)); do
		w=0
		[ -f "$workf" ] && read -r w < "$workf"
		[ "${w:-0}" -ge 1 ] && return 0
		nap 0.1
	done
	note "  the innocent did no pass in 60 s"
}

# Passes so far, into the variable named $1.
passes() { local w=0; [ -f "$workf" ] && read -r w < "$workf"; printf -v "$1" '%d' "${w:-0}"; }

# The innocent's pace alone in scope $1 (the cgroup's limit, no tool, no
# pressure, the module loaded as in every row): passes per second over
# 5 s after its first pass. The work column of every row is a share of it.
innocent_pace() {
	local wa wb ta tb
	mkdir -p $cgdir
	echo "$1" > $cgdir/memory.max
	innocent_start "$2"
	passes wa; now_cs ta
	nap 5
	passes wb; now_cs tb
	cg_remove
	awk -v a="$wa" -v b="$wb" -v t=$((tb - ta)) 'BEGIN { printf "%.1f\n", (b - a) * 100 / t }'
}

scope_limit() { [ "$1" = cgroup ] && echo 256M || echo max; }
scope_innocent() { [ "$1" = cgroup ] && echo 60M || echo 200M; }

# One scenario with one tool: a row of the table.
run_case() {
	local scope=$1 scen=$2 tool=$3 timeout=40
	local t0 t0_cs t_end stopped=- oom0 oom dmesg0 alive rate w0 w1 leaker kid dl now
	[ "$scope" = host ] && timeout=45
	mkdir -p $cgdir
	scope_limit "$scope" > $cgdir/memory.max
	[ -n "$swapsec" ] && echo max > $cgdir/memory.swap.max
	tool_start "$tool" "$scope"
	innocent_start "$(scope_innocent "$scope")"
	oom0=$(awk '/^oom_kill / { print $2 }' /proc/vmstat)
	dmesg0=$(dmesg | wc -l)
	passes w0
	t0=$(up)
	# Every leaking process ends itself at the time limit (SIGALRM, which
	# the kernel carries out even while the guest thrashes and this loop
	# cannot run): the time limit holds for the kernel alone too.
	dl=(--deadline "$timeout")
	case $scen-$scope in
	fast-cgroup) in_cg "${dl[@]}" --leak 1M --name leaker ;;
	# Issue 9's whole-host scenario: 8M every 20 ms beside a 200M innocent.
	fast-host) in_cg "${dl[@]}" --leak 8M --every 20 --name leaker ;;
	slow-cgroup) in_cg "${dl[@]}" --leak 256K --every 12 --name leaker ;;
	slow-host) in_cg "${dl[@]}" --leak 2M --every 20 --name leaker ;;
	burst-cgroup) in_cg "${dl[@]}" --hold 200M --name burst ;;
	burst-host) in_cg "${dl[@]}" --hold 1900M --name burst ;;
	children-cgroup) in_cg "${dl[@]}" --children 8 --leak 256K --name leakers ;;
	children-host) in_cg "${dl[@]}" --children 8 --leak 1M --name leakers ;;
	# Not a leak: a working set bigger than the memory it may keep,
	# walked page by page (the cgroup's 256M; RAM less 100M beside the
	# innocent's 200M host-wide, about 300M in swap, swap not full).
	thrash-cgroup) in_cg "${dl[@]}" --hold 320M --walk --name thrasher ;;
	thrash-host) in_cg "${dl[@]}" --hold "$thrash_host" --walk --name thrasher ;;
	esac
	leaker=$!
	t0_cs=${t0/./}
	while kill -0 $leaker 2>/dev/null; do
		now_cs now
		((now - 10#$t0_cs > timeout * 100)) && break
		nap 0.2
	done
	t_end=$(up)
	passes w1
	# Gone before the limit: stopped (by a tool or the kernel); at or
	# after it, it ended itself.
	kill -0 $leaker 2>/dev/null ||
		stopped=$(awk -v a="$t0" -v b="$t_end" -v m=$timeout 'BEGIN { if (b - a < m) printf "%.1f", b - a; else print "-" }')
	if [ "$scope" = cgroup ]; then
		oom=$(awk '$1 == "oom_kill" { print $2 }' $cgdir/memory.events)
	else
		oom=$(( $(awk '/^oom_kill / { print $2 }' /proc/vmstat) - oom0 ))
	fi
	rate=$(awk -v a="$w0" -v b="$w1" -v t0="$t0" -v t1="$t_end" 'BEGIN { if (t1 > t0) printf "%.1f", (b - a) / (t1 - t0); else print 0 }')
	# The innocent's fate once the tool is stopped: a kill the tool
	# decided as the leak ended counts (memctl's once came 1 s after).
	tool_stop
	alive=yes
	kill -0 "$kid" 2>/dev/null || alive="**no**"
	# The work column waits for the scope's second reference pace.
	rows+=("$(printf '| %s | %s | %s | %s | %s | %s | %s | @WORK@ |' "$scope" "$scen" "$tool" "$oom" "$alive" \
		"$(first_action "$tool" "$t0")" "$( [ "$stopped" = - ] && echo "not in ${timeout} s" || echo "$stopped")")")
	row_rates+=("$rate") row_scopes+=("$scope")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scope" "$scen" "$tool" "$oom" "$alive" "$(first_oom "$t0" "$dmesg0")" "$stopped" >> "$raw/${pfx}s.tsv"
	cg_remove
	cp "$raw/peer.log" "$raw/$pfx-$scope-$scen-$tool.log"
	[ -f "$raw/peer.jsonl" ] && cp "$raw/peer.jsonl" "$raw/$pfx-$scope-$scen-$tool.jsonl"
	note "  $scope $scen $tool: oom $oom, innocent $alive, stopped $stopped, $rate passes/s"
}

thrash_host=$(($(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) - 100))M
if [ -z "$swapsec" ]; then
	note "4. peers"
	load

	md ""
	md "## 4. Against earlyoom and nohang"
	md ""
	md "Each row: a fresh cgroup \`/$cgname\` holding an innocent process (\`memwatch_hog --work\`: it holds its"
	md "memory and counts passes of 16,384 writes over a 128 KiB window that walks it; not one write per page of"
	md "the whole hold, whose speed under emulation follows the emulator's software TLB and moved tenfold"
	md "between runs), then the scenario starts (time 0):"
	md ""
	md "- fast: one process taking 1M after 1M as fast as it can in the cgroup; 8M every 20 ms host-wide"
	md "  (about 400 MB/s asked; the emulated guest gives what it can);"
	md "- slow: 256K every 12 ms (about 20 MB/s) in the cgroup, 2M every 20 ms (about 100 MB/s) host-wide;"
	md "- burst: one process touching 200M at once (1900M host-wide), then holding it;"
	md "- children: one parent with 8 children each taking 256K (1M host-wide) as fast as they can."
	md ""
	md "cgroup: memory.max 256M, innocent 60M, at most 40 s. host: no limit on the cgroup, the guest's"
	md "$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB and no swap, innocent 200M, at most 45 s. At that limit every leaking"
	md "process ends itself (\`memwatch_hog --deadline\`: SIGALRM, which the kernel carries out even while the guest"
	md "thrashes); a leak that ended so is \"not stopped\"."
	md ""
	md "Tools: **none** (the kernel alone); **memctl-sample** (\`memctl daemon\` with \`userspace/memctl.conf\`'s levels,"
	md "60/70/80/90/95%, and its default graces); **memctl-tuned** (40/50/60/64/80%, 1 s graces, as \`make demo\`;"
	md "host-wide 50/60/65/70/80% of RAM). Host-wide, memctl's policy is on the root cgroup \`/\`: usage is"
	md "MemTotal - MemAvailable, throttle and freeze do not apply (the root has neither), the kill chooses among every process;"
	md "**earlyoom-default** (\`earlyoom\`: SIGTERM under 10% MemAvailable); **earlyoom-tuned** (\`-m 20,10\`);"
	md "**nohang-default** (Debian's nohang.conf: SIGTERM under 5% available); **nohang-tuned** (20% / 10%, 0.5 s polls)."
	md "earlyoom and nohang watch the whole host only: in a cgroup with a limit they never act, by design."
	md "Host-wide, the kernel alone (**none**) runs the fast leak only: under emulation it can thrash for minutes"
	md "before its OOM killer acts (140 to 668 s in four earlier runs, under 30 s in one other), often past the time limit; each further scenario"
	md "would show the same at 45 s more."
	md ""
	md "Columns: kernel OOM kills; whether the innocent survived; seconds to the tool's first action"
	md "(memctl: its first reclaim, throttle, freeze or kill; the others: their first signal); seconds until the"
	md "leak stopped (the leaking process, or the parent of the children, ended); the innocent's work in that"
	md "time, as a share of its pace alone (measured in this run, in the same cgroup with the same limit, for 5 s"
	md "with no tool and no pressure, before and after the scope's rows: the figures are under the table). A tool's"
	md "own CPU use counts against it: the guest's vCPUs share one emulating host thread. Under emulation the pace"
	md "alone moves by a quarter from one start of the same program to the next: read shares within about 25%."
	md ""
else
	note "5. peers with swap"
	load
	md ""
	md "## 5. With swap: against earlyoom and nohang, and a thrash"
	md ""
	md "Section 4's scenarios again, in the production-like guest (\`scripts/vm-run --profile host\`:"
	md "$(nproc) vCPUs, $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB, $(awk '/SwapTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB of swap on a virtio disk, a child cpuset; THP off"
	md "as in sections 2 to 4), the bench cgroup's memory.swap.max \`max\`, and one more scenario:"
	md ""
	md "- thrash: not a leak: one process holding 320M in the cgroup's 256M (host-wide, RAM less 100M: $thrash_host"
	md "  beside the innocent's 200M, about 300M in swap and swap not full) and writing one byte in every page"
	md "  of it, over and over."
	md ""
	md "Tools, as users run them (section 4 has their tuned rows): **none** (the kernel alone); **memctl-tuned**"
	md "(section 4's levels and graces, and \`swap = yes\`: the policy's usage counts swap, memory.swap.current in"
	md "the cgroup, the host's swap in use on \`/\`); **earlyoom-default** (SIGTERM when MemAvailable and SwapFree are"
	md "both under 10%); **nohang-default** (Debian's nohang.conf: SIGTERM when available memory is under 5% and free"
	md "swap under 10%). Host-wide, the kernel alone runs the thrash only, as in section 4."
	md ""
	md "Columns as in section 4; a thrash \"stopped\" when its process ended."
	md ""
fi
md "| scope | scenario | tool | kernel OOM kills | innocent survived | first action (s) | leak stopped (s) | innocent's work |"
md "| --- | --- | --- | --- | --- | --- | --- | --- |"
echo -e "scope\tscenario\ttool\toom_kills\tinnocent_alive\tfirst_oom_s\tstopped_s" > "$raw/${pfx}s.tsv"
declare -A pace0 pace1
rows=() row_rates=() row_scopes=()
for scope in $scopes; do
	pace0[$scope]=$(innocent_pace "$(scope_limit $scope)" "$(scope_innocent $scope)")
	note "  $scope: the innocent alone does ${pace0[$scope]} passes/s"
	for scen in $scenarios; do
		for tool in $tools; do
			[ $scope-$tool = host-none ] && [[ " $host_none_scenarios " != *" $scen "* ]] && continue
			run_case $scope $scen $tool
		done
	done
	pace1[$scope]=$(innocent_pace "$(scope_limit $scope)" "$(scope_innocent $scope)")
	note "  $scope: the innocent alone does ${pace1[$scope]} passes/s (after)"
done
over=
for i in "${!rows[@]}"; do
	sc=${row_scopes[$i]}
	share=$(awk -v r="${row_rates[$i]}" -v a="${pace0[$sc]}" -v b="${pace1[$sc]}" 'BEGIN { if (a + b > 0) printf "%.0f", r * 200 / (a + b); else print "-" }')
	if [ "$share" != - ]; then
		[ "$share" -gt 200 ] && over=1
		share=$share%
	fi
	md "${rows[$i]/@WORK@/$share}"
done
if [ -n "$over" ]; then
	md ""
	md "**The work column is not a valid result in this run:** in some rows the innocent did more than twice its"
	md "pace alone, which the pressure cannot give it: the guest's own speed changes under emulation by more than"
	md "what is measured. Each row's raw passes per second are in the bench log."
fi
unload
exec 4>&-
rm -f $tick "$workf"
md ""
md "The innocent alone, before and after each scope's rows: ${pace0[cgroup]:--} and ${pace1[cgroup]:--} passes/s over its 60M in the"
md "cgroup, ${pace0[host]:--} and ${pace1[host]:--} over its 200M host-wide; the work column divides by their mean."
md ""
md "Per-run logs of each tool: \`build/bench/$pfx-SCOPE-SCENARIO-TOOL.log\` (and \`.jsonl\`, memctl's action log)."
