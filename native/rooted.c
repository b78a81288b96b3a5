/* berth-helper: rooted file access. The helper opens a directory (a container's rootfs, a build
 * stage, a volume) and then serves primitive file requests on it: every path is resolved with
 * openat2 (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so that no symlink or ".." leads outside
 * the root, and the last component of an entry created, removed or changed is never followed.
 * What to do with the files is decided by berth's TypeScript (src/sys/rooted.ts); nothing here
 * chooses a default.
 *
 * Wire (after the plan, on the plan fd): request = u32 code, u32 len, payload (u64 LE numbers,
 * NUL-terminated strings, then raw bytes), codes RQ_* of ops.h. Answer (on the result fd), one
 * per request and in order: u32 errno (0: done), u32 len, payload. The first answer is the one
 * for opening the root. */
#include "helper.h"
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

#define MAX_REQUEST (16u << 20)
#define MAX_HANDLES 64
#define MAX_READ (1u << 20)

static int root_fd = -1;
static int handles[MAX_HANDLES];

/* The answer being built. */
static unsigned char *ans;
static size_t ans_len, ans_cap;

static int
ans_put (const void *p, size_t n)
{
  if (ans_len + n > ans_cap)
    {
      size_t cap = ans_cap ? ans_cap : 4096;
      unsigned char *b;
      while (cap < ans_len + n)
        cap *= 2;
      b = realloc (ans, cap);
      if (b == NULL)
        return -1;
      ans = b;
      ans_cap = cap;
    }
  memcpy (ans + ans_len, p, n);
  ans_len += n;
  return 0;
}

static int
ans_u64 (uint64_t v)
{
  unsigned char b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (unsigned char) (v >> (8 * i));
  return ans_put (b, 8);
}

static int
full_write (int fd, const unsigned char *p, size_t n)
{
  while (n > 0)
    {
      ssize_t w = write (fd, p, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return -1;
      p += w;
      n -= w;
    }
  return 0;
}

static int
full_read (int fd, unsigned char *p, size_t n)
{
  while (n > 0)
    {
      ssize_t r = read (fd, p, n);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return -1;
      p += r;
      n -= r;
    }
  return 0;
}

static int
send_answer (uint32_t err)
{
  unsigned char h[8];
  uint32_t len = err ? 0 : (uint32_t) ans_len;
  for (int i = 0; i < 4; i++)
    {
      h[i] = (unsigned char) (err >> (8 * i));
      h[4 + i] = (unsigned char) (len >> (8 * i));
    }
  if (full_write (result_fd, h, 8) < 0)
    return -1;
  return len ? full_write (result_fd, ans, len) : 0;
}

/* openat2 inside the root. */
static int
rooted_open (const char *path, int flags, int follow)
{
  struct open_how how;
  memset (&how, 0, sizeof how);
  how.flags = flags | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  /* EAGAIN: a rename or mount anywhere on the system raced a ".." step, and the kernel could not
     make sure that it stayed inside the root. The answer is to try again. */
  for (int tries = 0;; tries++)
    {
      int fd = (int) syscall (SYS_openat2, root_fd, path ? path : ".", &how, sizeof how);
      if (fd >= 0 || (errno != EAGAIN && errno != EINTR) || tries >= 1000)
        return fd;
    }
}

/* The parent directory of an entry, resolved inside the root; `name` is one component. */
static int
open_parent (const char *parent, const char *name)
{
  if (name == NULL || strchr (name, '/') != NULL || strcmp (name, "..") == 0)
    {
      errno = EINVAL;
      return -1;
    }
  return rooted_open (parent, O_PATH | O_DIRECTORY, 1);
}

static int
put_stat (const struct stat *st)
{
  uint64_t v[10] = { st->st_mode, st->st_uid, st->st_gid, (uint64_t) st->st_size,
                     (uint64_t) st->st_atim.tv_sec * 1000000000u + (uint64_t) st->st_atim.tv_nsec,
                     (uint64_t) st->st_mtim.tv_sec * 1000000000u + (uint64_t) st->st_mtim.tv_nsec,
                     st->st_rdev, st->st_dev, st->st_ino, st->st_nlink };
  for (int i = 0; i < 10; i++)
    if (ans_u64 (v[i]) < 0)
      return -1;
  return 0;
}

/* "/proc/self/fd/N" of an O_PATH fd: reopens that very inode (the helper's own procfs). */
static const char *
fd_path (int fd)
{
  static char buf[64];
  snprintf (buf, sizeof buf, "/proc/self/fd/%d", fd);
  return buf;
}

static int
new_handle (int fd)
{
  for (int i = 0; i < MAX_HANDLES; i++)
    if (handles[i] < 0)
      {
        handles[i] = fd;
        return i;
      }
  close (fd);
  errno = EMFILE;
  return -1;
}

static int
handle_fd (uint64_t h)
{
  if (h >= MAX_HANDLES || handles[h] < 0)
    {
      errno = EBADF;
      return -1;
    }
  return handles[h];
}

/* Keeps errno across a close. */
static void
close_keep (int fd)
{
  int e = errno;
  if (fd >= 0)
    close (fd);
  errno = e;
}

static int
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

static int
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

static int
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
static int
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

static int
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

static int
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

static int
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
  return full_write (fd, c->p, n);
}

static int
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
static int
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
static int
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
static int
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

static int
serve_one (uint32_t code, struct cur *c)
{
  switch (code)
    {
    case RQ_STAT: return rq_stat (c);
    case RQ_READLINK: return rq_readlink (c);
    case RQ_READDIR: return rq_readdir (c);
    case RQ_OPEN: return rq_open (c);
    case RQ_READ: return rq_read (c);
    case RQ_CREATE: return rq_create (c);
    case RQ_WRITE: return rq_write (c);
    case RQ_CLOSE: return rq_close (c);
    case RQ_MKDIR:
    case RQ_SYMLINK:
    case RQ_LINK:
    case RQ_MKNOD:
    case RQ_LCHOWN:
    case RQ_UTIMES:
    case RQ_UNLINK:
    case RQ_RMDIR: return rq_entry (code, c);
    case RQ_CHMOD:
    case RQ_SETXATTR:
    case RQ_LISTXATTR:
    case RQ_GETXATTR: return rq_inode (code, c);
    case RQ_FSETMETA:
    case RQ_FSETXATTR: return rq_fmeta (code, c);
    }
  errno = ENOSYS;
  return -1;
}

/* OP_ROOTED: str root. Serves requests until the plan fd ends; exits the helper. */
int
rooted_serve (struct cur *c)
{
  const char *root = get_str (c);
  unsigned char *req = NULL;
  struct open_how how;
  int err = 0;

  for (int i = 0; i < MAX_HANDLES; i++)
    handles[i] = -1;
  umask (0);
  ans_len = 0;
  memset (&how, 0, sizeof how);
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  if (c->bad || root == NULL)
    err = EINVAL;
  else
    {
      root_fd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (root_fd < 0)
        err = errno;
      else
        {
          /* Is openat2 there (5.6+)? Without it nothing is served: the caller falls back. */
          int probe = (int) syscall (SYS_openat2, root_fd, ".", &how, sizeof how);
          if (probe < 0)
            err = errno;
          else
            close (probe);
        }
    }
  if (send_answer ((uint32_t) err) < 0 || err)
    _exit (err ? 1 : 0);

  for (;;)
    {
      unsigned char h[8];
      uint32_t code, len;
      struct cur rc;
      int r;
      if (full_read (plan_fd, h, 8) < 0)
        _exit (0); /* the client closed the session */
      code = h[0] | h[1] << 8 | h[2] << 16 | (uint32_t) h[3] << 24;
      len = h[4] | h[5] << 8 | h[6] << 16 | (uint32_t) h[7] << 24;
      if (len > MAX_REQUEST)
        _exit (1);
      free (req);
      req = malloc (len ? len : 1);
      if (req == NULL || full_read (plan_fd, req, len) < 0)
        _exit (1);
      rc.p = req;
      rc.end = req + len;
      rc.bad = 0;
      ans_len = 0;
      errno = 0;
      r = serve_one (code, &rc);
      if (rc.bad)
        r = -1, errno = EINVAL;
      if (send_answer (r < 0 ? (uint32_t) (errno ? errno : EIO) : 0) < 0)
        _exit (1);
    }
}
