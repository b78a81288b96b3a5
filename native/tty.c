/* berth-helper: a terminal for a container run in the foreground (`run -t`). The pty is made
 * here on the host; its slave becomes the container's stdin, stdout, stderr and controlling
 * terminal; the helper, staying the container's parent, copies between its own terminal (put in
 * raw mode, its size passed on) and the pty's master until the container ends. */
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
#include <sys/wait.h>

static int pty_master = -1;
static int pty_slave = -1;
static struct termios saved;
static int saved_ok;
static volatile sig_atomic_t winch;

int
op_pty (struct cur *c, const char **detail)
{
  char name[128];
  (void) c;
  *detail = "/dev/ptmx";
  pty_master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (pty_master < 0)
    return -1;
  if (grantpt (pty_master) < 0 || unlockpt (pty_master) < 0 || ptsname_r (pty_master, name, sizeof name) != 0)
    return -1;
  *detail = name;
  pty_slave = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  return pty_slave < 0 ? -1 : 0;
}

int
tty_enabled (void)
{
  return pty_master >= 0;
}

/* In the child: the slave is its terminal. */
int
tty_child (void)
{
  if (pty_master < 0)
    return 0;
  close (pty_master);
  if (setsid () < 0 && errno != EPERM)
    return -1;
  if (ioctl (pty_slave, TIOCSCTTY, 0) < 0)
    return -1;
  for (int fd = 0; fd < 3; fd++)
    if (dup2 (pty_slave, fd) < 0)
      return -1;
  close (pty_slave);
  return 0;
}

static void
on_winch (int sig)
{
  (void) sig;
  winch = 1;
}

static void
pass_size (void)
{
  struct winsize ws;
  if (ioctl (0, TIOCGWINSZ, &ws) == 0)
    ioctl (pty_master, TIOCSWINSZ, &ws);
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
  for (ssize_t off = 0; off < n;)
    {
      ssize_t w = write (to, buf + off, (size_t) (n - off));
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return 0;
      off += w;
    }
  return 1;
}

void __attribute__ ((noreturn))
tty_supervise (pid_t pid)
{
  struct sigaction sa;
  int status = 0, in_open = 1;
  close (pty_slave);
  if (tcgetattr (0, &saved) == 0)
    {
      struct termios raw = saved;
      saved_ok = 1;
      cfmakeraw (&raw);
      tcsetattr (0, TCSANOW, &raw);
    }
  pass_size ();
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_winch;
  sigaction (SIGWINCH, &sa, NULL);
  for (;;)
    {
      struct pollfd p[2] = { { .fd = pty_master, .events = POLLIN }, { .fd = in_open ? 0 : -1, .events = POLLIN } };
      int r = poll (p, 2, 200);
      if (winch)
        {
          winch = 0;
          pass_size ();
        }
      if (r > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !copy (pty_master, 1))
        break; /* the container closed its terminal */
      if (r > 0 && (p[1].revents & (POLLIN | POLLHUP)) && !copy (0, pty_master))
        in_open = 0;
      if (waitpid (pid, &status, WNOHANG) == pid)
        {
          while (copy (pty_master, 1) > 0 && poll (p, 1, 0) > 0)
            ;
          goto ended;
        }
    }
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
ended:
  restore ();
  if (WIFSIGNALED (status))
    report ("signal %d 0\n", WTERMSIG (status));
  else
    report ("exit %d\n", WEXITSTATUS (status));
  _exit (0);
}
