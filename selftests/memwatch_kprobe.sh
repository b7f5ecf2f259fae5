#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# hooks=kprobe: the accounting and the watermarks work the same with the
# memcg charge kprobes as with the default tracepoints. Reloads the module
# in that mode, runs the tracking, watermark and status suites in it whole
# (with MEMWATCH_PARAMS set, a test that reloads keeps the mode), checks
# what status says of the hooks, and reloads the default mode for what
# follows. Then a hook this kernel lacks (absent=): one the figures can
# do without loads and is named in status; one they need fails the load.
set -u
repo=$(cd -P "$(dirname "$0")/.." && pwd)
memctl=${MEMCTL:-$repo/userspace/memctl}
ko=${MEMWATCH_KO:-$repo/module/memwatch.ko}
# shellcheck source=selftests/memwatch_lib.sh
. "$repo/selftests/memwatch_lib.sh"

reload() {
	if [ -d /sys/module/memwatch ]; then
		rmmod memwatch || return 1
	fi
	insmod "$ko" "$@"
}

# Each kernel's hook functions (module/compat.h): the ones both modes
# share, then each mode's own, as "name:kind".
kv=$(uname -r | sed -E 's/^([0-9]+)\.([0-9]+).*/\1 \2/')
ver_ge() { [ "$(printf '%s\n%s\n' "$1 $2" "$kv" | sort -n -k1,1 -k2,2 | head -n 1)" = "$1 $2" ]; }
both="mem_cgroup_migrate:kprobe oom_kill_process:kprobe"
if ver_ge 6 15; then
	both+=" folio_split_memcg_refs:kprobe split_page_memcg:kprobe"
else
	both+=" split_page_memcg:kprobe"
fi
ver_ge 6 7 && both+=" mem_cgroup_replace_folio:kprobe"
collapse=alloc_charge_hpage
ver_ge 6 8 && collapse=alloc_charge_folio
# A JSON array of the words, sorted, for jq to compare.
sorted() { printf '%s\n' "$@" | jq -R . | jq -sc sort; }
kprobe_hooks=$(sorted $both __mem_cgroup_charge:kretprobe uncharge_folio:kprobe)
tracepoint_hooks=$(sorted $both $collapse:kretprobe mm_page_alloc:tracepoint mm_page_free:tracepoint)
echo "# kernel $(uname -r): kprobe mode $kprobe_hooks"
echo "# tracepoint mode $tracepoint_hooks"

tap_begin
reload hooks=kprobe || { echo "Bail out! cannot load $ko hooks=kprobe"; exit 1; }

# The hooks of the mode, and none of the other's.
json=$("$memctl" status --json)
echo "$json" | jq -e --argjson want "$kprobe_hooks" \
	'[.hooks[] | select(.attached) | "\(.name):\(.kind)"] | sort == $want' > /dev/null
ok $? "status lists the kprobe mode's hooks, attached"

export MEMWATCH_PARAMS=hooks=kprobe
for suite in memwatch_track memwatch_thp memwatch_wmark memwatch_wmark_host \
	     memwatch_status; do
	"$repo/selftests/$suite" 2>&1 | sed 's/^/# /'
	rc=${PIPESTATUS[0]}
	ok "$rc" "$suite with hooks=kprobe"
done
unset MEMWATCH_PARAMS

# The suites may have reloaded it: still in the mode, the hooks counted.
json=$("$memctl" status --json)
echo "$json" | jq -e '[.hooks[] | select(.name == "__mem_cgroup_charge" and .attached and .hits > 0)] | length == 1' > /dev/null
ok $? "the kprobe mode is still loaded after the suites, __mem_cgroup_charge counted"

# A mode that is not one: refused at load, nothing left loaded.
rmmod memwatch
insmod "$ko" hooks=fprobe 2> /dev/null
rc=$?
loaded=0
[ -d /sys/module/memwatch ] && loaded=1
[ $rc -ne 0 ] && [ $loaded -eq 0 ] && dmesg | tail -n 5 | grep -q 'hooks=fprobe: not kprobe or tracepoint'
ok $? "hooks=fprobe is refused with a message, nothing loaded"

reload || { echo "Bail out! cannot reload $ko"; exit 1; }

# The default is the tracepoint mode, with khugepaged's allocation named.
json=$("$memctl" status --json)
echo "$json" | jq -e --argjson want "$tracepoint_hooks" \
	'[.hooks[] | select(.attached) | "\(.name):\(.kind)"] | sort == $want' > /dev/null
ok $? "reloaded without hooks=: the tracepoint mode's hooks, attached"

# A hook the figures can do without, missing (as on a kernel without its
# function): the load goes on, the log and status name it and what is
# lost, the rest attached.
# The kernel log after a mark (never cleared: vm-run reads it whole).
mark() { echo "memwatch_kprobe.sh: $1" > /dev/kmsg; }
since() { dmesg | sed -n "/memwatch_kprobe.sh: $1\$/,\$p"; }
rmmod memwatch
mark absent-optional
if insmod "$ko" absent=oom_kill_process; then
	json=$("$memctl" status --json)
	text=$("$memctl" status)
	echo "$json" | jq -e '[.hooks[] | select(.name == "oom_kill_process")][0] |
		(.attached | not) and .error == "No such file or directory" and
		(.uncounted | test("OOM kills are not reported"))' > /dev/null &&
	echo "$json" | jq -e '[.hooks[] | select(.attached | not)] | length == 1' > /dev/null &&
	grep -q "not attached: oom_kill_process (No such file or directory): kernel OOM kills are not reported" <<< "$text" &&
	since absent-optional | grep -q "oom_kill_process is not on this kernel or cannot be probed (-2); loading without it"
	ok $? "absent=oom_kill_process: loads, status and the log say what is not reported"
else
	ok 1 "absent=oom_kill_process: loads, status and the log say what is not reported"
fi

# One the figures need: the load fails, naming it; nothing is left.
rmmod memwatch 2> /dev/null
mark absent-required
insmod "$ko" absent=mem_cgroup_migrate 2> /dev/null
rc=$?
loaded=0
[ -d /sys/module/memwatch ] && loaded=1
[ $rc -ne 0 ] && [ $loaded -eq 0 ] &&
	since absent-required | grep -q 'cannot attach to mem_cgroup_migrate: -2'
ok $? "absent=mem_cgroup_migrate: the load fails naming it, nothing loaded"

reload || { echo "Bail out! cannot reload $ko"; exit 1; }
tap_end
