/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_PFN_H
#define _MEMWATCH_PFN_H

#include <linux/compiler.h>
#include <linux/types.h>

/*
 * A page's owner entry: 0 when memwatch did not see it charged, else the
 * owner's slot id (proc.h) and whether it landed off the node of the CPU
 * that charged it.
 */
#define MEMWATCH_PFN_REMOTE	0x8000
#define MEMWATCH_PFN_SLOT	0x7fff

/* The owner entries of page frames start to start + pages - 1. */
struct memwatch_pfn_table {
	unsigned long start;
	unsigned long pages;	/* 0 without a table */
	u16 *owner;
};

/* Set at load before the hooks, freed after them. */
extern struct memwatch_pfn_table memwatch_pfn;

int memwatch_pfn_init(void);
void memwatch_pfn_exit(void);
void memwatch_pfn_outside(void);

/*
 * The entry of the page at pfn in *entry, or false outside the table.
 * Inline: the fault path looks an entry up at every allocation and free.
 */
static __always_inline bool memwatch_pfn_entry(unsigned long pfn,
					       u16 **entry)
{
	unsigned long i = pfn - memwatch_pfn.start;

	if (unlikely(i >= memwatch_pfn.pages)) {
		memwatch_pfn_outside();
		return false;
	}
	*entry = &memwatch_pfn.owner[i];
	return true;
}

unsigned long memwatch_pfn_fold(const unsigned long *map, u16 to);
unsigned long memwatch_pfn_capacity(void);
size_t memwatch_pfn_bytes(void);
u64 memwatch_pfn_untracked(void);

#endif /* _MEMWATCH_PFN_H */
