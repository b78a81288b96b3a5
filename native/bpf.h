/* berth-helper: the parts of the eBPF ops (bpf.c: the ops, bpf-find.c: the syscall and lookups). */
#ifndef BERTH_BPF_H
#define BERTH_BPF_H
#include "helper.h"
#include <linux/bpf.h>

long sys_bpf (int cmd, union bpf_attr *a);
uint64_t bpf_ptr (const void *p);
/* The cgroup directory, opened; the first one is also locked (flock, until the helper exits). */
int bpf_open_cgroup (const char *dir);
/* The program named `name` attached directly at the cgroup for `type`: an fd, else -1. */
int bpf_find_prog (int cg, uint32_t type, const char *name);
/* The map named `name` among those program `prog` uses: an fd, else -1. */
int bpf_find_map (int prog, const char *name);

#endif
