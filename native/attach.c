/* berth-helper: attaching to a detached container. A listening socket; each client gets the
 * output as frames (8-byte header: stream 1 or 2, three zero bytes, big-endian length; Docker's
 * shape) and sends frames back: 0 input, 1 a terminal size (rows, cols: big-endian u16 each). */
#include "monitor.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define MAX_CLIENTS 16
#define FRAME_MAX 16384
struct client
{
  int fd; /* -1: a free slot (from attach_start on) */
  size_t len;
  unsigned char *buf;
};
static struct client clients[MAX_CLIENTS];
static int attach_fd = -1;
static char *attach_path;
static int in_pipe[2] = { -1, -1 };
static int input_fd = -1; /* where clients' input goes: the stdin pipe or the terminal */

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

int
attach_child_stdin (void)
{
  if (in_pipe[0] < 0)
    return 0;
  if (dup2 (in_pipe[0], 0) < 0)
    return -1;
  close (in_pipe[0]);
  close (in_pipe[1]);
  return 0;
}

void
attach_start (void)
{
  for (int i = 0; i < MAX_CLIENTS; i++)
    clients[i].fd = -1;
  /* With a terminal, its master is where input goes, and the stdin pipe is not used. */
  if (tty_enabled ())
    input_fd = tty_master ();
  if (in_pipe[0] < 0)
    return;
  close (in_pipe[0]);
  if (tty_enabled ())
    close (in_pipe[1]);
  else
    input_fd = in_pipe[1];
}

void
attach_stream_closed (int fd)
{
  if (fd == input_fd)
    input_fd = -1;
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
void
attach_broadcast (int stream, const char *data, size_t n)
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
  /* Non-blocking: a round's events may name a dropped client's fd that a new one got since. */
  int fd = accept4 (attach_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
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

int
attach_watch (struct pollfd *p, int max)
{
  int n = 0;
  if (attach_fd >= 0 && n < max)
    p[n++] = (struct pollfd){ .fd = attach_fd, .events = POLLIN };
  for (int i = 0; i < MAX_CLIENTS && n < max; i++)
    if (clients[i].fd >= 0)
      p[n++] = (struct pollfd){ .fd = clients[i].fd, .events = POLLIN };
  return n;
}

int
attach_event (const struct pollfd *p)
{
  if (attach_fd >= 0 && p->fd == attach_fd)
    {
      accept_client ();
      return 1;
    }
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd >= 0 && clients[i].fd == p->fd)
      {
        client_input (&clients[i]);
        return 1;
      }
  return 0;
}

void
attach_close (void)
{
  if (attach_fd >= 0)
    {
      unlink (attach_path);
      close (attach_fd);
      attach_fd = -1;
    }
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd >= 0)
      drop_client (&clients[i]);
}
