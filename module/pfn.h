/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_PFN_H
#define _MEMWATCH_PFN_H

#include <linux/types.h>

/*
 * A page's owner entry: 0 when memwatch did not see it charged, else the
 * owner's slot id (proc.h) and whether it landed off the node of the CPU
 * that charged it.
 */
#define MEMWATCH_PFN_REMOTE	0x8000
#define MEMWATCH_PFN_SLOT	0x7fff

int memwatch_pfn_init(void);
void memwatch_pfn_exit(void);
/* The entry of the page at pfn on node nid, or NULL outside the table. */
u16 *memwatch_pfn_entry(int nid, unsigned long pfn);
unsigned long memwatch_pfn_capacity(void);
size_t memwatch_pfn_bytes(void);
u64 memwatch_pfn_untracked(void);

#endif /* _MEMWATCH_PFN_H */
