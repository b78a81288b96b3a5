/* berth-helper: joining namespaces, cloning into new ones, and the parent's side of the
 * handshake (uid/gid maps, cgroup membership); in "stay" mode it then supervises (supervise.c). */
#include "helper.h"
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void save_own_ns (int type);

int
op_setns (struct cur *c)
{
  int nstype = (int) get_u64 (c);
  const char *path = get_str (c);
  int fd, r;
  if (path == NULL || c->bad)
    {
      errno = EINVAL;
      return -1;
    }
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  save_own_ns (nstype);
  r = setns (fd, nstype);
  close (fd);
  return r;
}

/* The helper's own namespaces it left to join a container's (not user or mount): a monitor's
   exit command and health check go back to them, the host's, before they run. */
static struct
{
  int type;
  int fd;
} own_ns[8];
static int n_own_ns;

static void
save_own_ns (int type)
{
  static const struct
  {
    int type;
    const char *file;
  } files[] = { { CLONE_NEWNET, "/proc/self/ns/net" }, { CLONE_NEWIPC, "/proc/self/ns/ipc" }, { CLONE_NEWUTS, "/proc/self/ns/uts" },
                { CLONE_NEWPID, "/proc/self/ns/pid_for_children" }, { CLONE_NEWCGROUP, "/proc/self/ns/cgroup" } };
  for (int i = 0; i < n_own_ns; i++)
    if (own_ns[i].type == type)
      return;
  for (size_t i = 0; i < sizeof files / sizeof files[0] && n_own_ns < 8; i++)
    if (files[i].type == type)
      {
        int fd = open (files[i].file, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
          own_ns[n_own_ns++] = (typeof (own_ns[0])){ type, fd };
      }
}

void
restore_own_ns (void)
{
  for (int i = 0; i < n_own_ns; i++)
    (void) setns (own_ns[i].fd, own_ns[i].type);
}

/* The cgroups the new process joins. A v1 hierarchy's `tasks` file: the child writes "0" there
   itself, first thing (a single-threaded process moving itself skips the kernel's global
   threadgroup lock, whose first taking waits for an RCU grace period, 4-16 ms here). The cgroup2
   directory: clone3 starts the child in it (CLONE_INTO_CGROUP, no lock either), or, where that is
   not to be used, the parent writes the child's pid to its cgroup.procs. */
static struct
{
  int fd;
  int idx;
} task_fds[64];
static int n_task_fds;
static int into_fd = -1, into_idx, into_clone3;

int
op_cgroup_tasks (int idx, struct cur *c)
{
  const char *path = get_str (c);
  int fd;
  if (path == NULL || c->bad)
    {
      errno = EINVAL;
      return -1;
    }
  if (n_task_fds == 64)
    {
      errno = E2BIG;
      return -1;
    }
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  task_fds[n_task_fds].fd = fd;
  task_fds[n_task_fds].idx = idx;
  n_task_fds++;
  return 0;
}

int
op_cgroup_into (int idx, struct cur *c)
{
  uint64_t use_clone3 = get_u64 (c);
  const char *dir = get_str (c);
  if (dir == NULL || c->bad || into_fd >= 0)
    {
      errno = EINVAL;
      return -1;
    }
  into_fd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (into_fd < 0)
    return -1;
  into_idx = idx;
  into_clone3 = use_clone3 != 0;
  return 0;
}

/* The child's part: join the v1 hierarchies (before anything else it does). */
static void
join_tasks (void)
{
  for (int i = 0; i < n_task_fds; i++)
    {
      if (write (task_fds[i].fd, "0", 1) < 0)
        fail (task_fds[i].idx, errno, "join cgroup");
      close (task_fds[i].fd);
    }
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* clone3's arguments up to `cgroup` (CLONE_ARGS_SIZE_VER2). */
struct clone_args_v2
{
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

/* Clones into the cgroup2 directory when asked to; -1 with ENOSYS where clone3 is missing. */
static pid_t
clone_process (uint64_t flags)
{
#ifdef SYS_clone3
  if (into_fd >= 0 && into_clone3)
    {
      struct clone_args_v2 a;
      pid_t pid;
      memset (&a, 0, sizeof a);
      a.flags = flags | CLONE_INTO_CGROUP;
      a.exit_signal = SIGCHLD;
      a.cgroup = (uint64_t) into_fd;
      pid = (pid_t) syscall (SYS_clone3, &a, sizeof a);
      if (pid >= 0 || errno != ENOSYS)
        return pid;
      into_clone3 = 0; /* clone3 refused here (a seccomp filter, an old kernel): join below */
    }
#endif
  return (pid_t) syscall (SYS_clone, (unsigned long) (flags | SIGCHLD), 0, 0, 0, 0);
}

/* The parent's part of the handshake failed: the child goes, and the error is reported. */
static void __attribute__ ((noreturn))
abandon_child (pid_t pid, int idx, const char *what)
{
  int e = errno;
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
  fail (idx, e, what);
}

int
op_clone (int idx, struct cur *c)
{
  uint64_t flags = get_u64 (c);
  uint64_t detach = get_u64 (c);
  const char *uid_map = get_str (c);
  const char *gid_map = get_str (c);
  char path[64], buf[32];
  int sync_pipe[2];
  uint64_t cgroupns = flags & CLONE_NEWCGROUP;
  pid_t pid;

  if (c->bad)
    fail (idx, EINVAL, "malformed record");
  /* Only namespace flags: the low byte would pick the child's exit signal (which the supervisor's
     waitpid would then not see), and CLONE_VM and its like would share this process's stack. */
  if (flags & ~(uint64_t) (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP))
    fail (idx, EINVAL, "clone flags other than namespace flags");
  if (pipe2 (sync_pipe, O_CLOEXEC) < 0)
    fail (idx, errno, "pipe");

  /* The cgroup namespace is made after the child joined its cgroups, so that its root is the
     container's cgroup. */
  flags &= ~(uint64_t) CLONE_NEWCGROUP;
  pid = clone_process (flags);
  if (pid < 0)
    fail (into_fd >= 0 && into_clone3 ? into_idx : idx, errno, "clone");

  if (pid == 0)
    {
      ssize_t r;
      char pidbuf[32];
      close (sync_pipe[1]);
      do
        r = read (sync_pipe[0], pidbuf, sizeof pidbuf - 1);
      while (r < 0 && errno == EINTR);
      if (r <= 0)
        _exit (1); /* the parent failed and said so */
      pidbuf[r] = 0;
      host_pid = atoi (pidbuf);
      close (sync_pipe[0]);
      join_tasks ();
      if (flags & CLONE_NEWUSER)
        {
          /* Become root of the new user namespace where 0 is mapped; ignore where it is not. */
          if (setresgid (0, 0, 0) == 0)
            (void) setresuid (0, 0, 0);
        }
      if (cgroupns && unshare (CLONE_NEWCGROUP) < 0)
        fail (idx, errno, "unshare cgroup namespace");
      if (monitor_child_stdio () < 0)
        fail (idx, errno, "stdout and stderr to the monitor");
      if (tty_child () < 0)
        fail (idx, errno, "the container's terminal");
      return 0;
    }

  close (sync_pipe[0]);
  snprintf (path, sizeof path, "/proc/%d/uid_map", pid);
  if (uid_map && write_file (path, uid_map) < 0)
    abandon_child (pid, idx, "write uid_map");
  snprintf (path, sizeof path, "/proc/%d/gid_map", pid);
  if (gid_map && write_file (path, gid_map) < 0)
    abandon_child (pid, idx, "write gid_map");
  snprintf (buf, sizeof buf, "%d", pid);
  if (into_fd >= 0 && !into_clone3)
    {
      int fd = openat (into_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write (fd, buf, strlen (buf)) < 0)
        abandon_child (pid, into_idx, "join cgroup");
      close (fd);
    }
  if (into_fd >= 0)
    close (into_fd);
  for (int i = 0; i < n_task_fds; i++)
    close (task_fds[i].fd);
  report ("pid %d\n", pid);
  if (write (sync_pipe[1], buf, strlen (buf)) != (ssize_t) strlen (buf))
    fail (idx, errno, "sync with child");
  close (sync_pipe[1]);
  if (!tty_enabled () || detach || monitor_enabled ())
    close (plan_fd); /* (the foreground terminal's new sizes come on it: tty.c) */
  if (detach)
    _exit (0);
  if (monitor_enabled ())
    monitor (pid);
  if (tty_enabled ())
    tty_supervise (pid);
  supervise (pid);
}

/* Loopback up in a new network namespace, as Docker gives even with --network none. */
int
op_lo_up (struct cur *c, const char **detail)
{
  struct ifreq ifr;
  int s, r;
  (void) c;
  *detail = "bring lo up";
  s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return -1;
  memset (&ifr, 0, sizeof ifr);
  strcpy (ifr.ifr_name, "lo");
  r = ioctl (s, SIOCGIFFLAGS, &ifr);
  if (r == 0 && !(ifr.ifr_flags & IFF_UP))
    {
      ifr.ifr_flags |= IFF_UP;
      r = ioctl (s, SIOCSIFFLAGS, &ifr);
    }
  close (s);
  return r;
}
