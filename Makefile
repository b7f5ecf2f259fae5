# SPDX-License-Identifier: GPL-2.0
#
# make            build module/memwatch.ko and userspace/memctl
# make check      install what is missing, build, run every test in a guest
# make demo       install what is missing, build, show memwatch in a guest
# make lint       checkpatch on the module, cppcheck on userspace and tests
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

demo: deps
	$(MAKE) all
	scripts/vm-run -- scripts/demo

lint: ksrc
	scripts/lint

clean:
	if [ -d $(KDIR) ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	$(MAKE) -C userspace clean
	if [ -d $(KSRC) ]; then $(MAKE) -C selftests KSRC=$(KSRC) clean; fi

.PHONY: all module memctl ksrc selftests deps check demo lint clean
