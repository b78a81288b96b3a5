/* berth-helper: eBPF maps and cgroup programs (fs mode only). berth's TypeScript assembles the
   programs and chooses every key and value; this file only makes the bpf() calls Node cannot.
   A program is found again by its name among those attached to a cgroup, and its maps by
   theirs, so nothing needs pinning. The first op takes an exclusive flock on the cgroup
   directory, held until the helper exits: other berth processes wait, find-or-create is atomic. */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_SLOTS 4
static int slot_fd[MAX_SLOTS];
static int nslots;
static char log_buf[8192];

static long
sys_bpf (int cmd, union bpf_attr *a)
{
  return syscall (__NR_bpf, cmd, a, sizeof *a);
}

static uint64_t
ptr (const void *p)
{
  return (uint64_t) (uintptr_t) p;
}

/* The cgroup directory, opened; the first one is also locked. */
static int
open_cgroup (const char *dir)
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
  q.info.info = ptr (info);
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
static int
find_prog (int cg, uint32_t type, const char *name)
{
  uint32_t ids[64];
  union bpf_attr a;
  memset (&a, 0, sizeof a);
  a.query.target_fd = cg;
  a.query.attach_type = type;
  a.query.prog_ids = ptr (ids);
  a.query.prog_cnt = 64;
  if (sys_bpf (BPF_PROG_QUERY, &a) < 0)
    return -1;
  return find_named (BPF_PROG_GET_FD_BY_ID, ids, a.query.prog_cnt < 64 ? a.query.prog_cnt : 64, name);
}

/* The map named `name` among those program `prog` uses: an fd, else -1. */
static int
find_map (int prog, const char *name)
{
  uint32_t ids[16];
  struct bpf_prog_info info;
  union bpf_attr q;
  memset (&info, 0, sizeof info);
  info.nr_map_ids = 16;
  info.map_ids = ptr (ids);
  memset (&q, 0, sizeof q);
  q.info.bpf_fd = prog;
  q.info.info_len = sizeof info;
  q.info.info = ptr (&info);
  if (sys_bpf (BPF_OBJ_GET_INFO_BY_FD, &q) < 0)
    return -1;
  return find_named (BPF_MAP_GET_FD_BY_ID, ids, info.nr_map_ids < 16 ? info.nr_map_ids : 16, name);
}

/* OP_BPF_MAP: u64 type, u64 key_size, u64 value_size, u64 max_entries, u64 flags, str name,
   str cgroup dir, u64 attach_type, str prog name */
static int
op_bpf_map (struct cur *c, const char **detail)
{
  union bpf_attr a;
  uint32_t type = (uint32_t) get_u64 (c), ksize = (uint32_t) get_u64 (c);
  uint32_t vsize = (uint32_t) get_u64 (c), max = (uint32_t) get_u64 (c);
  uint32_t flags = (uint32_t) get_u64 (c);
  const char *name = get_str (c), *dir = get_str (c);
  uint32_t attach = (uint32_t) get_u64 (c);
  const char *prog = get_str (c);
  int cg, p, fd = -1;
  *detail = dir;
  if (!name || !prog || nslots == MAX_SLOTS)
    {
      errno = EINVAL;
      return -1;
    }
  cg = open_cgroup (dir);
  if (cg < 0)
    return -1;
  p = find_prog (cg, attach, prog);
  if (p >= 0)
    {
      fd = find_map (p, name);
      close (p);
    }
  close (cg);
  if (fd < 0)
    {
      *detail = "create the map";
      memset (&a, 0, sizeof a);
      a.map_type = type;
      a.key_size = ksize;
      a.value_size = vsize;
      a.max_entries = max;
      a.map_flags = flags;
      strncpy (a.map_name, name, BPF_OBJ_NAME_LEN - 1);
      fd = (int) sys_bpf (BPF_MAP_CREATE, &a);
      if (fd < 0)
        return -1;
    }
  slot_fd[nslots++] = fd;
  return 0;
}

/* OP_BPF_PROG: u64 prog_type, u64 attach_type, str cgroup dir, str name, str license,
   u64 len, bytes insns[len] */
static int
op_bpf_prog (struct cur *c, const char **detail)
{
  union bpf_attr a;
  uint32_t ptype = (uint32_t) get_u64 (c), attach = (uint32_t) get_u64 (c);
  const char *dir = get_str (c), *name = get_str (c), *license = get_str (c);
  uint64_t len = get_u64 (c);
  const unsigned char *raw = get_bytes (c, len);
  struct bpf_insn *insns;
  int cg, p, r;
  size_t i, n = len / sizeof (struct bpf_insn);
  *detail = dir;
  if (!name || !license || !raw || len % sizeof (struct bpf_insn) != 0 || n == 0)
    {
      errno = EINVAL;
      return -1;
    }
  cg = open_cgroup (dir);
  if (cg < 0)
    return -1;
  p = find_prog (cg, attach, name);
  if (p >= 0)
    {
      close (p);
      close (cg);
      return 0;
    }
  insns = malloc (len);
  if (!insns)
    return -1;
  memcpy (insns, raw, len);
  /* A map load holds the slot's index: the slot's fd goes in its place. */
  for (i = 0; i < n; i++)
    if (insns[i].code == (BPF_LD | BPF_DW | BPF_IMM) && insns[i].src_reg == BPF_PSEUDO_MAP_FD)
      {
        if (insns[i].imm < 0 || insns[i].imm >= nslots)
          {
            errno = EINVAL;
            *detail = "a map load names no map";
            return -1;
          }
        insns[i].imm = slot_fd[insns[i].imm];
      }
  memset (&a, 0, sizeof a);
  a.prog_type = ptype;
  a.expected_attach_type = attach;
  a.insns = ptr (insns);
  a.insn_cnt = (uint32_t) n;
  a.license = ptr (license);
  strncpy (a.prog_name, name, BPF_OBJ_NAME_LEN - 1);
  p = (int) sys_bpf (BPF_PROG_LOAD, &a);
  if (p < 0 && errno == EACCES)
    {
      /* The verifier refused it: load again for its reasons. */
      int err;
      a.log_buf = ptr (log_buf);
      a.log_size = sizeof log_buf;
      a.log_level = 1;
      p = (int) sys_bpf (BPF_PROG_LOAD, &a);
      err = errno;
      if (p < 0)
        {
          /* its last line that is not the closing statistics ("processed N insns ...") */
          char *line;
          for (;;)
            {
              char *end = log_buf + strlen (log_buf);
              while (end > log_buf && end[-1] == '\n')
                *--end = 0;
              line = strrchr (log_buf, '\n');
              line = line ? line + 1 : log_buf;
              if (line == log_buf || strncmp (line, "processed ", 10) != 0)
                break;
              *line = 0;
            }
          *detail = line;
          errno = err;
        }
    }
  free (insns);
  if (p < 0)
    {
      if (*detail == dir)
        *detail = "load the program";
      return -1;
    }
  memset (&a, 0, sizeof a);
  a.target_fd = cg;
  a.attach_bpf_fd = p;
  a.attach_type = attach;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  r = (int) sys_bpf (BPF_PROG_ATTACH, &a);
  if (r < 0)
    *detail = "attach the program";
  close (p);
  close (cg);
  return r < 0 ? -1 : 0;
}

/* OP_BPF_UPDATE: u64 slot, u64 mode, u64 klen, bytes key, u64 vlen, bytes value. Mode 0 sets
   the key, 1 adds it unless it is there, 2 deletes it when it holds the value (a missing key,
   or one that holds another value, is fine for 1 and 2). */
static int
op_bpf_update (struct cur *c, const char **detail)
{
  union bpf_attr a;
  unsigned char cur[256];
  uint64_t slot = get_u64 (c), mode = get_u64 (c), klen = get_u64 (c);
  const unsigned char *key = get_bytes (c, klen);
  uint64_t vlen = get_u64 (c);
  const unsigned char *value = get_bytes (c, vlen);
  *detail = "update the map";
  if (slot >= (uint64_t) nslots || !key || !value || vlen > sizeof cur || mode > 2)
    {
      errno = EINVAL;
      return -1;
    }
  memset (&a, 0, sizeof a);
  a.map_fd = slot_fd[slot];
  a.key = ptr (key);
  if (mode == 2)
    {
      a.value = ptr (cur);
      if (sys_bpf (BPF_MAP_LOOKUP_ELEM, &a) < 0)
        return errno == ENOENT ? 0 : -1;
      if (memcmp (cur, value, vlen) != 0)
        return 0;
      a.value = 0;
      if (sys_bpf (BPF_MAP_DELETE_ELEM, &a) < 0 && errno != ENOENT)
        return -1;
      return 0;
    }
  a.value = ptr (value);
  a.flags = mode == 1 ? BPF_NOEXIST : BPF_ANY;
  if (sys_bpf (BPF_MAP_UPDATE_ELEM, &a) < 0 && !(mode == 1 && errno == EEXIST))
    return -1;
  return 0;
}

/* OP_BPF_DETACH: u64 slot, u64 attach_type, str cgroup dir, str prog name: when the map in the
   slot is empty, the program of that name is detached from the cgroup (if it is there). */
static int
op_bpf_detach (struct cur *c, const char **detail)
{
  union bpf_attr a;
  unsigned char next[256];
  uint64_t slot = get_u64 (c);
  uint32_t attach = (uint32_t) get_u64 (c);
  const char *dir = get_str (c), *name = get_str (c);
  int cg, p, r;
  *detail = dir;
  if (slot >= (uint64_t) nslots || !name)
    {
      errno = EINVAL;
      return -1;
    }
  memset (&a, 0, sizeof a);
  a.map_fd = slot_fd[slot];
  a.key = 0;
  a.next_key = ptr (next);
  if (sys_bpf (BPF_MAP_GET_NEXT_KEY, &a) == 0)
    return 0; /* not empty */
  if (errno != ENOENT)
    return -1;
  cg = open_cgroup (dir);
  if (cg < 0)
    return -1;
  p = find_prog (cg, attach, name);
  if (p < 0)
    {
      close (cg);
      return 0;
    }
  memset (&a, 0, sizeof a);
  a.target_fd = cg;
  a.attach_bpf_fd = p;
  a.attach_type = attach;
  r = (int) sys_bpf (BPF_PROG_DETACH, &a);
  close (p);
  close (cg);
  return r < 0 ? -1 : 0;
}

int
run_bpf_op (uint32_t code, struct cur *c, const char **detail)
{
  switch (code)
    {
    case OP_BPF_MAP: return op_bpf_map (c, detail);
    case OP_BPF_PROG: return op_bpf_prog (c, detail);
    case OP_BPF_UPDATE: return op_bpf_update (c, detail);
    case OP_BPF_DETACH: return op_bpf_detach (c, detail);
    }
  errno = EINVAL;
  return -1;
}
