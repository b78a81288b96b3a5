/* berth-helper: a terminal for a container run in the foreground (`run -t`). The pty is made in
 * the container (console.c) and its master sent here; its slave is the container's stdin,
 * stdout, stderr and controlling terminal. The helper, staying the container's parent (in
 * supervise.c's loop), copies between its fds 0 and 1 (the runtime's pipes, or a terminal: then
 * put in raw mode, its size passed on) and the pty's master until the container ends. New sizes
 * also come on the plan fd, kept open for it: 4 bytes each, rows and columns (big-endian). */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static int pty_master = -1;
static int pty_sock = -1; /* the helper's end of the pair; the container sends its pty's master there */
static struct termios saved;
static int saved_ok;
static int out_open = 1, in_open = 1; /* the master and stdin, while they are read */
static int size_open = 1;             /* the plan fd, while new sizes come on it */
static unsigned char size_buf[4];
static size_t size_len;

/* The pty itself is made in the container (its own /dev/ptmx, by OP_CONSOLE_SETUP, as for a
   console socket), so that it is a terminal of the container's devpts; here only the pair. */
int
op_pty (struct cur *c, const char **detail)
{
  int sv[2];
  (void) c;
  *detail = "socketpair";
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return -1;
  pty_sock = sv[0];
  console_use (sv[1]);
  return 0;
}

int
tty_enabled (void)
{
  return pty_sock >= 0 || pty_master >= 0;
}

/* In the child: the helper's end is not its business. */
int
tty_child (void)
{
  if (pty_sock >= 0)
    close (pty_sock);
  pty_sock = -1;
  return 0;
}

/* In the helper, after the clone: the master, once the container sent it (-1 if it failed first). */
int
tty_master (void)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  char name[64];
  struct iovec iov = { name, sizeof name };
  struct msghdr msg;
  struct cmsghdr *cm;
  if (pty_master >= 0 || pty_sock < 0)
    return pty_master;
  console_close ();
  memset (&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = u.buf;
  msg.msg_controllen = sizeof u.buf;
  while (recvmsg (pty_sock, &msg, MSG_CMSG_CLOEXEC) < 0 && errno == EINTR)
    ;
  cm = CMSG_FIRSTHDR (&msg);
  if (cm != NULL && cm->cmsg_type == SCM_RIGHTS)
    memcpy (&pty_master, CMSG_DATA (cm), sizeof pty_master);
  close (pty_sock);
  pty_sock = -1;
  return pty_master;
}

static void
pass_size (void)
{
  struct winsize ws;
  if (ioctl (0, TIOCGWINSZ, &ws) == 0)
    ioctl (pty_master, TIOCSWINSZ, &ws);
}

/* New sizes from the plan fd (a partial one kept for the next read). */
static int
take_sizes (void)
{
  ssize_t n = read (plan_fd, size_buf + size_len, sizeof size_buf - size_len);
  if (n <= 0)
    return n < 0 && (errno == EINTR || errno == EAGAIN);
  size_len += (size_t) n;
  if (size_len == sizeof size_buf)
    {
      struct winsize ws = { .ws_row = (unsigned short) (size_buf[0] << 8 | size_buf[1]), .ws_col = (unsigned short) (size_buf[2] << 8 | size_buf[3]) };
      ioctl (pty_master, TIOCSWINSZ, &ws);
      size_len = 0;
    }
  return 1;
}

static void
restore (void)
{
  if (saved_ok)
    tcsetattr (0, TCSANOW, &saved);
}

static int
copy (int from, int to)
{
  char buf[8192];
  ssize_t n = read (from, buf, sizeof buf);
  if (n <= 0)
    return n < 0 && (errno == EINTR || errno == EAGAIN) ? 1 : 0;
  return write_all (to, buf, (size_t) n) < 0 ? 0 : 1;
}

static int
tty_watch (struct pollfd *p, int max, int *timeout)
{
  int n = 0;
  if (!out_open)
    return 0;
  p[n++] = (struct pollfd){ .fd = pty_master, .events = POLLIN };
  /* A new size before the input that came after it. */
  p[n++] = (struct pollfd){ .fd = size_open ? plan_fd : -1, .events = POLLIN };
  if (in_open)
    p[n++] = (struct pollfd){ .fd = 0, .events = POLLIN };
  return n;
}

static void
tty_events (const struct pollfd *p, int n)
{
  if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !copy (pty_master, 1))
    {
      out_open = 0; /* the container closed its terminal: only its end is left to wait for */
      return;
    }
  if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && !take_sizes ())
    {
      size_open = 0;
      close (plan_fd);
    }
  if (n > 2 && (p[2].revents & (POLLIN | POLLHUP)) && !copy (0, pty_master))
    in_open = 0;
}

/* The helper's terminal changed its size: so does the container's. */
static int
tty_signal (int sig)
{
  if (sig != SIGWINCH)
    return 0;
  pass_size ();
  return 1;
}

void __attribute__ ((noreturn))
tty_supervise (pid_t pid)
{
  static const struct watcher w = { .watch = tty_watch, .events = tty_events, .take_signal = tty_signal };
  char line[128];
  int status;
  if (tty_master () < 0)
    out_open = 0; /* it failed before it had a terminal (and said why): wait for its end */
  else
    {
      if (tcgetattr (0, &saved) == 0)
        {
          struct termios raw = saved;
          saved_ok = 1;
          cfmakeraw (&raw);
          tcsetattr (0, TCSANOW, &raw);
        }
      pass_size ();
    }
  status = supervise_wait (pid, &w);
  if (out_open)
    {
      /* What it wrote before it ended. */
      struct pollfd p = { .fd = pty_master, .events = POLLIN };
      while (poll (&p, 1, 0) > 0 && copy (pty_master, 1) > 0)
        ;
    }
  restore ();
  status_line (status, line, sizeof line);
  report ("%s", line);
  _exit (0);
}
