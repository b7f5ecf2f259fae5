/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_H
#define _MEMWATCH_H

#define MEMWATCH_VERSION "0.1.0"

#endif /* _MEMWATCH_H */
