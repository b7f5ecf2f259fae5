#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# hooks=kprobe: the accounting and the watermarks work the same with the
# memcg charge kprobes as with the default tracepoints. Reloads the module
# in that mode, runs the tracking, watermark and status suites in it whole
# (with MEMWATCH_PARAMS set, a test that reloads keeps the mode), checks
# what status says of the hooks, and reloads the default mode for what
# follows.
set -u
repo=$(cd -P "$(dirname "$0")/.." && pwd)
memctl=${MEMCTL:-$repo/userspace/memctl}
ko=${MEMWATCH_KO:-$repo/module/memwatch.ko}
n=0 failed=0

result() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=$((failed + 1))
	fi
}

reload() {
	if [ -d /sys/module/memwatch ]; then
		rmmod memwatch || return 1
	fi
	insmod "$ko" "$@"
}

echo "TAP version 13"
echo "1..7"
reload hooks=kprobe || { echo "Bail out! cannot load $ko hooks=kprobe"; exit 1; }

# The hooks of the mode, and none of the other's.
json=$("$memctl" status --json)
echo "$json" | jq -e '[.hooks[] | select(.attached) | "\(.name):\(.kind)"] | sort ==
	["__mem_cgroup_charge:kretprobe", "mem_cgroup_migrate:kprobe",
	 "oom_kill_process:kprobe", "split_page_memcg:kprobe",
	 "uncharge_folio:kprobe"]' > /dev/null
result $? "status lists the kprobe mode's hooks, attached"

export MEMWATCH_PARAMS=hooks=kprobe
for suite in memwatch_track memwatch_wmark memwatch_status; do
	"$repo/selftests/$suite" 2>&1 | sed 's/^/# /'
	rc=${PIPESTATUS[0]}
	result "$rc" "$suite with hooks=kprobe"
done
unset MEMWATCH_PARAMS

# The suites may have reloaded it: still in the mode, the hooks counted.
json=$("$memctl" status --json)
echo "$json" | jq -e '[.hooks[] | select(.name == "__mem_cgroup_charge" and .attached and .hits > 0)] | length == 1' > /dev/null
result $? "the kprobe mode is still loaded after the suites, __mem_cgroup_charge counted"

# A mode that is not one: refused at load, nothing left loaded.
rmmod memwatch
insmod "$ko" hooks=fprobe 2> /dev/null
rc=$?
loaded=0
[ -d /sys/module/memwatch ] && loaded=1
[ $rc -ne 0 ] && [ $loaded -eq 0 ] && dmesg | tail -n 5 | grep -q 'hooks=fprobe: not kprobe or tracepoint'
result $? "hooks=fprobe is refused with a message, nothing loaded"

reload || { echo "Bail out! cannot reload $ko"; exit 1; }

# The default is the tracepoint mode, with khugepaged's allocation named.
json=$("$memctl" status --json)
echo "$json" | jq -e '[.hooks[] | select(.attached) | "\(.name):\(.kind)"] | sort ==
	["alloc_charge_hpage:kretprobe", "mem_cgroup_migrate:kprobe",
	 "mm_page_alloc:tracepoint", "mm_page_free:tracepoint",
	 "oom_kill_process:kprobe", "split_page_memcg:kprobe"]' > /dev/null
result $? "reloaded without hooks=: the tracepoint mode's hooks, attached"
echo "# $((n - failed)) passed, $failed failed"
[ $failed -eq 0 ]
