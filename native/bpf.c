/* berth-helper: eBPF maps and cgroup programs (fs mode only). berth's TypeScript assembles the
   programs and chooses every key and value; this file only makes the bpf() calls Node cannot.
   A program is found again by its name among those attached to a cgroup, and its maps by
   theirs (bpf-find.c), so nothing needs pinning. The first op takes an exclusive flock on the cgroup
   directory, held until the helper exits: other berth processes wait, find-or-create is atomic. */
#include "bpf.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SLOTS 4
static int slot_fd[MAX_SLOTS];
static int nslots;
static char log_buf[8192];

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
  cg = bpf_open_cgroup (dir);
  if (cg < 0)
    return -1;
  p = bpf_find_prog (cg, attach, prog);
  if (p >= 0)
    {
      fd = bpf_find_map (p, name);
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
  cg = bpf_open_cgroup (dir);
  if (cg < 0)
    return -1;
  p = bpf_find_prog (cg, attach, name);
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
  a.insns = bpf_ptr (insns);
  a.insn_cnt = (uint32_t) n;
  a.license = bpf_ptr (license);
  strncpy (a.prog_name, name, BPF_OBJ_NAME_LEN - 1);
  p = (int) sys_bpf (BPF_PROG_LOAD, &a);
  if (p < 0 && errno == EACCES)
    {
      /* The verifier refused it: load again for its reasons. */
      int err;
      a.log_buf = bpf_ptr (log_buf);
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
  a.key = bpf_ptr (key);
  if (mode == 2)
    {
      a.value = bpf_ptr (cur);
      if (sys_bpf (BPF_MAP_LOOKUP_ELEM, &a) < 0)
        return errno == ENOENT ? 0 : -1;
      if (memcmp (cur, value, vlen) != 0)
        return 0;
      a.value = 0;
      if (sys_bpf (BPF_MAP_DELETE_ELEM, &a) < 0 && errno != ENOENT)
        return -1;
      return 0;
    }
  a.value = bpf_ptr (value);
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
  a.next_key = bpf_ptr (next);
  if (sys_bpf (BPF_MAP_GET_NEXT_KEY, &a) == 0)
    return 0; /* not empty */
  if (errno != ENOENT)
    return -1;
  cg = bpf_open_cgroup (dir);
  if (cg < 0)
    return -1;
  p = bpf_find_prog (cg, attach, name);
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
