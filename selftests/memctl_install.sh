#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make install / uninstall and DKMS, in the guest: first into a scratch
# root (DESTDIR), then into the guest's own root (an overlay on tmpfs:
# nothing reaches the host), where modprobe's index, man, bash completion
# and systemd-analyze see what was installed. Runs last: it leaves nothing.
set -u
# -P: the runner starts tests from a link to this directory.
repo=$(cd -P "$(dirname "$0")/.." && pwd)
# shellcheck source=selftests/memwatch_lib.sh
. "$repo/selftests/memwatch_lib.sh"
# The kernel make install and DKMS target (the newest with headers): the
# one running in make check; under make check-debug, Debian's beside the
# running debug kernel. modinfo and modprobe are asked about that one.
kver=$("$repo/scripts/kver")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Runs "$@"; on failure prints its output and the reason.
check() {
	local why=$1 out
	shift
	if ! out=$("$@" 2>&1); then
		echo "# FAIL: $why: $*"
		printf '%s\n' "$out" | sed 's/^/#   /' | tail -n 20
		return 1
	fi
}

files="/lib/modules/$kver/updates/memwatch.ko:644
/usr/local/sbin/memctl:755
/etc/modules-load.d/memwatch.conf:644
/etc/memctl/memctl.conf:644
/usr/local/lib/systemd/system/memctl.service:644
/usr/local/share/man/man8/memctl.8:644
/usr/local/share/man/man4/memwatch.4:644
/usr/local/share/bash-completion/completions/memctl:644
/usr/local/include/linux/memwatch.h:644
/usr/local/share/doc/memctl/memctl.conf:644"

installed() {	# root: every file there, with its mode
	local f p m
	for f in $files; do
		p=${f%:*} m=${f#*:}
		[ -f "$1$p" ] || { echo "# FAIL: $1$p is missing"; return 1; }
		[ "$(stat -c %a "$1$p")" = "$m" ] || { echo "# FAIL: $1$p has mode $(stat -c %a "$1$p"), not $m"; return 1; }
	done
}
removed() {	# root [kept file]: none of the files there but the kept one
	local f p
	for f in $files; do
		p=${f%:*}
		[ "$p" = "${2:-}" ] && continue
		[ ! -e "$1$p" ] || { echo "# FAIL: $1$p is still there"; return 1; }
	done
}

tap_begin
# Only in memwatch's guest (scripts/vm-init makes /run/memwatch-vm): it
# installs into the root it runs in.
if [ ! -d /run/memwatch-vm ]; then
	echo "1..0 # SKIP not in memwatch's guest: would install into this machine's root"
	exit 4
fi

# 1. Into a scratch root.
(
	set -e
	check "install into $scratch" env DESTDIR="$scratch" "$repo/scripts/install"
	installed "$scratch"
	check "memctl runs from the scratch root" "$scratch/usr/local/sbin/memctl" --version
	check "depmod's index in the scratch root finds updates/memwatch.ko" \
		bash -c "[ \"\$(/sbin/modinfo -b '$scratch' -k '$kver' -n memwatch)\" = '$scratch/lib/modules/$kver/updates/memwatch.ko' ]"
	check "the unit runs the installed memctl" \
		grep -q "^ExecStart=/usr/local/sbin/memctl daemon --config /etc/memctl/memctl.conf" \
		"$scratch/usr/local/lib/systemd/system/memctl.service"
	check "the config is the sample" cmp "$repo/userspace/memctl.conf" "$scratch/etc/memctl/memctl.conf"
)
ok $? "install: every file in a scratch root, modes right, module indexed, unit runs memctl"

# 2. An administrator's config survives a reinstall and an uninstall.
(
	set -e
	echo "# the administrator's" >> "$scratch/etc/memctl/memctl.conf"
	check "reinstall" env DESTDIR="$scratch" "$repo/scripts/install"
	check "a changed config is kept on reinstall" grep -q "administrator's" "$scratch/etc/memctl/memctl.conf"
	out=$(DESTDIR="$scratch" "$repo/scripts/install" --uninstall 2>&1)
	check "uninstall says it kept the config" grep -q "differs from the sample: kept" <<< "$out"
	removed "$scratch" /etc/memctl/memctl.conf
	check "the changed config is still there" grep -q "administrator's" "$scratch/etc/memctl/memctl.conf"
	check "depmod's index no longer has memwatch" \
		bash -c "! /sbin/modinfo -b '$scratch' -k '$kver' -n memwatch"
)
ok $? "uninstall: removes everything but a changed config, and says so"

# 3. Bad arguments: one line, status 2, nothing installed.
(
	set -e
	d=$(mktemp -d)
	set +e
	out=$(DESTDIR=$d "$repo/scripts/install" --bogus 2>&1)
	rc=$?
	set -e
	check "status 2" test $rc -eq 2
	check "one line" test "$(wc -l <<< "$out")" -eq 1
	check "nothing installed" test -z "$(ls -A "$d")"
	rmdir "$d"
)
ok $? "install: a bad argument is one line, status 2, and installs nothing"

# 4. Into the guest's root: what modprobe, man, bash and systemd see.
(
	set -e
	check "install" "$repo/scripts/install"
	installed ""
	check "modprobe finds updates/memwatch.ko" \
		bash -c "[ \"\$(/sbin/modinfo -k '$kver' -n memwatch)\" = /lib/modules/$kver/updates/memwatch.ko ]"
	check "modprobe would load it" /sbin/modprobe -S "$kver" -n memwatch
	# Debian's /usr/local/man is a link to /usr/local/share/man: man may
	# name the page by either path.
	check "man memctl(8)" bash -c '[ "$(readlink -f "$(man -w 8 memctl)")" = /usr/local/share/man/man8/memctl.8 ]'
	check "man memwatch(4)" bash -c '[ "$(readlink -f "$(man -w 4 memwatch)")" = /usr/local/share/man/man4/memwatch.4 ]'
	check "man renders memctl(8)" bash -c 'MANWIDTH=80 man 8 memctl | grep -q "memctl daemon"'
	check "bash loads the completion" bash -c \
		'. /usr/share/bash-completion/bash_completion; __load_completion memctl; complete -p memctl | grep -q _memctl'
	check "memctl is on root's PATH" bash -lc 'command -v memctl'
	check "systemd-analyze verify memctl.service" systemd-analyze verify memctl.service
)
ok $? "install: modprobe, man, bash completion and systemd-analyze verify see it"

# 5. And out again.
(
	set -e
	check "uninstall" "$repo/scripts/install" --uninstall
	removed ""
	check "modprobe no longer finds memwatch" bash -c "! /sbin/modinfo -k '$kver' -n memwatch"
	check "man no longer finds memctl" bash -c '! man -w 8 memctl'
)
ok $? "uninstall: the guest's root as it was"

# 6. DKMS builds and installs the module for the running kernel.
(
	set -e
	check "dkms install" "$repo/scripts/dkms"
	check "dkms status" bash -c "dkms status memwatch | grep -q 'installed'"
	check "modprobe finds the DKMS build" \
		bash -c "[ \"\$(/sbin/modinfo -k '$kver' -n memwatch)\" = /lib/modules/$kver/updates/dkms/memwatch.ko ]"
	check "the DKMS build is this version" \
		bash -c "[ \"\$(/sbin/modinfo -k '$kver' -F version memwatch)\" = \"\$(cat /sys/module/memwatch/version 2>/dev/null || /sbin/modinfo -F version '$repo/module/memwatch.ko')\" ]"
	check "dkms uninstall" "$repo/scripts/dkms" --uninstall
	check "dkms forgot it" bash -c '! dkms status memwatch | grep -q .'
	check "modprobe no longer finds memwatch" bash -c "! /sbin/modinfo -k '$kver' -n memwatch"
)
ok $? "dkms: builds, installs and removes memwatch for the kernel with headers"

tap_end
