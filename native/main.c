/* berth-helper: the main loop. The ops before OP_CLONE run in the helper (parent stage), the
 * rest in the cloned child, one after the other; fs mode runs them all here, without a clone. */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/stat.h>

/* Writes content (NULL: nothing) to the existing file at path in one write(2), as /proc and
   cgroup files want it. */
int
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
