/* berth-helper as a container's init (`run --init`): PID 1 that starts the command, forwards the
 * signals it gets to it, reaps every zombie (orphans are re-parented to PID 1), and exits with the
 * command's status. Bind-mounted read-only into the container at /dev/init. */
#include "helper.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
init_main (int argc, char **argv)
{
  sigset_t all;
  pid_t pid;
  int status;
  if (argc < 1)
    {
      fprintf (stderr, "init: a command is required\n");
      return 127;
    }
  /* Blocked until the supervision loop handles them: none is lost, none kills init meanwhile. */
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
  status = supervise_wait (pid, NULL);
  /* What the command left behind goes with it. */
  kill (-pid, SIGKILL);
  return status_code (status);
}
