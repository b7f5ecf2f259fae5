#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The systemd unit, as an operator meets it: in a guest booted with
# systemd as init (scripts/vm-run --systemd; `make check` runs this there
# after the suite), install, write a configuration, enable and start
# memctl.service, watch it act on a leaking batch.service from
# inside its sandbox, reload, survive a crash, stop cleanly, uninstall.
# TAP on stdout; what a person would look at is printed as comments.
set -u
# -P: the runner starts tests from a link to this directory.
repo=$(cd -P "$(dirname "$0")/.." && pwd)
# shellcheck source=selftests/memwatch_lib.sh
. "$repo/selftests/memwatch_lib.sh"
hog=${MEMWATCH_HOG:-$repo/selftests/memwatch_hog}
go=/run/memctl-unit.go
batch=/sys/fs/cgroup/system.slice/batch.service

show() { "$@" 2>&1 | sed 's/^/#   /'; }
journal() { journalctl -q -o cat -u memctl.service --no-pager; }

tap_begin
if [ "$(cat /proc/1/comm)" != systemd ] || [ ! -d /run/memwatch-vm ]; then
	echo "1..0 # SKIP needs memwatch's guest booted with systemd (scripts/vm-run --systemd)"
	exit 4
fi
[ -d /sys/module/memwatch ] && rmmod memwatch

# 1. Install, as the README says; the unit is there and verifies.
(
	set -e
	"$repo/scripts/install" > /dev/null || fail "scripts/install"
	systemd-analyze verify memctl.service || fail "systemd-analyze verify"
	[ "$(systemctl show -P LoadState memctl.service)" = loaded ] || fail "memctl.service not loaded"
	[ "$(systemctl show -P FragmentPath memctl.service)" = /usr/local/lib/systemd/system/memctl.service ]
)
ok $? "install: memctl.service loaded from /usr/local/lib/systemd/system and verified"

# 2. A batch job under a memory limit, then the daemon.
(
	set -e
	mkfifo $go
	systemd-run -q --unit=batch.service -p MemoryMax=256M /bin/bash -c \
		"'$hog' --hold 60M --name innocent & read -r _ < $go; '$hog' --leak 1M --max 400M --name leaker & wait"
	until_ok 200 bash -c "[ \"\$(cat $batch/memory.current 2> /dev/null)\" -gt $((55 << 20)) ]" ||
		fail "batch.service never held 60M"
	# What an administrator writes into the installed configuration.
	# The freeze level sits 1% over the throttle's memory.high: the
	# kernel holds the leaker at memory.high (it reclaims the job's
	# page cache on every charge and sleeps it), and in this guest 4%
	# over it took the leaker 340 to 440 s, with the module of 21b2d9c
	# as with today's (the daemon idle meanwhile): past this step's
	# wait. 1% is seconds.
	cat > /etc/memctl/memctl.conf <<-EOF
	[daemon]
	avoid = ^(sshd|systemd|systemd-.*|dbus-daemon|memctl)$
	[cgroup /system.slice/batch.service]
	notify = 40%
	reclaim = 50%
	throttle = 60%
	freeze = 61%
	kill = 80%
	EOF
	systemctl enable --now memctl.service 2>&1 | sed 's/^/#   /'
	until_ok 200 bash -c 'journalctl -q -o cat -u memctl.service | grep -q "memctl daemon: ready"' ||
		{ show journal; fail "the daemon never said ready"; }
	[ "$(systemctl is-active memctl.service)" = active ] || fail "not active"
	[ "$(systemctl is-enabled memctl.service)" = enabled ] || fail "not enabled"
	[ -d /sys/module/memwatch ] || fail "ExecStartPre did not load memwatch"
	"$repo/userspace/memctl" policy list | grep -q '^/system.slice/batch.service' ||
		{ show "$repo/userspace/memctl" policy list; fail "the config's policy is not in the module"; }
	show systemctl status --no-pager -n 0 memctl.service
)
ok $? "enable --now: active and enabled, the module loaded by ExecStartPre, the config's policy set"

# 3. The ladder, from inside the sandbox: cgroup files written, leaker killed.
(
	set -e
	echo go > $go
	until_ok 1800 grep -q '"action":"kill".*"comm":"leaker"' /var/log/memctl/actions.jsonl ||
		{ show journal; fail "no kill of the leaker in /var/log/memctl/actions.jsonl"; }
	until_ok 100 bash -c '! pgrep -x leaker' || fail "the leaker is still there"
	pgrep -x innocent > /dev/null || fail "the innocent was killed"
	oom=$(awk '$1 == "oom_kill" { print $2 }' $batch/memory.events)
	[ "$oom" = 0 ] || fail "kernel OOM kills in batch.service: $oom"
	order=$(grep -o '"action":"[a-z]*"' /var/log/memctl/actions.jsonl | cut -d'"' -f4 |
		awk '!seen[$0]++' | tr '\n' ' ')
	echo "# first appearance of each action: $order"
	case $order in
	"notify reclaim throttle freeze kill "*) ;;
	*) fail "actions not in ladder order: $order" ;;
	esac
	! grep '"result":"error' /var/log/memctl/actions.jsonl || fail "an action failed in the sandbox"
	until_ok 100 grep -qx 0 $batch/cgroup.freeze || fail "batch.service left frozen"
	show bash -c 'journalctl -q -o cat -u memctl.service | grep "batch.service" | head -n 12'
)
ok $? "the daemon acts from its sandbox: notify, reclaim, throttle, freeze, kill the leaker; innocent alive, 0 OOM kills"

# 4. Reload, metrics, and a crash the unit restarts from.
(
	set -e
	systemctl reload memctl.service
	until_ok 100 bash -c 'journalctl -q -o cat -u memctl.service | grep -q "memctl daemon: reloaded /etc/memctl/memctl.conf"' ||
		fail "reload not logged"
	until_ok 200 grep -q '^memctl_daemon_up 1' /run/memctl/metrics.prom || fail "no /run/memctl/metrics.prom"
	# Rewritten every 15 s: the kill shows at the latest in the next one.
	until_ok 300 grep -q '^memctl_daemon_actions_total{action="kill",result="ok"} [1-9]' /run/memctl/metrics.prom ||
		fail "the kill is not in the metrics"
	pid=$(systemctl show -P MainPID memctl.service)
	kill -9 "$pid"
	until_ok 150 bash -c "[ \"\$(systemctl show -P MainPID memctl.service)\" != $pid ] &&
		[ \"\$(systemctl show -P MainPID memctl.service)\" != 0 ] &&
		[ \"\$(systemctl is-active memctl.service)\" = active ]" || fail "not restarted after SIGKILL"
	[ "$(systemctl show -P NRestarts memctl.service)" -ge 1 ]
	until_ok 200 bash -c '[ "$(journalctl -q -o cat -u memctl.service | grep -c "memctl daemon: ready")" -ge 2 ]' ||
		fail "the restarted daemon never said ready"
)
ok $? "reload logged, metrics written with the kill counted, restarted after SIGKILL (Restart=on-failure)"

# 5. restart = UNIT: a leaking service restarted by systemd, not killed;
# its new cgroup gets the policy again; the incident report is written
# from inside the sandbox (StateDirectory).
(
	set -e
	# 10M/s: the freeze level (164M) comes well after the reload that
	# sets the policy on the unit's cgroup (made when it starts).
	cat > /run/systemd/system/leaky.service <<-EOF
	[Service]
	ExecStart=$hog --leak 1M --every 100 --max 400M --name leaky
	MemoryMax=256M
	EOF
	cat >> /etc/memctl/memctl.conf <<-EOF
	[cgroup /system.slice/leaky.service]
	freeze = 64%
	kill = 80%
	restart = leaky.service
	EOF
	systemctl daemon-reload
	systemctl start leaky.service
	pid0=$(systemctl show -P MainPID leaky.service)
	systemctl reload memctl.service
	until_ok 100 bash -c '"'"$repo"'/userspace/memctl" policy list | grep -q "^/system.slice/leaky.service"' ||
		{ show journal; fail "the policy of leaky.service was not set"; }
	until_ok 1800 grep -q '"action":"restart".*"target":"leaky.service".*"result":"ok"' /var/log/memctl/actions.jsonl ||
		{ show journal; fail "no restart of leaky.service in the action log"; }
	until_ok 300 bash -c "[ \"\$(systemctl show -P MainPID leaky.service)\" != $pid0 ] &&
		[ \"\$(systemctl is-active leaky.service)\" = active ]" ||
		{ show systemctl status --no-pager leaky.service; fail "leaky.service was not restarted"; }
	! grep '"action":"kill".*"comm":"leaky"' /var/log/memctl/actions.jsonl || fail "leaky was killed, not restarted"
	# The restarted unit's cgroup is a new one, with the policy set again.
	until_ok 200 bash -c "\"$repo/userspace/memctl\" policy list --json |
		jq -e --argjson id \$(stat -c %i /sys/fs/cgroup/system.slice/leaky.service) \
		'any(.[]; .cgroup_id == \$id)' > /dev/null" ||
		{ show "$repo/userspace/memctl" policy list; fail "the new cgroup has no policy"; }
	until_ok 100 bash -c '"'"$repo"'/userspace/memctl" incidents --json |
		jq -e "any(.[]; .action == \"restart\" and .target == \"leaky.service\")" > /dev/null' ||
		{ show ls -l /var/lib/memctl/incidents; fail "no incident report of the restart"; }
	show "$repo/userspace/memctl" incidents
	systemctl stop leaky.service
)
ok $? "restart = leaky.service: systemd restarts it (not a kill), the new cgroup gets the policy, the incident is reported"

# 6. Stop: clean exit, nothing left behind.
(
	set -e
	systemctl stop memctl.service
	[ "$(systemctl show -P ExecMainStatus memctl.service)" = 0 ] || fail "exit status not 0"
	[ "$(systemctl is-active memctl.service)" = inactive ] || fail "still active"
	[ ! -e /run/memctl/metrics.prom ] || fail "metrics file left"
	[ "$(cat $batch/cgroup.freeze)" = 0 ] && [ "$(cat $batch/memory.high)" = max ] ||
		fail "batch.service left frozen or throttled"
	journal | grep -q 'memctl daemon: stopped' || fail "no 'stopped' line"
)
ok $? "stop: exit 0, metrics file removed, batch.service neither frozen nor throttled"

# 7. Uninstall.
(
	set -e
	systemctl stop batch.service 2> /dev/null || true
	systemctl disable memctl.service 2> /dev/null
	"$repo/scripts/install" --uninstall > /dev/null
	[ "$(systemctl show -P LoadState memctl.service)" = not-found ] || fail "the unit is still known"
)
ok $? "disable and uninstall: systemd no longer knows memctl.service"

rm -f $go
tap_end
