/* berth-helper: rooted file access, the requests that change the tree (create, write, the
   entries, an inode's mode and xattrs, an open file's owner, mode and times): the last component
   of a changed entry never followed (rooted.c). */
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
rq_create (struct cur *c)
{
  mode_t mode = (mode_t) get_u64 (c);
  const char *parent = get_str (c);
  const char *name = get_str (c);
  int dfd, fd, h;
  if (c->bad)
    return -1;
  dfd = open_parent (parent, name);
  if (dfd < 0)
    return -1;
  fd = openat (dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode & 07777);
  close_keep (dfd);
  if (fd < 0)
    return -1;
  h = new_handle (fd);
  if (h < 0)
    return -1;
  return ans_u64 ((uint64_t) h);
}

int
rq_write (struct cur *c)
{
  uint64_t h = get_u64 (c);
  size_t n;
  int fd;
  if (c->bad)
    return -1;
  fd = handle_fd (h);
  if (fd < 0)
    return -1;
  n = (size_t) (c->end - c->p);
  errno = EIO;
  return write_all (fd, c->p, n);
}

int
rq_entry (uint32_t code, struct cur *c)
{
  uint64_t a = 0, b = 0;
  const char *s = NULL, *parent, *name;
  int dfd, r = -1;
  switch (code)
    {
    case RQ_MKDIR: a = get_u64 (c); break;
    case RQ_SYMLINK: s = get_str (c); break;
    case RQ_LINK: s = get_str (c); break;
    case RQ_MKNOD:
    case RQ_LCHOWN:
    case RQ_UTIMES:
      a = get_u64 (c);
      b = get_u64 (c);
      break;
    }
  parent = get_str (c);
  name = get_str (c);
  if (c->bad)
    return -1;
  if (s == NULL && (code == RQ_SYMLINK || code == RQ_LINK))
    {
      errno = EINVAL;
      return -1;
    }
  dfd = open_parent (parent, name);
  if (dfd < 0)
    return -1;
  switch (code)
    {
    case RQ_MKDIR: r = mkdirat (dfd, name, (mode_t) a & 07777); break;
    case RQ_SYMLINK: r = symlinkat (s, dfd, name); break;
    case RQ_LINK:
      {
        /* The existing end resolved inside the root too (never following its last component). */
        int ofd = rooted_open (s, O_PATH, 0);
        if (ofd < 0)
          break;
        r = linkat (ofd, "", dfd, name, AT_EMPTY_PATH);
        close_keep (ofd);
      }
      break;
    case RQ_MKNOD: r = mknodat (dfd, name, (mode_t) a, (dev_t) b); break;
    case RQ_LCHOWN: r = fchownat (dfd, name, (uid_t) a, (gid_t) b, AT_SYMLINK_NOFOLLOW); break;
    case RQ_UTIMES:
      {
        struct timespec ts[2] = { { (time_t) (a / 1000000000u), (long) (a % 1000000000u) },
                                  { (time_t) (b / 1000000000u), (long) (b % 1000000000u) } };
        r = utimensat (dfd, name, ts, AT_SYMLINK_NOFOLLOW);
      }
      break;
    case RQ_UNLINK: r = unlinkat (dfd, name, 0); break;
    case RQ_RMDIR: r = unlinkat (dfd, name, AT_REMOVEDIR); break;
    }
  close_keep (dfd);
  return r;
}

/* Requests on an entry that is not a symlink (chmod, xattrs): the entry is opened without
 * following it, and its inode reached through the helper's own /proc/self/fd. */
int
rq_inode (uint32_t code, struct cur *c)
{
  uint64_t mode = 0;
  const char *path, *name = NULL;
  struct stat st;
  int fd, r = -1;
  if (code == RQ_CHMOD)
    mode = get_u64 (c);
  path = get_str (c);
  if (code == RQ_SETXATTR || code == RQ_GETXATTR)
    name = get_str (c);
  if (c->bad || ((code == RQ_SETXATTR || code == RQ_GETXATTR) && name == NULL))
    {
      errno = EINVAL;
      return -1;
    }
  fd = rooted_open (path, O_PATH, 0);
  if (fd < 0)
    return -1;
  if (fstat (fd, &st) < 0)
    goto out;
  if (S_ISLNK (st.st_mode))
    {
      /* Never through a symlink; a symlink's own mode is fixed and its xattrs are not kept. */
      errno = code == RQ_CHMOD ? ELOOP : ENOTSUP;
      goto out;
    }
  switch (code)
    {
    case RQ_CHMOD: r = chmod (fd_path (fd), (mode_t) mode & 07777); break;
    case RQ_SETXATTR: r = setxattr (fd_path (fd), name, c->p, (size_t) (c->end - c->p), 0); break;
    case RQ_LISTXATTR:
    case RQ_GETXATTR:
      {
        char *buf = NULL;
        ssize_t n;
        for (size_t cap = 4096; cap <= (64u << 10) * 16; cap *= 2)
          {
            free (buf);
            buf = malloc (cap);
            if (buf == NULL)
              {
                errno = ENOMEM;
                break;
              }
            n = code == RQ_LISTXATTR ? listxattr (fd_path (fd), buf, cap) : getxattr (fd_path (fd), name, buf, cap);
            if (n >= 0)
              {
                r = ans_put (buf, (size_t) n);
                break;
              }
            if (errno != ERANGE)
              break;
          }
        free (buf);
      }
      break;
    }
out:
  close_keep (fd);
  return r;
}

/* Owner, mode, times and xattrs of a file created in this session, on its open fd: whatever its
 * path names meanwhile. */
int
rq_fmeta (uint32_t code, struct cur *c)
{
  uint64_t h = get_u64 (c);
  uint64_t what = 0, uid = 0, gid = 0, mode = 0, at = 0, mt = 0;
  const char *name = NULL;
  int fd;
  if (code == RQ_FSETMETA)
    {
      what = get_u64 (c);
      uid = get_u64 (c);
      gid = get_u64 (c);
      mode = get_u64 (c);
      at = get_u64 (c);
      mt = get_u64 (c);
    }
  else
    name = get_str (c);
  if (c->bad || (code == RQ_FSETXATTR && name == NULL))
    {
      errno = EINVAL;
      return -1;
    }
  fd = handle_fd (h);
  if (fd < 0)
    return -1;
  if (code == RQ_FSETXATTR)
    return fsetxattr (fd, name, c->p, (size_t) (c->end - c->p), 0);
  if ((what & 1) && fchown (fd, (uid_t) uid, (gid_t) gid) < 0)
    return -1;
  if ((what & 2) && fchmod (fd, (mode_t) mode & 07777) < 0)
    return -1;
  if (what & 4)
    {
      struct timespec ts[2] = { { (time_t) (at / 1000000000u), (long) (at % 1000000000u) },
                                { (time_t) (mt / 1000000000u), (long) (mt % 1000000000u) } };
      if (futimens (fd, ts) < 0)
        return -1;
    }
  return 0;
}

