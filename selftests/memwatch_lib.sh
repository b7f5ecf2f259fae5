# SPDX-License-Identifier: GPL-2.0
#
# What memwatch's shell tests share; sourced. A test calls tap_begin,
# reports each case with ok, and ends with tap_end: the plan is printed
# last, counted from the cases reported, so no number is kept in step
# with the script by hand (a script that dies early prints no plan, which
# TAP reads as a failure).
n=0 failed=0

tap_begin() { echo "TAP version 13"; }

# The plan, a summary comment, and the script's status: 0 if none failed.
tap_end() {
	echo "1..$n"
	echo "# $((n - failed)) passed, $failed failed"
	[ "$failed" -eq 0 ]
}

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
