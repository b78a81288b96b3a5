/* berth-helper: the one supervision loop. Whoever stays a process's parent (the plain "stay"
 * mode, the foreground terminal, the monitor of a detached container, `--init`) waits here: the
 * signals it gets go on to the process, every child that ends is reaped, and the mode's own fds
 * are served in between. How the process ended is told in one format (status_line). */
#include "helper.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

/* The signals a supervisor passes on instead of acting on them itself. */
static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM };
#define MAX_SIG 65
static volatile sig_atomic_t pending[MAX_SIG];

static void
note (int sig)
{
  if (sig > 0 && sig < MAX_SIG)
    pending[sig] = 1;
}

void
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

/* "exit CODE TIME\n" or "signal SIG CORE TIME\n" (CORE 1 when it dumped core): the result line
   and the status file's line alike; parsed by src/sys/exit-status.ts. */
void
status_line (int status, char *out, size_t n)
{
  char ts[40];
  now_rfc3339 (ts, sizeof ts);
  if (WIFSIGNALED (status))
    snprintf (out, n, "signal %d %d %s\n", WTERMSIG (status), WCOREDUMP (status) ? 1 : 0, ts);
  else
    snprintf (out, n, "exit %d %s\n", WEXITSTATUS (status), ts);
}

/* The shell's exit code of a wait status: the code, or 128 + the signal. */
int
status_code (int status)
{
  return WIFSIGNALED (status) ? 128 + WTERMSIG (status) : WEXITSTATUS (status);
}

int
supervise_wait (pid_t pid, const struct watcher *w)
{
  struct pollfd p[WATCH_MAX];
  struct sigaction sa;
  sigset_t set, during;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = note;
  sigemptyset (&set);
  sigemptyset (&during);
  sigaddset (&set, SIGCHLD);
  sigaction (SIGCHLD, &sa, NULL);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
    {
      sigaddset (&set, forwarded[i]);
      sigaction (forwarded[i], &sa, NULL);
    }
  /* Blocked but while it waits in ppoll: handled between two waits, never inside one. Any other
     signal: as the helper's start left it, unblocked. */
  sigprocmask (SIG_SETMASK, &set, NULL);
  for (;;)
    {
      int status, n = 0, timeout = -1;
      struct timespec t, *tp = NULL;
      pid_t r;
      /* Every child that ended (orphans too, where this is a pid namespace's init); first of all
         the one that may have ended before this loop began. */
      while ((r = waitpid (-1, &status, WNOHANG)) > 0 || (r < 0 && errno == EINTR))
        if (r == pid)
          return status;
        else if (r > 0 && w != NULL && w->reaped != NULL)
          w->reaped (r);
      if (r < 0) /* no child left, and its end was never seen */
        return W_EXITCODE (255, 0);
      if (w != NULL && w->tick != NULL)
        w->tick ();
      if (w != NULL && w->watch != NULL)
        n = w->watch (p, WATCH_MAX, &timeout);
      if (timeout >= 0)
        {
          t.tv_sec = timeout / 1000;
          t.tv_nsec = (long) (timeout % 1000) * 1000000;
          tp = &t;
        }
      if (ppoll (p, (nfds_t) n, tp, &during) > 0 && w != NULL && w->events != NULL)
        w->events (p, n);
      for (int sig = 1; sig < MAX_SIG; sig++)
        if (pending[sig])
          {
            pending[sig] = 0;
            if (sig != SIGCHLD && !(w != NULL && w->take_signal != NULL && w->take_signal (sig)))
              kill (pid, sig);
          }
    }
}

/* "stay" mode without a terminal or a monitor: report how it ended. */
void __attribute__ ((noreturn))
supervise (pid_t pid)
{
  char line[128];
  status_line (supervise_wait (pid, NULL), line, sizeof line);
  report ("%s", line);
  _exit (0);
}
