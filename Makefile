# SPDX-License-Identifier: GPL-2.0
#
# make            build module/memwatch.ko and userspace/memctl
# make check      install what is missing, build, run every test in a guest
#                 on Debian 12's 6.1, and the kernel-facing tests on 6.12
#                 and sid's newest kernel, each fetched into ~/.cache/memwatch;
#                 KERNELS="6.1 6.12 sid" picks (the first runs everything;
#                 scripts/kernel --help, Documentation/kernels.md)
# make demo       install what is missing, build, show memwatch in a guest
# make bench      install what is missing, build, run bench/run in a guest:
#                 writes bench/results.md (about 30 minutes on 2 cores)
# make check-debug  the same suite on a 6.1 kernel built with KASAN, kmemleak,
#                 lockdep, DEBUG_ATOMIC_SLEEP, DEBUG_VM and DEBUG_OBJECTS
#                 (built once into build/debug: see Documentation/testing.md)
# make install    the module (depmod), memctl, its unit, man pages, completion,
#                 modules-load.d, /etc/memctl/memctl.conf; DESTDIR, PREFIX
#                 (default /usr/local); make uninstall takes them away
# make dkms-install  the module's source under DKMS: rebuilt for new kernels
# make lint       checkpatch on the module, cppcheck on userspace, tests, bench,
#                 the man pages and completion against the code
#
# KVER=... builds against another installed kernel's headers (default: the
# newest one in /lib/modules, which is what the guest boots).

KVER ?= $(shell scripts/kver)
KDIR ?= /lib/modules/$(KVER)/build
KSRC ?= $(CURDIR)/build/ksrc

all: module memctl

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

memctl:
	$(MAKE) -C userspace

ksrc:
	scripts/ksrc $(KSRC)

selftests: memctl ksrc
	$(MAKE) -C selftests KSRC=$(KSRC)

deps:
	scripts/deps

# deps runs first and alone: the kernel headers KVER names may only exist
# once it has run, so the rest is a fresh make.
check: deps
	$(MAKE) all selftests
	scripts/check

check-debug: deps-debug
	$(MAKE) all selftests
	scripts/check --debug

deps-debug: deps
	scripts/deps --debug

demo: deps
	$(MAKE) all selftests
	scripts/vm-run -- scripts/demo

bench-tools:
	$(MAKE) -C bench

# psi=1: Debian's kernel leaves PSI off unless asked; section 3 uses it.
# The RCU stall timeout: the kernel alone, host-wide, thrashes for minutes
# under emulation, and in one run held a CPU in the page allocator past
# the 21 s default (as for check-debug; a stall in memwatch still shows).
# Section 1 (fault cost) runs in guests whose clocks count instructions,
# with and without ERMS (bench/run says why), both at once (their counts
# do not depend on the host's load); the others in one ordinary guest,
# alone, then the peers with swap on in a --profile host guest (512 MiB
# of swap). Each writes its sections; the last assembles bench/results.md.
bench: deps-bench
	$(MAKE) all selftests bench-tools
	rm -rf build/bench/report build/bench/faults-* build/bench/ratios-* \
		build/bench/dropped-* build/bench/guest-* build/bench/stages-*
	start=$$(date +%s) && \
	{ scripts/vm-run --icount 0 --timeout 3000 -- bench/run faults stages & \
	  erms=$$!; \
	  scripts/vm-run --icount 0 --cpu max,-erms --timeout 1800 -- \
		bench/run faults; noerms=$$?; \
	  wait $$erms && [ $$noerms -eq 0 ]; } && \
	scripts/vm-run --append "psi=1 rcupdate.rcu_cpu_stall_timeout=300" \
		--timeout 3000 -- bench/run memory latency stages peers && \
	scripts/vm-run --profile host \
		--append "psi=1 rcupdate.rcu_cpu_stall_timeout=300" \
		--timeout 3000 -- bench/run swap && \
	echo "make bench: bench/results.md written in $$(( ($$(date +%s) - start) / 60 )) minutes"

deps-bench:
	scripts/deps --bench

lint: all ksrc
	scripts/lint

PREFIX ?= /usr/local
export DESTDIR PREFIX KVER

install: all
	scripts/install

uninstall:
	scripts/install --uninstall

dkms-install:
	scripts/dkms

dkms-uninstall:
	scripts/dkms --uninstall

# What DKMS runs to clean its copy of the tree.
clean-module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

clean:
	if [ -d $(KDIR) ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	$(MAKE) -C userspace clean
	$(MAKE) -C bench clean
	if [ -d $(KSRC) ]; then $(MAKE) -C selftests KSRC=$(KSRC) clean; fi

.PHONY: all module memctl ksrc selftests deps deps-bench deps-debug check \
	check-debug demo bench bench-tools lint install uninstall dkms-install \
	dkms-uninstall clean-module clean
