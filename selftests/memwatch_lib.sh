# SPDX-License-Identifier: GPL-2.0
#
# What memwatch's shell tests share; sourced, with n=0 failed=0 set.

# A TAP line for test case n+1: "ok" if $1 is 0, else "not ok".
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n $2"
	else
		failed=$((failed + 1))
		echo "not ok $n $2"
	fi
}

# Say why a case fails; its status is the case's.
fail() { echo "# FAIL: $*"; return 1; }

# Poll until "$@" succeeds, for up to $1 tenths of a second; the last try's
# output is shown.
until_ok() {
	local i tries=$1
	shift
	for ((i = 0; i < tries; i++)); do
		"$@" > /dev/null 2>&1 && return 0
		sleep 0.1
	done
	"$@"
}
