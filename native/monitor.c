/* berth-helper: the monitor of a detached container. In "stay" mode with OP_LOG, the helper that
 * cloned the container stays its parent: it reads the container's stdout and stderr from pipes and
 * writes them to the log, one JSON line per line of output with the stream and the time (Docker's
 * json-file shape), and when the container ends it appends how it ended to the status file. */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <stdint.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

static int log_fd = -1;
static int passthrough;
static char *exit_argv[64];
static char *health_argv[64];
static uint64_t health_interval_ms;
static int status_fd = -1;
static int out_pipe[2] = { -1, -1 };
static int err_pipe[2] = { -1, -1 };

/* Attach: a listening socket; each client gets the output as frames (8-byte header: stream 1 or
   2, three zero bytes, big-endian length; Docker's shape) and sends frames back: 0 input, 1 a
   terminal size (rows, cols: big-endian u16 each). */
#define MAX_CLIENTS 16
#define FRAME_MAX 16384
struct client
{
  int fd;
  size_t len;
  unsigned char *buf;
};
static struct client clients[MAX_CLIENTS];
static int attach_fd = -1;
static char *attach_path;
static int in_pipe[2] = { -1, -1 };
static int input_fd = -1; /* where clients' input goes: the stdin pipe or the terminal */

int
op_log (struct cur *c, const char **detail)
{
  const char *log_path;
  passthrough = (int) get_u64 (c);
  log_path = get_str (c);
  const char *status_path = get_str (c);
  *detail = log_path;
  if (c->bad || log_path == NULL || status_path == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  log_fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log_fd < 0)
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

int
op_attach (struct cur *c, const char **detail)
{
  uint64_t open_stdin = get_u64 (c);
  const char *path = get_str (c);
  const char *slash;
  struct sockaddr_un addr;
  char dir[4096];
  int dfd;
  *detail = path;
  if (c->bad || path == NULL || (slash = strrchr (path, '/')) == NULL || (size_t) (slash - path) >= sizeof dir)
    {
      errno = EINVAL;
      return -1;
    }
  memcpy (dir, path, (size_t) (slash - path));
  dir[slash - path] = 0;
  /* Bound through the directory's fd: a socket path may be longer than sun_path holds. */
  dfd = open (dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return -1;
  memset (&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if ((size_t) snprintf (addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dfd, slash + 1) >= sizeof addr.sun_path)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  attach_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (attach_fd < 0)
    return -1;
  unlink (path);
  if (bind (attach_fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (attach_fd, 8) < 0)
    return -1;
  close (dfd);
  chmod (path, 0600);
  attach_path = strdup (path);
  *detail = "stdin pipe";
  if (open_stdin && pipe2 (in_pipe, O_CLOEXEC) < 0)
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

/* Starts argv (berth's cleanup or health check) in a session of its own; returns its pid. */
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

/* Runs the exit command (berth's cleanup, which applies the restart policy) in a session of
   its own, so that it outlives the monitor. */
static void
run_exit_command (void)
{
  if (exit_argv[0] != NULL)
    spawn_detached (exit_argv);
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
  if (in_pipe[0] >= 0)
    {
      if (dup2 (in_pipe[0], 0) < 0)
        return -1;
      close (in_pipe[0]);
      close (in_pipe[1]);
    }
  close (out_pipe[0]);
  close (err_pipe[0]);
  close (log_fd);
  close (status_fd);
  return 0;
}

struct stream
{
  int fd;
  int id; /* 1 stdout, 2 stderr: the attach frame's stream */
  int out; /* with passthrough: where the bytes also go (1 or 2) */
  const char *name;
  char buf[16384];
  size_t len;
};

static void
now_rfc3339 (char *out, size_t n)
{
  struct timespec ts;
  struct tm tm;
  size_t k;
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  k = strftime (out, n, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (out + k, n - k, ".%09ldZ", ts.tv_nsec);
}

/* One record: {"log":"<line, JSON-escaped>","stream":"stdout","time":"..."} */
static void
emit (struct stream *s, const char *line, size_t n)
{
  char out[16384 * 6 + 128];
  char ts[40];
  size_t k = 0;
  k += (size_t) snprintf (out + k, sizeof out - k, "{\"log\":\"");
  for (size_t i = 0; i < n; i++)
    {
      unsigned char ch = (unsigned char) line[i];
      if (ch == '"' || ch == '\\')
        {
          out[k++] = '\\';
          out[k++] = (char) ch;
        }
      else if (ch == '\n')
        {
          out[k++] = '\\';
          out[k++] = 'n';
        }
      else if (ch < 0x20)
        k += (size_t) snprintf (out + k, sizeof out - k, "\\u%04x", ch);
      else
        out[k++] = (char) ch;
    }
  now_rfc3339 (ts, sizeof ts);
  k += (size_t) snprintf (out + k, sizeof out - k, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", s->name, ts);
  if (write (log_fd, out, k) < 0)
    {
      /* the log is gone (disk full, removed): the container goes on */
    }
}

static void
drop_client (struct client *cl)
{
  close (cl->fd);
  cl->fd = -1;
  free (cl->buf);
  cl->buf = NULL;
  cl->len = 0;
}

/* The output to every attached client; one that cannot take it now is dropped, not waited for. */
static void
broadcast (int stream, const char *data, size_t n)
{
  unsigned char h[8] = { (unsigned char) stream, 0, 0, 0, (unsigned char) (n >> 24), (unsigned char) (n >> 16), (unsigned char) (n >> 8), (unsigned char) n };
  for (int i = 0; i < MAX_CLIENTS; i++)
    {
      struct iovec v[2] = { { h, 8 }, { (void *) data, n } };
      struct msghdr m = { .msg_iov = v, .msg_iovlen = 2 };
      if (clients[i].fd >= 0 && sendmsg (clients[i].fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t) (8 + n))
        drop_client (&clients[i]);
    }
}

static void
write_all (int fd, const unsigned char *p, size_t n)
{
  while (n > 0)
    {
      ssize_t w = write (fd, p, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return;
      p += w;
      n -= (size_t) w;
    }
}

static void
client_input (struct client *cl)
{
  ssize_t r = read (cl->fd, cl->buf + cl->len, 8 + FRAME_MAX - cl->len);
  if (r <= 0)
    {
      if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return;
      drop_client (cl);
      return;
    }
  cl->len += (size_t) r;
  while (cl->len >= 8)
    {
      uint32_t n = (uint32_t) cl->buf[4] << 24 | (uint32_t) cl->buf[5] << 16 | (uint32_t) cl->buf[6] << 8 | cl->buf[7];
      unsigned char *p = cl->buf + 8;
      if (n > FRAME_MAX)
        {
          drop_client (cl);
          return;
        }
      if (cl->len < 8 + n)
        return;
      if (cl->buf[0] == 0 && input_fd >= 0)
        write_all (input_fd, p, n);
      else if (cl->buf[0] == 1 && n == 4 && tty_enabled ())
        {
          struct winsize ws = { .ws_row = (unsigned short) (p[0] << 8 | p[1]), .ws_col = (unsigned short) (p[2] << 8 | p[3]) };
          ioctl (tty_master (), TIOCSWINSZ, &ws);
        }
      memmove (cl->buf, cl->buf + 8 + n, cl->len - 8 - n);
      cl->len -= 8 + n;
    }
}

static void
accept_client (void)
{
  int fd = accept4 (attach_fd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0)
    return;
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd < 0)
      {
        clients[i].buf = malloc (8 + FRAME_MAX);
        if (clients[i].buf == NULL)
          break;
        clients[i].fd = fd;
        clients[i].len = 0;
        return;
      }
  close (fd);
}

/* Reads what is there; emits every complete line (and full buffers). Returns 1 after data, -1
   when nothing is there now (non-blocking), 0 at the end. */
static int
drain (struct stream *s)
{
  ssize_t r = read (s->fd, s->buf + s->len, sizeof s->buf - s->len);
  if (r < 0)
    return errno == EINTR || errno == EAGAIN ? -1 : 0; /* EIO: the terminal's last user is gone */
  if (r == 0)
    {
      if (s->len)
        emit (s, s->buf, s->len);
      s->len = 0;
      return 0;
    }
  broadcast (s->id, s->buf + s->len, (size_t) r);
  if (passthrough)
    for (ssize_t off = 0; off < r;)
      {
        ssize_t w = write (s->out, s->buf + s->len + off, (size_t) (r - off));
        if (w <= 0)
          break;
        off += w;
      }
  s->len += (size_t) r;
  for (;;)
    {
      char *nl = memchr (s->buf, '\n', s->len);
      size_t n;
      if (nl == NULL)
        {
          if (s->len == sizeof s->buf) /* a line longer than the buffer: a record of its own */
            {
              emit (s, s->buf, s->len);
              s->len = 0;
            }
          return 1;
        }
      n = (size_t) (nl - s->buf) + 1;
      emit (s, s->buf, n);
      memmove (s->buf, s->buf + n, s->len - n);
      s->len -= n;
    }
}

static volatile pid_t monitored;

static void
forward (int sig)
{
  if (monitored > 0)
    kill (monitored, sig);
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

void __attribute__ ((noreturn))
monitor (pid_t pid)
{
  static struct stream out = { .name = "stdout", .id = 1 }, err = { .name = "stderr", .id = 2 };
  static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 };
  struct sigaction sa;
  int status = 0, exited = 0;
  struct timespec next_health;
  pid_t health_pid = 0;
  char line[128], ts[40];
  next_check (&next_health);
  monitored = pid;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = forward;
  sa.sa_flags = SA_RESTART;
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaction (sigs[i], &sa, NULL);
  for (int i = 0; i < MAX_CLIENTS; i++)
    clients[i].fd = -1;
  close (out_pipe[1]);
  close (err_pipe[1]);
  if (tty_enabled ())
    {
      /* With a terminal, its master is the one stream, and where input goes. */
      close (out_pipe[0]);
      close (err_pipe[0]);
      out.fd = tty_master ();
      err.fd = -1;
      input_fd = tty_master ();
    }
  else
    {
      out.fd = out_pipe[0];
      err.fd = err_pipe[0];
    }
  if (in_pipe[0] >= 0)
    {
      close (in_pipe[0]);
      if (tty_enabled ())
        close (in_pipe[1]);
      else
        input_fd = in_pipe[1];
    }
  out.out = 1;
  err.out = 2;
  /* A detached monitor has no terminal and needs no stdio of its own. */
  for (int fd = passthrough ? 3 : 0; fd < 3; fd++)
    {
      int null = open ("/dev/null", O_RDWR);
      if (null >= 0 && null != fd)
        {
          dup2 (null, fd);
          close (null);
        }
    }
  /* Woken by the container's end (SIGCHLD through a signalfd), not by a timer: an idle monitor
     costs nothing. */
  sigset_t chld;
  sigemptyset (&chld);
  sigaddset (&chld, SIGCHLD);
  sigprocmask (SIG_BLOCK, &chld, NULL);
  int sfd = signalfd (-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  while (!exited)
    {
      struct pollfd p[4 + MAX_CLIENTS];
      struct client *who[4 + MAX_CLIENTS];
      int n = 0, streams, timeout = -1;
      if (out.fd >= 0)
        p[n++] = (struct pollfd){ .fd = out.fd, .events = POLLIN };
      if (err.fd >= 0)
        p[n++] = (struct pollfd){ .fd = err.fd, .events = POLLIN };
      streams = n;
      if (attach_fd >= 0)
        p[n++] = (struct pollfd){ .fd = attach_fd, .events = POLLIN };
      for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].fd >= 0)
          {
            who[n] = &clients[i];
            p[n++] = (struct pollfd){ .fd = clients[i].fd, .events = POLLIN };
          }
      if (n == 0 && health_argv[0] == NULL)
        {
          /* Its output is closed and nobody can attach: nothing to do but wait for it. */
          while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
            ;
          exited = 1;
          break;
        }
      if (health_argv[0] != NULL && health_pid == 0)
        {
          struct timespec now;
          long long ms;
          clock_gettime (CLOCK_MONOTONIC, &now);
          ms = (long long) (next_health.tv_sec - now.tv_sec) * 1000 + (next_health.tv_nsec - now.tv_nsec) / 1000000;
          timeout = ms < 0 ? 0 : ms > 60000 ? 60000 : (int) ms + 1;
        }
      if (sfd >= 0)
        p[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
      else if (timeout < 0 || timeout > 100)
        timeout = 100; /* no signalfd: look now and then */
      if (poll (p, (nfds_t) n, timeout) > 0)
        for (int i = 0; i < n; i++)
          {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
              continue;
            if (p[i].fd == sfd)
              {
                struct signalfd_siginfo si;
                while (read (sfd, &si, sizeof si) == (ssize_t) sizeof si)
                  ;
              }
            else if (i < streams)
              {
                struct stream *s = p[i].fd == out.fd ? &out : &err;
                if (!drain (s))
                  {
                    if (s->fd == input_fd)
                      input_fd = -1;
                    close (s->fd);
                    s->fd = -1;
                  }
              }
            else if (p[i].fd == attach_fd)
              accept_client ();
            else if (who[i]->fd == p[i].fd)
              client_input (who[i]);
          }
      if (waitpid (pid, &status, WNOHANG) == pid)
        exited = 1;
      if (health_pid > 0 && waitpid (health_pid, NULL, WNOHANG) == health_pid)
        health_pid = 0;
      if (health_argv[0] != NULL && !exited && health_pid == 0)
        {
          struct timespec now;
          clock_gettime (CLOCK_MONOTONIC, &now);
          if (now.tv_sec > next_health.tv_sec || (now.tv_sec == next_health.tv_sec && now.tv_nsec >= next_health.tv_nsec))
            {
              /* One check at a time; the next one an interval after this one started. */
              health_pid = spawn_detached (health_argv);
              next_check (&next_health);
            }
        }
    }
  /* It ended: log what it left in the pipes (without waiting for writers outside it), then say
     how it ended. */
  for (struct stream *s = &out; s != NULL; s = s == &out ? &err : NULL)
    {
      if (s->fd < 0)
        continue;
      fcntl (s->fd, F_SETFL, O_NONBLOCK);
      while (drain (s) == 1)
        ;
      if (s->len)
        emit (s, s->buf, s->len);
      s->len = 0;
    }
  now_rfc3339 (ts, sizeof ts);
  if (WIFSIGNALED (status))
    snprintf (line, sizeof line, "signal %d %s\n", WTERMSIG (status), ts);
  else
    snprintf (line, sizeof line, "exit %d %s\n", WEXITSTATUS (status), ts);
  if (write (status_fd, line, strlen (line)) < 0)
    {
      /* nothing else to tell it to */
    }
  /* Attached clients see the end only after the status is there to read. */
  if (attach_fd >= 0)
    {
      unlink (attach_path);
      close (attach_fd);
    }
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd >= 0)
      drop_client (&clients[i]);
  report ("%s", line);
  run_exit_command ();
  _exit (0);
}
