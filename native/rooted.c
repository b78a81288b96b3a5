/* berth-helper: rooted file access. The helper opens a directory (a container's rootfs, a build
 * stage, a volume) and then serves primitive file requests on it: every path is resolved with
 * openat2 (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so that no symlink or ".." leads outside
 * the root, and the last component of an entry created, removed or changed is never followed.
 * Where the caller asks for it (a kernel without openat2, before 5.6), the session chroots into
 * the root instead and resolves with plain openat: the kernel then keeps absolute links and ".."
 * inside, as it does for a process chrooted there (Podman's chrootarchive does the same).
 * What to do with the files is decided by berth's TypeScript (src/sys/rooted.ts); nothing here
 * chooses a default.
 *
 * Wire (after the plan, on the plan fd): request = u32 code, u32 len, payload (u64 LE numbers,
 * NUL-terminated strings, then raw bytes), codes RQ_* of ops.h. Answer (on the result fd), one
 * per request and in order: u32 errno (0: done), u32 len, payload. The first answer is the one
 * for opening the root. */
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


int root_fd = -1;
/* 1: chrooted into the root (no openat2); 0: openat2 with RESOLVE_IN_ROOT. */
static int chrooted;
int handles[MAX_HANDLES];

/* The answer being built. */
unsigned char *ans;
size_t ans_len, ans_cap;

int
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

int
ans_u64 (uint64_t v)
{
  unsigned char b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (unsigned char) (v >> (8 * i));
  return ans_put (b, 8);
}

int
send_answer (uint32_t err)
{
  unsigned char h[8];
  uint32_t len = err ? 0 : (uint32_t) ans_len;
  for (int i = 0; i < 4; i++)
    {
      h[i] = (unsigned char) (err >> (8 * i));
      h[4 + i] = (unsigned char) (len >> (8 * i));
    }
  if (write_all (result_fd, h, 8) < 0)
    return -1;
  return len ? write_all (result_fd, ans, len) : 0;
}

/* openat2 inside the root. */
int
rooted_open (const char *path, int flags, int follow)
{
  struct open_how how;
  memset (&how, 0, sizeof how);
  how.flags = flags | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  if (chrooted)
    return openat (root_fd, path ? path : ".", (int) how.flags);
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
int
open_parent (const char *parent, const char *name)
{
  if (name == NULL || strchr (name, '/') != NULL || strcmp (name, "..") == 0)
    {
      errno = EINVAL;
      return -1;
    }
  return rooted_open (parent, O_PATH | O_DIRECTORY, 1);
}

int
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

/* "/proc/self/fd/N" of an O_PATH fd: reopens that very inode (the helper's own procfs). A
   chrooted session has its working directory there, opened before the chroot: then just "N". */
const char *
fd_path (int fd)
{
  static char buf[64];
  snprintf (buf, sizeof buf, chrooted ? "%d" : "/proc/self/fd/%d", fd);
  return buf;
}

int
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

int
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
void
close_keep (int fd)
{
  int e = errno;
  if (fd >= 0)
    close (fd);
  errno = e;
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

/* OP_ROOTED: str root, [u64 mode: 0 openat2, 1 chroot]. Serves requests until the plan fd ends;
   exits the helper. */
int
rooted_serve (struct cur *c)
{
  const char *root = get_str (c);
  int mode = c->p < c->end ? (int) get_u64 (c) : 0;
  unsigned char *req = NULL;
  struct open_how how;
  int err = 0;

  for (int i = 0; i < MAX_HANDLES; i++)
    handles[i] = -1;
  umask (0);
  ans_len = 0;
  memset (&how, 0, sizeof how);
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  if (c->bad || root == NULL || (mode != 0 && mode != 1))
    err = EINVAL;
  else if (mode == 1)
    {
      int proc_fd = open ("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
      chrooted = 1;
      if (proc_fd < 0 || chdir (root) < 0 || chroot (".") < 0
          || (root_fd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 || fchdir (proc_fd) < 0)
        err = errno;
    }
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
      if (read_full (plan_fd, h, 8) < 0)
        _exit (0); /* the client closed the session */
      code = h[0] | h[1] << 8 | h[2] << 16 | (uint32_t) h[3] << 24;
      len = h[4] | h[5] << 8 | h[6] << 16 | (uint32_t) h[7] << 24;
      if (len > MAX_REQUEST)
        _exit (1);
      free (req);
      req = malloc (len ? len : 1);
      if (req == NULL || read_full (plan_fd, req, len) < 0)
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
