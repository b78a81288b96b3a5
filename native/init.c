/* berth-helper as a container's init (`run --init`): PID 1 that starts the command, forwards the
 * signals it gets to it, reaps every zombie (orphans are re-parented to PID 1), and exits with the
 * command's status. Bind-mounted read-only into the container at /dev/init. */
#include "helper.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

static volatile pid_t main_child;

static void
forward (int sig)
{
  if (main_child > 0)
    kill (main_child, sig);
}

int
init_main (int argc, char **argv)
{
  static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM };
  struct sigaction sa;
  sigset_t all;
  pid_t pid;
  if (argc < 1)
    {
      fprintf (stderr, "init: a command is required\n");
      return 127;
    }
  sigfillset (&all);
  sigprocmask (SIG_BLOCK, &all, NULL);
  pid = fork ();
  if (pid < 0)
    {
      perror ("init: fork");
      return 126;
    }
  if (pid == 0)
    {
      sigprocmask (SIG_UNBLOCK, &all, NULL);
      setpgid (0, 0);
      execvp (argv[0], argv);
      fprintf (stderr, "init: exec %s: %s\n", argv[0], strerror (errno));
      _exit (errno == ENOENT ? 127 : 126);
    }
  main_child = pid;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = forward;
  sa.sa_flags = SA_RESTART;
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaction (sigs[i], &sa, NULL);
  sigprocmask (SIG_UNBLOCK, &all, NULL);
  for (;;)
    {
      int status;
      pid_t r = waitpid (-1, &status, 0);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return 0;
      if (r == pid)
        {
          /* What the command left behind goes with it. */
          kill (-pid, SIGKILL);
          if (WIFSIGNALED (status))
            return 128 + WTERMSIG (status);
          return WEXITSTATUS (status);
        }
    }
}
