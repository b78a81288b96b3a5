/* berth-helper: reading the plan, reporting results, and the main loop. */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>

int plan_fd = -1;
int result_fd = -1;
int host_pid = 0;

uint64_t
get_u64 (struct cur *c)
{
  uint64_t v = 0;
  if (c->end - c->p < 8)
    {
      c->bad = 1;
      return 0;
    }
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | c->p[i];
  c->p += 8;
  return v;
}

const char *
get_str (struct cur *c)
{
  const unsigned char *nul = memchr (c->p, 0, c->end - c->p);
  const char *s = (const char *) c->p;
  if (nul == NULL)
    {
      c->bad = 1;
      return NULL;
    }
  c->p = nul + 1;
  return *s ? s : NULL;
}

const unsigned char *
get_bytes (struct cur *c, size_t n)
{
  const unsigned char *p = c->p;
  if ((size_t) (c->end - c->p) < n)
    {
      c->bad = 1;
      return NULL;
    }
  c->p += n;
  return p;
}

static void
write_all (int fd, const char *buf, size_t n)
{
  while (n > 0)
    {
      ssize_t w = write (fd, buf, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return;
      buf += w;
      n -= w;
    }
}

void
report (const char *fmt, ...)
{
  char buf[4096];
  va_list ap;
  int n;
  if (result_fd < 0)
    return;
  va_start (ap, fmt);
  n = vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  if (n < 0)
    return;
  if ((size_t) n >= sizeof buf)
    n = sizeof buf - 1;
  write_all (result_fd, buf, n);
}

void
fail (int idx, int err, const char *detail)
{
  char clean[1024];
  size_t i;
  const char *d = detail ? detail : "";
  for (i = 0; d[i] && i < sizeof clean - 1; i++)
    clean[i] = (d[i] == '\n') ? ' ' : d[i];
  clean[i] = 0;
  report ("error %d %d %s\n", idx, err, clean);
  if (result_fd < 0 || getenv ("BERTH_HELPER_STDERR"))
    fprintf (stderr, "berth-helper: op %d: %s: %s\n", idx, clean, strerror (err));
  _exit (1);
}

static int
read_full (int fd, void *buf, size_t n)
{
  unsigned char *p = buf;
  while (n > 0)
    {
      ssize_t r = read (fd, p, n);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return -1;
      p += r;
      n -= r;
    }
  return 0;
}

static struct op *
read_plan (int *nops)
{
  unsigned char hdr[4];
  uint32_t total;
  unsigned char *buf;
  struct op *ops;
  size_t cap = 64, n = 0, off = 0;

  if (read_full (plan_fd, hdr, 4) < 0)
    fail (-1, errno ? errno : EPIPE, "read plan length");
  total = hdr[0] | hdr[1] << 8 | hdr[2] << 16 | (uint32_t) hdr[3] << 24;
  if (total > (64u << 20))
    fail (-1, EINVAL, "plan too large");
  buf = malloc (total ? total : 1);
  ops = malloc (cap * sizeof *ops);
  if (buf == NULL || ops == NULL)
    fail (-1, ENOMEM, "allocate plan");
  if (read_full (plan_fd, buf, total) < 0)
    fail (-1, errno ? errno : EPIPE, "read plan");
  while (off + 8 <= total)
    {
      uint32_t code = buf[off] | buf[off + 1] << 8 | buf[off + 2] << 16 | (uint32_t) buf[off + 3] << 24;
      uint32_t len = buf[off + 4] | buf[off + 5] << 8 | buf[off + 6] << 16 | (uint32_t) buf[off + 7] << 24;
      off += 8;
      if (len > total - off)
        fail ((int) n, EINVAL, "record runs past the end of the plan");
      if (code > OP_MAX)
        fail ((int) n, EINVAL, "unknown op code");
      if (n == cap)
        {
          cap *= 2;
          ops = realloc (ops, cap * sizeof *ops);
          if (ops == NULL)
            fail (-1, ENOMEM, "allocate plan");
        }
      ops[n].code = code;
      ops[n].len = len;
      ops[n].data = buf + off;
      off += len;
      n++;
      if (code == OP_END)
        break;
    }
  if (n == 0 || ops[n - 1].code != OP_END)
    fail ((int) n, EINVAL, "plan has no end record");
  *nops = (int) n - 1;
  return ops;
}

static int
write_file (const char *path, const char *content)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  size_t n = content ? strlen (content) : 0;
  ssize_t w;
  if (fd < 0)
    return -1;
  w = write (fd, content ? content : "", n);
  if (w < 0 || (size_t) w != n)
    {
      int e = w < 0 ? errno : EIO;
      close (fd);
      errno = e;
      return -1;
    }
  return close (fd);
}

static int
op_sync (struct cur *c)
{
  const char *tag = get_str (c);
  char b = 0;
  ssize_t r;
  report ("sync %s\n", tag ? tag : "");
  do
    r = read (plan_fd, &b, 1);
  while (r < 0 && errno == EINTR);
  if (r != 1 || b != 'c')
    _exit (1); /* the runtime aborted the creation */
  return 0;
}

static int
run_child_op (int idx, const struct op *op)
{
  struct cur c = { op->data, op->data + op->len, 0 };
  const char *detail = NULL;
  const char *s;
  int r = 0;

  switch (op->code)
    {
    case OP_MOUNT: r = op_mount (&c, &detail); break;
    case OP_MKDIR: r = op_mkdir (&c, &detail); break;
    case OP_MKNOD: r = op_mknod (&c, &detail); break;
    case OP_TOUCH: r = op_touch (&c, &detail); break;
    case OP_SYMLINK: r = op_symlink (&c, &detail); break;
    case OP_CHDIR:
      detail = s = get_str (&c);
      r = chdir (s ? s : "/");
      break;
    case OP_PIVOT_ROOT: r = op_pivot_root (&c, &detail); break;
    case OP_MOVE_ROOT: r = op_move_root (&c, &detail); break;
    case OP_CHROOT:
      detail = s = get_str (&c);
      r = (s == NULL || chroot (s) < 0 || chdir ("/") < 0) ? -1 : 0;
      break;
    case OP_MASK: r = op_mask (&c, &detail); break;
    case OP_READONLY: r = op_readonly (&c, &detail); break;
    case OP_WRITE_FILE:
      detail = s = get_str (&c);
      r = write_file (s, get_str (&c));
      break;
    case OP_SETHOSTNAME:
      s = get_str (&c);
      r = sethostname (s ? s : "", s ? strlen (s) : 0);
      break;
    case OP_SETDOMAINNAME:
      s = get_str (&c);
      r = setdomainname (s ? s : "", s ? strlen (s) : 0);
      break;
    case OP_RLIMIT: r = op_rlimit (&c, &detail); break;
    case OP_UMASK: umask ((mode_t) get_u64 (&c)); break;
    case OP_SETSID: r = setsid () < 0 ? -1 : 0; break;
    case OP_CONSOLE_CONNECT: r = op_console_connect (&c, &detail); break;
    case OP_CONSOLE_SETUP: r = op_console_setup (&c, &detail); break;
    case OP_IDENTITY: r = op_identity (&c, &detail); break;
    case OP_CAPS: r = op_caps (&c, &detail); break;
    case OP_NO_NEW_PRIVS: r = prctl_no_new_privs (); break;
    case OP_SECCOMP: r = op_seccomp (&c, &detail); break;
    case OP_RESOLVE_EXEC: r = op_resolve_exec (&c, &detail); break;
    case OP_READY: report ("ready\n"); break;
    case OP_OPEN_FIFO: r = op_open_fifo (&c, &detail); break;
    case OP_WAIT_FIFO: r = op_wait_fifo (&c, &detail); break;
    case OP_EXEC: r = op_exec (&c, &detail); break;
    case OP_SYNC: r = op_sync (&c); break;
    case OP_RUN_HOOK: r = op_run_hook (&c, &detail); break;
    case OP_PRESERVE_FDS: r = op_preserve_fds (&c, &detail); break;
    case OP_PERSONALITY: r = personality ((unsigned long) get_u64 (&c)) < 0 ? -1 : 0; break;
    case OP_UNSHARE: r = unshare ((int) get_u64 (&c)); break;
    case OP_LO_UP: r = op_lo_up (&c, &detail); break;
    case OP_SETXATTR: r = op_setxattr (&c, &detail); break;
    case OP_UMOUNT:
      {
        int flags = (int) get_u64 (&c);
        detail = s = get_str (&c);
        r = s ? umount2 (s, flags) : -1;
      }
      break;
    case OP_LCHOWN:
      {
        uid_t uid = (uid_t) get_u64 (&c);
        gid_t gid = (gid_t) get_u64 (&c);
        detail = s = get_str (&c);
        r = s ? lchown (s, uid, gid) : -1;
      }
      break;
    case OP_UTIMES: r = op_utimes (&c, &detail); break;
    default:
      errno = EINVAL;
      detail = "op not allowed after clone";
      r = -1;
    }
  if (c.bad)
    fail (idx, EINVAL, "malformed record");
  if (r < 0)
    fail (idx, errno, detail);
  return 0;
}

int
main (int argc, char **argv)
{
  struct op *ops;
  int nops, i;

  if (argc >= 2 && strcmp (argv[1], "--berth-init") == 0)
    return init_main (argc - 2, argv + 2);
  if (argc < 3)
    {
      fprintf (stderr, "usage: berth-helper PLAN_FD RESULT_FD\n"
                       "Runs a container plan computed by berth. Not meant to be run by hand.\n");
      return 2;
    }
  plan_fd = atoi (argv[1]);
  result_fd = atoi (argv[2]);
  fcntl (plan_fd, F_SETFD, FD_CLOEXEC);
  fcntl (result_fd, F_SETFD, FD_CLOEXEC);
  signal (SIGPIPE, SIG_IGN);

  ops = read_plan (&nops);
  if (nops > 0 && ops[0].code == OP_FS_MODE)
    {
      /* File system work for the image store (whiteouts, device nodes, xattrs, mounts): here,
         in the caller's namespaces, one op after the other. */
      for (i = 1; i < nops; i++)
        if (ops[i].code == OP_ROOTED)
          rooted_serve (&(struct cur){ ops[i].data, ops[i].data + ops[i].len, 0 });
        else if (ops[i].code >= OP_BPF_MAP && ops[i].code <= OP_BPF_DETACH)
          {
            struct cur c = { ops[i].data, ops[i].data + ops[i].len, 0 };
            const char *detail = NULL;
            int r = run_bpf_op (ops[i].code, &c, &detail);
            if (c.bad)
              fail (i, EINVAL, "malformed record");
            if (r < 0)
              fail (i, errno, detail);
          }
        else
          run_child_op (i, &ops[i]);
      report ("done\n");
      return 0;
    }
  for (i = 0; i < nops && ops[i].code != OP_CLONE; i++)
    {
      struct cur c = { ops[i].data, ops[i].data + ops[i].len, 0 };
      const char *detail = "setns";
      int r;
      if (ops[i].code == OP_SETNS)
        r = op_setns (&c);
      else if (ops[i].code == OP_CGROUP_TASKS)
        {
          detail = "open the cgroup's tasks file";
          r = op_cgroup_tasks (i, &c);
        }
      else if (ops[i].code == OP_CGROUP_INTO)
        {
          detail = "open the cgroup2 directory";
          r = op_cgroup_into (i, &c);
        }
      else if (ops[i].code == OP_CONSOLE_CONNECT)
        r = op_console_connect (&c, &detail);
      else if (ops[i].code == OP_OPEN_FIFO)
        r = op_open_fifo (&c, &detail);
      else if (ops[i].code == OP_LOG)
        r = op_log (&c, &detail);
      else if (ops[i].code == OP_EXIT_COMMAND)
        r = op_exit_command (&c, &detail);
      else if (ops[i].code == OP_HEALTH)
        r = op_health (&c, &detail);
      else if (ops[i].code == OP_PTY)
        r = op_pty (&c, &detail);
      else if (ops[i].code == OP_ATTACH)
        r = op_attach (&c, &detail);
      else
        fail (i, EINVAL, "op not allowed before clone");
      if (r < 0)
        fail (i, errno, detail);
      if (c.bad)
        fail (i, EINVAL, "malformed record");
    }
  if (i == nops)
    fail (i, EINVAL, "plan has no clone record");
  {
    struct cur c = { ops[i].data, ops[i].data + ops[i].len, 0 };
    op_clone (i, &c); /* returns in the child only */
  }
  for (i++; i < nops; i++)
    run_child_op (i, &ops[i]);
  fail (nops, EINVAL, "plan ended without exec");
}
