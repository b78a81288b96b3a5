/* berth-helper: rooted file access, shared by rooted.c (the session: answers, handles, paths
   resolved inside the root, the request loop), rooted-read.c and rooted-write.c (the requests). */
#ifndef BERTH_ROOTED_H
#define BERTH_ROOTED_H
#include "helper.h"
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define MAX_REQUEST (16u << 20)
#define MAX_HANDLES 64
#define MAX_READ (1u << 20)

extern int root_fd;
extern int handles[MAX_HANDLES];
extern unsigned char *ans;
extern size_t ans_len, ans_cap;

int ans_put (const void *p, size_t n);
int ans_u64 (uint64_t v);
int send_answer (uint32_t err);
int rooted_open (const char *path, int flags, int follow);
int open_parent (const char *parent, const char *name);
int put_stat (const struct stat *st);
const char *fd_path (int fd);
int new_handle (int fd);
int handle_fd (uint64_t h);
void close_keep (int fd);

/* rooted-read.c */
int rq_stat (struct cur *c);
int rq_readlink (struct cur *c);
int rq_readdir (struct cur *c);
int rq_open (struct cur *c);
int rq_read (struct cur *c);
int rq_close (struct cur *c);

/* rooted-write.c */
int rq_create (struct cur *c);
int rq_write (struct cur *c);
int rq_entry (uint32_t code, struct cur *c);
int rq_inode (uint32_t code, struct cur *c);
int rq_fmeta (uint32_t code, struct cur *c);

#endif
