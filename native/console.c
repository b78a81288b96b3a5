/* berth-helper: the container's terminal. A pty made in the container (its own /dev/ptmx, so that
 * it belongs to the container's devpts): the slave becomes its stdin, stdout, stderr and
 * controlling terminal, the master goes over a console socket (OCI --console-socket) or, for
 * berth's own terminal, over the socket pair of tty.c. */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

static int console_sock = -1;

/* berth's own terminal (tty.c): the container's end of a socket pair stands for the console socket. */
void
console_use (int fd)
{
  console_sock = fd;
}

void
console_close (void)
{
  if (console_sock >= 0)
    close (console_sock);
  console_sock = -1;
}

int
op_console_connect (struct cur *c, const char **detail)
{
  const char *path = get_str (c);
  struct sockaddr_un addr;
  *detail = path;
  if (c->bad || path == NULL)
    return 0;
  if (strlen (path) >= sizeof addr.sun_path)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  console_sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (console_sock < 0)
    return -1;
  memset (&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  strcpy (addr.sun_path, path);
  return connect (console_sock, (struct sockaddr *) &addr, sizeof addr);
}

static int
send_fd (int sock, int fd)
{
  char name[] = "/dev/ptmx";
  struct iovec iov = { name, sizeof name - 1 };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg;
  struct cmsghdr *cm;
  memset (&msg, 0, sizeof msg);
  memset (&u, 0, sizeof u);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = u.buf;
  msg.msg_controllen = sizeof u.buf;
  cm = CMSG_FIRSTHDR (&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cm), &fd, sizeof fd);
  return sendmsg (sock, &msg, 0) < 0 ? -1 : 0;
}

int
op_console_setup (struct cur *c, const char **detail)
{
  struct winsize ws;
  uid_t uid;
  gid_t gid;
  int master, slave;
  char name[128];
  memset (&ws, 0, sizeof ws);
  ws.ws_row = (unsigned short) get_u64 (c);
  ws.ws_col = (unsigned short) get_u64 (c);
  uid = (uid_t) get_u64 (c);
  gid = (gid_t) get_u64 (c);
  if (c->bad)
    return 0;
  *detail = "/dev/ptmx";
  master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return -1;
  *detail = "unlock pty";
  if (unlockpt (master) < 0 || ptsname_r (master, name, sizeof name) != 0)
    return -1;
  *detail = name;
  slave = open (name, O_RDWR | O_NOCTTY);
  if (slave < 0)
    return -1;
  if (fchown (slave, uid, gid) < 0 && errno != EPERM && errno != EINVAL)
    return -1;
  if (ws.ws_row || ws.ws_col)
    ioctl (slave, TIOCSWINSZ, &ws);
  *detail = "send the console to the socket";
  if (console_sock < 0)
    {
      errno = ENOTCONN;
      return -1;
    }
  if (send_fd (console_sock, master) < 0)
    return -1;
  close (master);
  close (console_sock);
  console_sock = -1;
  *detail = "set the controlling terminal";
  if (setsid () < 0 && errno != EPERM)
    return -1;
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    return -1;
  for (int fd = 0; fd < 3; fd++)
    if (dup2 (slave, fd) < 0)
      return -1;
  if (slave > 2)
    close (slave);
  return 0;
}
