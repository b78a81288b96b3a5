/* berth-helper: the bpf() call, and finding berth's programs and maps again by their names
 * (bpf.c's ops use them; nothing is pinned). */
#include "bpf.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

long
sys_bpf (int cmd, union bpf_attr *a)
{
  return syscall (__NR_bpf, cmd, a, sizeof *a);
}

uint64_t
bpf_ptr (const void *p)
{
  return (uint64_t) (uintptr_t) p;
}

/* The cgroup directory, opened; the first one is also locked. */
int
bpf_open_cgroup (const char *dir)
{
  static int locked = -1;
  int fd;
  if (!dir)
    {
      errno = EINVAL;
      return -1;
    }
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  if (locked < 0)
    {
      locked = dup (fd);
      if (locked < 0 || flock (locked, LOCK_EX) < 0)
        {
          close (fd);
          return -1;
        }
    }
  return fd;
}

/* Whether the object `fd` (a program or a map) is named `name`; `info` (of `len` bytes, whose
   name sits at `name_at`) is filled in. */
static int
named (int fd, void *info, uint32_t len, const char *name_at, const char *name)
{
  union bpf_attr q;
  memset (&q, 0, sizeof q);
  q.info.bpf_fd = fd;
  q.info.info_len = len;
  q.info.info = bpf_ptr (info);
  return sys_bpf (BPF_OBJ_GET_INFO_BY_FD, &q) == 0 && strncmp (name_at, name, BPF_OBJ_NAME_LEN) == 0;
}

/* The object among `ids` named `name`: an fd, else -1. */
static int
find_named (int get_cmd, const uint32_t *ids, uint32_t n, const char *name)
{
  uint32_t i;
  for (i = 0; i < n; i++)
    {
      union bpf_attr g;
      struct bpf_prog_info pi;
      struct bpf_map_info mi;
      int fd, hit;
      memset (&g, 0, sizeof g);
      if (get_cmd == BPF_PROG_GET_FD_BY_ID)
        g.prog_id = ids[i];
      else
        g.map_id = ids[i];
      fd = (int) sys_bpf (get_cmd, &g);
      if (fd < 0)
        continue;
      memset (&pi, 0, sizeof pi);
      memset (&mi, 0, sizeof mi);
      hit = get_cmd == BPF_PROG_GET_FD_BY_ID ? named (fd, &pi, sizeof pi, pi.name, name) : named (fd, &mi, sizeof mi, mi.name, name);
      if (hit)
        return fd;
      close (fd);
    }
  errno = ENOENT;
  return -1;
}

/* The program named `name` attached directly at the cgroup for `type`: an fd, else -1. */
int
bpf_find_prog (int cg, uint32_t type, const char *name)
{
  uint32_t ids[64];
  union bpf_attr a;
  memset (&a, 0, sizeof a);
  a.query.target_fd = cg;
  a.query.attach_type = type;
  a.query.prog_ids = bpf_ptr (ids);
  a.query.prog_cnt = 64;
  if (sys_bpf (BPF_PROG_QUERY, &a) < 0)
    return -1;
  return find_named (BPF_PROG_GET_FD_BY_ID, ids, a.query.prog_cnt < 64 ? a.query.prog_cnt : 64, name);
}

/* The map named `name` among those program `prog` uses: an fd, else -1. */
int
bpf_find_map (int prog, const char *name)
{
  uint32_t ids[16];
  struct bpf_prog_info info;
  union bpf_attr q;
  memset (&info, 0, sizeof info);
  info.nr_map_ids = 16;
  info.map_ids = bpf_ptr (ids);
  memset (&q, 0, sizeof q);
  q.info.bpf_fd = prog;
  q.info.info_len = sizeof info;
  q.info.info = bpf_ptr (&info);
  if (sys_bpf (BPF_OBJ_GET_INFO_BY_FD, &q) < 0)
    return -1;
  return find_named (BPF_MAP_GET_FD_BY_ID, ids, info.nr_map_ids < 16 ? info.nr_map_ids : 16, name);
}
