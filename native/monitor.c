/* berth-helper: the monitor of a detached container. In "stay" mode with OP_LOG, the helper that
 * cloned the container stays its parent (supervise.c's loop): it reads the container's stdout
 * and stderr from pipes (or its terminal) for the log (log.c) and the attached clients
 * (attach.c), runs the health check while it runs, and when it ended appends how (status_line)
 * to the status file, then starts the exit command. */
#include "monitor.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char *exit_argv[64];
static char *health_argv[64];
static uint64_t health_interval_ms;
static struct timespec next_health;
static pid_t health_pid;
static int status_fd = -1;
static int out_pipe[2] = { -1, -1 };
static int err_pipe[2] = { -1, -1 };
static struct stream out = { .fd = -1, .id = 1, .out = 1, .name = "stdout" };
static struct stream err = { .fd = -1, .id = 2, .out = 2, .name = "stderr" };

int
op_log (struct cur *c, const char **detail)
{
  int passthrough = (int) get_u64 (c);
  const char *log_path = get_str (c);
  const char *status_path = get_str (c);
  *detail = log_path;
  if (c->bad || log_path == NULL || status_path == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  if (log_open (log_path, passthrough) < 0)
    return -1;
  *detail = status_path;
  status_fd = open (status_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (status_fd < 0)
    return -1;
  *detail = "pipe";
  if (pipe2 (out_pipe, O_CLOEXEC) < 0 || pipe2 (err_pipe, O_CLOEXEC) < 0)
    return -1;
  return 0;
}

/* u64 argc, str argv[argc] into argv (at most 63 entries, NULL-terminated). */
static int
get_argv (struct cur *c, char **argv)
{
  uint64_t argc = get_u64 (c);
  if (argc == 0 || argc > 63)
    {
      errno = EINVAL;
      return -1;
    }
  for (uint64_t i = 0; i < argc; i++)
    argv[i] = (char *) get_str (c);
  argv[argc] = NULL;
  if (c->bad || argv[0] == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  return 0;
}

int
op_exit_command (struct cur *c, const char **detail)
{
  *detail = "exit command";
  return get_argv (c, exit_argv);
}

int
op_health (struct cur *c, const char **detail)
{
  health_interval_ms = get_u64 (c);
  *detail = "health command";
  if (health_interval_ms == 0)
    {
      errno = EINVAL;
      return -1;
    }
  return get_argv (c, health_argv);
}

/* Starts argv (berth's cleanup or health check) in a session of its own, so that it may outlive
   the monitor, and back in the host's namespaces; returns its pid. */
static pid_t
spawn_detached (char **argv)
{
  pid_t pid = fork ();
  if (pid == 0)
    {
      char *envp[] = { NULL };
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      signal (SIGPIPE, SIG_DFL);
      setsid ();
      restore_own_ns ();
      execve (argv[0], argv, envp);
      _exit (127);
    }
  return pid;
}

int
monitor_enabled (void)
{
  return log_fd >= 0;
}

/* In the child, before anything else: its stdout and stderr become the pipes. */
int
monitor_child_stdio (void)
{
  if (log_fd < 0)
    return 0;
  if (dup2 (out_pipe[1], 1) < 0 || dup2 (err_pipe[1], 2) < 0)
    return -1;
  if (attach_child_stdin () < 0)
    return -1;
  close (out_pipe[0]);
  close (err_pipe[0]);
  close (log_fd);
  close (status_fd);
  return 0;
}

static void
next_check (struct timespec *t)
{
  clock_gettime (CLOCK_MONOTONIC, t);
  t->tv_sec += (time_t) (health_interval_ms / 1000);
  t->tv_nsec += (long) ((health_interval_ms % 1000) * 1000000);
  if (t->tv_nsec >= 1000000000L)
    t->tv_sec++, t->tv_nsec -= 1000000000L;
}

/* The streams, the attach socket and its clients; until the next health check at the latest. */
static int
monitor_watch (struct pollfd *p, int max, int *timeout)
{
  int n = 0;
  if (out.fd >= 0)
    p[n++] = (struct pollfd){ .fd = out.fd, .events = POLLIN };
  if (err.fd >= 0)
    p[n++] = (struct pollfd){ .fd = err.fd, .events = POLLIN };
  n += attach_watch (p + n, max - n);
  if (health_argv[0] != NULL && health_pid == 0)
    {
      struct timespec now;
      long long ms;
      clock_gettime (CLOCK_MONOTONIC, &now);
      ms = (long long) (next_health.tv_sec - now.tv_sec) * 1000 + (next_health.tv_nsec - now.tv_nsec) / 1000000;
      *timeout = ms < 0 ? 0 : ms > 60000 ? 60000 : (int) ms + 1;
    }
  return n;
}

static void
monitor_events (const struct pollfd *p, int n)
{
  for (int i = 0; i < n; i++)
    {
      struct stream *s = p[i].fd == out.fd ? &out : p[i].fd == err.fd ? &err : NULL;
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      if (s == NULL)
        attach_event (&p[i]);
      else if (!drain (s))
        {
          attach_stream_closed (s->fd);
          close (s->fd);
          s->fd = -1;
        }
    }
}

static void
monitor_reaped (pid_t pid)
{
  if (pid == health_pid)
    health_pid = 0;
}

/* One check at a time; the next one an interval after this one started. */
static void
monitor_tick (void)
{
  struct timespec now;
  if (health_argv[0] == NULL || health_pid != 0)
    return;
  clock_gettime (CLOCK_MONOTONIC, &now);
  if (now.tv_sec > next_health.tv_sec || (now.tv_sec == next_health.tv_sec && now.tv_nsec >= next_health.tv_nsec))
    {
      health_pid = spawn_detached (health_argv);
      next_check (&next_health);
    }
}

void __attribute__ ((noreturn))
monitor (pid_t pid)
{
  static const struct watcher w = { .watch = monitor_watch, .events = monitor_events, .reaped = monitor_reaped, .tick = monitor_tick };
  char line[128];
  int status;
  next_check (&next_health);
  close (out_pipe[1]);
  close (err_pipe[1]);
  if (tty_enabled ())
    {
      /* With a terminal, its master is the one stream. */
      close (out_pipe[0]);
      close (err_pipe[0]);
      out.fd = tty_master ();
    }
  else
    {
      out.fd = out_pipe[0];
      err.fd = err_pipe[0];
    }
  attach_start ();
  /* A detached monitor has no terminal and needs no stdio of its own. */
  for (int fd = log_passthrough ? 3 : 0; fd < 3; fd++)
    {
      int null = open ("/dev/null", O_RDWR);
      if (null >= 0 && null != fd)
        {
          dup2 (null, fd);
          close (null);
        }
    }
  status = supervise_wait (pid, &w);
  /* It ended: log what it left in the pipes, then say how it ended. */
  drain_rest (&out);
  drain_rest (&err);
  status_line (status, line, sizeof line);
  if (write (status_fd, line, strlen (line)) < 0)
    {
      /* nothing else to tell it to */
    }
  /* Attached clients see the end only after the status is there to read. */
  attach_close ();
  report ("%s", line);
  /* berth's cleanup, which applies the restart policy. */
  if (exit_argv[0] != NULL)
    spawn_detached (exit_argv);
  _exit (0);
}
