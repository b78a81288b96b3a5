/* berth-helper: rooted file access, the requests that read (stat, readlink, readdir, open,
   read, close): every path resolved inside the root (rooted.c). */
#include "rooted.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

int
rq_stat (struct cur *c)
{
  int follow = (int) get_u64 (c);
  const char *path = get_str (c);
  struct stat st;
  int fd, r;
  if (c->bad)
    return -1;
  fd = rooted_open (path, O_PATH, follow);
  if (fd < 0)
    return -1;
  r = fstat (fd, &st);
  close_keep (fd);
  if (r < 0)
    return -1;
  return put_stat (&st);
}

int
rq_readlink (struct cur *c)
{
  const char *path = get_str (c);
  char buf[PATH_MAX];
  ssize_t n;
  int fd;
  if (c->bad)
    return -1;
  fd = rooted_open (path, O_PATH, 0);
  if (fd < 0)
    return -1;
  n = readlinkat (fd, "", buf, sizeof buf);
  close_keep (fd);
  if (n < 0)
    return -1;
  return ans_put (buf, (size_t) n);
}

int
rq_readdir (struct cur *c)
{
  int follow = (int) get_u64 (c);
  const char *path = get_str (c);
  struct dirent *de;
  DIR *d;
  int fd;
  if (c->bad)
    return -1;
  fd = rooted_open (path, O_RDONLY | O_DIRECTORY, follow);
  if (fd < 0)
    return -1;
  d = fdopendir (fd);
  if (d == NULL)
    {
      close_keep (fd);
      return -1;
    }
  for (;;)
    {
      unsigned char t;
      errno = 0;
      de = readdir (d);
      if (de == NULL)
        break;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      t = de->d_type;
      if (ans_put (&t, 1) < 0 || ans_put (de->d_name, strlen (de->d_name) + 1) < 0)
        break;
    }
  if (errno)
    {
      int e = errno;
      closedir (d);
      errno = e;
      return -1;
    }
  closedir (d);
  return 0;
}

/* Opens a regular file for reading: the entry is checked before it is opened for real, so that
 * no device or fifo a container planted is ever opened. */
int
rq_open (struct cur *c)
{
  int follow = (int) get_u64 (c);
  const char *path = get_str (c);
  struct stat st;
  int pfd, fd, h;
  if (c->bad)
    return -1;
  pfd = rooted_open (path, O_PATH, follow);
  if (pfd < 0)
    return -1;
  if (fstat (pfd, &st) < 0)
    {
      close_keep (pfd);
      return -1;
    }
  if (!S_ISREG (st.st_mode))
    {
      close (pfd);
      errno = S_ISDIR (st.st_mode) ? EISDIR : S_ISLNK (st.st_mode) ? ELOOP : EINVAL;
      return -1;
    }
  fd = open (fd_path (pfd), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  close_keep (pfd);
  if (fd < 0)
    return -1;
  h = new_handle (fd);
  if (h < 0)
    return -1;
  if (ans_u64 ((uint64_t) h) < 0)
    return -1;
  return put_stat (&st);
}

int
rq_read (struct cur *c)
{
  uint64_t h = get_u64 (c);
  uint64_t max = get_u64 (c);
  unsigned char buf[65536];
  size_t want, got = 0;
  int fd;
  if (c->bad)
    return -1;
  fd = handle_fd (h);
  if (fd < 0)
    return -1;
  want = max > MAX_READ ? MAX_READ : (size_t) max;
  while (got < want)
    {
      size_t n = want - got > sizeof buf ? sizeof buf : want - got;
      ssize_t r = read (fd, buf, n);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return -1;
      if (r == 0)
        break;
      if (ans_put (buf, (size_t) r) < 0)
        return -1;
      got += (size_t) r;
    }
  return 0;
}

int
rq_close (struct cur *c)
{
  uint64_t h = get_u64 (c);
  int fd;
  if (c->bad)
    return -1;
  fd = handle_fd (h);
  if (fd < 0)
    return -1;
  handles[h] = -1;
  return close (fd);
}

/* The requests on one entry named by (parent, name): the parent resolved inside the root, the
 * name never followed. */
