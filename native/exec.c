/* berth-helper: the last steps before the container's process runs: finding the executable,
 * waiting for `start`, hooks run inside the container, and execve (its terminal: console.c). */
#include "helper.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static int fifo_fd = -1;
static char exec_path[4096];

/* 0 when `path` is an executable regular file; else -1 with errno. */
static int
check_exec (const char *path)
{
  struct stat st;
  if (stat (path, &st) < 0)
    return -1;
  if (!S_ISREG (st.st_mode))
    {
      errno = EACCES;
      return -1;
    }
  return access (path, X_OK);
}

int
op_resolve_exec (struct cur *c, const char **detail)
{
  const char *pathenv = get_str (c);
  const char *name = get_str (c);
  int saw_eacces = 0;
  *detail = name;
  if (c->bad || name == NULL)
    {
      errno = ENOENT;
      return -1;
    }
  if (strchr (name, '/'))
    {
      if (strlen (name) >= sizeof exec_path)
        {
          errno = ENAMETOOLONG;
          return -1;
        }
      strcpy (exec_path, name);
      return check_exec (exec_path);
    }
  if (pathenv == NULL)
    pathenv = "";
  for (const char *p = pathenv;;)
    {
      const char *end = strchr (p, ':');
      size_t dl = end ? (size_t) (end - p) : strlen (p);
      if (dl == 0)
        dl = 1, p = "."; /* an empty entry means the current directory */
      if (dl + strlen (name) + 2 < sizeof exec_path)
        {
          memcpy (exec_path, p, dl);
          exec_path[dl] = '/';
          strcpy (exec_path + dl + 1, name);
          if (check_exec (exec_path) == 0)
            return 0;
          if (errno == EACCES)
            saw_eacces = 1;
        }
      if (end == NULL)
        break;
      p = end + 1;
    }
  exec_path[0] = 0;
  errno = saw_eacces ? EACCES : ENOENT;
  return -1;
}

int
op_open_fifo (struct cur *c, const char **detail)
{
  const char *path = get_str (c);
  *detail = path;
  if (c->bad || path == NULL)
    return 0;
  if (mkfifo (path, 0600) < 0 && errno != EEXIST)
    return -1;
  /* Open for reading and writing so that the open does not wait; `start` writes one byte. */
  fifo_fd = open (path, O_RDWR | O_CLOEXEC);
  return fifo_fd < 0 ? -1 : 0;
}

int
op_wait_fifo (struct cur *c, const char **detail)
{
  char b;
  ssize_t r;
  (void) c;
  *detail = "wait for start";
  if (fifo_fd < 0)
    {
      errno = EBADF;
      return -1;
    }
  do
    r = read (fifo_fd, &b, 1);
  while (r < 0 && errno == EINTR);
  if (r != 1)
    return -1;
  close (fifo_fd);
  fifo_fd = -1;
  return 0;
}

static void
reset_signals (void)
{
  sigset_t all;
  signal (SIGPIPE, SIG_DFL);
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
}

int
op_exec (struct cur *c, const char **detail)
{
  uint64_t argc = get_u64 (c);
  uint64_t envc = get_u64 (c);
  char **argv, **envp;
  if (c->bad || argc == 0 || argc > 100000 || envc > 100000)
    {
      errno = EINVAL;
      *detail = "exec arguments";
      return -1;
    }
  argv = calloc (argc + 1, sizeof *argv);
  envp = calloc (envc + 1, sizeof *envp);
  if (argv == NULL || envp == NULL)
    return -1;
  for (uint64_t i = 0; i < argc; i++)
    {
      const char *s = get_str (c);
      argv[i] = (char *) (s ? s : "");
    }
  for (uint64_t i = 0; i < envc; i++)
    {
      const char *s = get_str (c);
      envp[i] = (char *) (s ? s : "");
    }
  if (c->bad)
    return 0;
  *detail = exec_path[0] ? exec_path : argv[0];
  reset_signals ();
  execve (exec_path[0] ? exec_path : argv[0], argv, envp);
  {
    int e = errno;
    signal (SIGPIPE, SIG_IGN);
    errno = e;
  }
  return -1;
}

int
op_run_hook (struct cur *c, const char **detail)
{
  uint64_t timeout = get_u64 (c);
  uint64_t argc = get_u64 (c);
  uint64_t envc = get_u64 (c);
  const char *path = get_str (c);
  char *argv[256], *envp[256];
  const char *input;
  int in[2], status;
  pid_t pid;
  struct timespec start, now;
  *detail = path;
  if (argc > 255 || envc > 255)
    {
      errno = E2BIG;
      return -1;
    }
  for (uint64_t i = 0; i < argc; i++)
    argv[i] = (char *) get_str (c);
  argv[argc] = NULL;
  for (uint64_t i = 0; i < envc; i++)
    envp[i] = (char *) get_str (c);
  envp[envc] = NULL;
  input = get_str (c);
  if (c->bad || path == NULL)
    return 0;
  if (argc == 0)
    argv[0] = (char *) path, argv[1] = NULL;
  if (pipe2 (in, O_CLOEXEC) < 0)
    return -1;
  pid = fork ();
  if (pid < 0)
    return -1;
  if (pid == 0)
    {
      dup2 (in[0], 0);
      reset_signals ();
      execve (path, argv, envp);
      _exit (127);
    }
  close (in[0]);
  if (input)
    {
      /* The state the runtime prepared has %PID% where the container's pid goes. */
      const char *mark = strstr (input, "%PID%");
      char pidtxt[24];
      ssize_t w;
      snprintf (pidtxt, sizeof pidtxt, "%d", host_pid);
      if (mark)
        {
          w = write (in[1], input, mark - input);
          w = write (in[1], pidtxt, strlen (pidtxt));
          input = mark + 5;
        }
      w = write (in[1], input, strlen (input));
      (void) w;
    }
  close (in[1]);
  clock_gettime (CLOCK_MONOTONIC, &start);
  for (;;)
    {
      pid_t r = waitpid (pid, &status, timeout ? WNOHANG : 0);
      if (r == pid)
        break;
      if (r < 0 && errno != EINTR)
        return -1;
      clock_gettime (CLOCK_MONOTONIC, &now);
      if (timeout && (uint64_t) (now.tv_sec - start.tv_sec) >= timeout)
        {
          kill (pid, SIGKILL);
          waitpid (pid, &status, 0);
          errno = ETIMEDOUT;
          return -1;
        }
      if (timeout)
        usleep (1000);
    }
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      static char msg[128];
      snprintf (msg, sizeof msg, "hook %s failed with status %d", path, status_code (status));
      *detail = msg;
      errno = ECANCELED;
      return -1;
    }
  return 0;
}

int
op_preserve_fds (struct cur *c, const char **detail)
{
  uint64_t n = get_u64 (c);
  unsigned int first = 3 + (unsigned int) n;
  DIR *d;
  *detail = "close inherited descriptors";
  if (c->bad)
    return 0;
#ifdef SYS_close_range
  /* May be refused by a seccomp profile that predates it: then the slower ways. */
  if (syscall (SYS_close_range, first, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) == 0)
    return 0;
#endif
  d = opendir ("/proc/self/fd");
  if (d != NULL)
    {
      struct dirent *e;
      while ((e = readdir (d)) != NULL)
        {
          int fd = atoi (e->d_name);
          if (e->d_name[0] != '.' && (unsigned int) fd >= first && fd != dirfd (d))
            fcntl (fd, F_SETFD, FD_CLOEXEC);
        }
      closedir (d);
      return 0;
    }
  /* No /proc (a chroot without mounts): every possible descriptor. */
  {
    struct rlimit rl;
    unsigned int max = 65536;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < max)
      max = (unsigned int) rl.rlim_cur;
    for (unsigned int fd = first; fd < max; fd++)
      fcntl ((int) fd, F_SETFD, FD_CLOEXEC);
  }
  return 0;
}
