/* berth-helper: mounts, files and the switch of root, in the order the plan gives them. */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>

int
mkdir_p (const char *path, mode_t mode)
{
  char buf[4096];
  size_t n = strlen (path);
  if (n == 0 || n >= sizeof buf)
    {
      errno = EINVAL;
      return -1;
    }
  memcpy (buf, path, n + 1);
  for (char *p = buf + 1; *p; p++)
    {
      if (*p != '/')
        continue;
      *p = 0;
      if (mkdir (buf, 0755) < 0 && errno != EEXIST)
        return -1;
      *p = '/';
    }
  if (mkdir (buf, mode) < 0 && errno != EEXIST)
    return -1;
  return 0;
}

static int
mkdir_parent (const char *path)
{
  char buf[4096];
  char *slash;
  size_t n = strlen (path);
  if (n >= sizeof buf)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  memcpy (buf, path, n + 1);
  slash = strrchr (buf, '/');
  if (slash == NULL || slash == buf)
    return 0;
  *slash = 0;
  return mkdir_p (buf, 0755);
}

/* Flags a remount of a bind mount must keep: the kernel refuses to clear them inside a user
   namespace ("locked" flags). */
static unsigned long
locked_flags (const char *path)
{
  struct statvfs sv;
  unsigned long f = 0;
  if (statvfs (path, &sv) < 0)
    return 0;
  if (sv.f_flag & ST_NOSUID)
    f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV)
    f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC)
    f |= MS_NOEXEC;
  if (sv.f_flag & ST_RDONLY)
    f |= MS_RDONLY;
  if (sv.f_flag & ST_NOATIME)
    f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME)
    f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME)
    f |= MS_RELATIME;
  return f;
}

int
op_mount (struct cur *c, const char **detail)
{
  unsigned long flags = (unsigned long) get_u64 (c);
  const char *src = get_str (c);
  const char *target = get_str (c);
  const char *fstype = get_str (c);
  const char *data = get_str (c);
  int r;
  *detail = target;
  if (c->bad)
    return 0;
  r = mount (src, target ? target : "", fstype, flags, data);
  if (r < 0 && errno == EPERM && (flags & MS_REMOUNT) && (flags & MS_BIND))
    {
      unsigned long keep = locked_flags (target) & ~(unsigned long) MS_RDONLY;
      if ((flags | keep) != flags)
        r = mount (src, target, fstype, flags | keep, data);
    }
  return r;
}

int
op_mkdir (struct cur *c, const char **detail)
{
  mode_t mode = (mode_t) get_u64 (c);
  const char *path = get_str (c);
  *detail = path;
  if (c->bad || path == NULL)
    return 0;
  return mkdir_p (path, mode);
}

int
op_mknod (struct cur *c, const char **detail)
{
  mode_t mode = (mode_t) get_u64 (c);
  dev_t dev = (dev_t) get_u64 (c);
  uid_t uid = (uid_t) get_u64 (c);
  gid_t gid = (gid_t) get_u64 (c);
  const char *path = get_str (c);
  *detail = path;
  if (c->bad || path == NULL)
    return 0;
  if (mkdir_parent (path) < 0)
    return -1;
  if (mknod (path, mode, dev) < 0)
    {
      if (errno != EEXIST)
        return -1;
      if (unlink (path) < 0 || mknod (path, mode, dev) < 0)
        return -1;
    }
  if (chmod (path, mode & 07777) < 0)
    return -1;
  return chown (path, uid, gid);
}

int
op_touch (struct cur *c, const char **detail)
{
  mode_t mode = (mode_t) get_u64 (c);
  const char *path = get_str (c);
  int fd;
  *detail = path;
  if (c->bad || path == NULL)
    return 0;
  {
    struct stat st;
    /* Already there: leave it alone (opening it for writing would copy it up in an overlay). */
    if (lstat (path, &st) == 0)
      return 0;
  }
  if (mkdir_parent (path) < 0)
    return -1;
  fd = open (path, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    {
      struct stat st;
      /* An existing non-regular file (a device, a directory) is a fine mount point. */
      if ((errno == EISDIR || errno == ENXIO || errno == ELOOP || errno == EACCES) && lstat (path, &st) == 0)
        return 0;
      return -1;
    }
  return close (fd);
}

int
op_symlink (struct cur *c, const char **detail)
{
  const char *target = get_str (c);
  const char *path = get_str (c);
  *detail = path;
  if (c->bad || target == NULL || path == NULL)
    return 0;
  if (symlink (target, path) < 0 && errno != EEXIST)
    return -1;
  return 0;
}

int
op_pivot_root (struct cur *c, const char **detail)
{
  const char *root = get_str (c);
  *detail = root;
  if (c->bad || root == NULL)
    return 0;
  if (chdir (root) < 0)
    return -1;
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return -1;
  /* The old root is now stacked under the new one at "/": detach it without letting the
     unmount propagate anywhere. */
  *detail = "old root";
  if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return -1;
  if (umount2 (".", MNT_DETACH) < 0)
    return -1;
  return chdir ("/");
}

int
op_move_root (struct cur *c, const char **detail)
{
  const char *root = get_str (c);
  *detail = root;
  if (c->bad || root == NULL)
    return 0;
  if (chdir (root) < 0)
    return -1;
  if (mount (root, "/", NULL, MS_MOVE, NULL) < 0)
    return -1;
  if (chroot (".") < 0)
    return -1;
  return chdir ("/");
}

int
op_mask (struct cur *c, const char **detail)
{
  const char *path = get_str (c);
  struct stat st;
  *detail = path;
  if (c->bad || path == NULL)
    return 0;
  if (stat (path, &st) < 0)
    return errno == ENOENT ? 0 : -1;
  if (S_ISDIR (st.st_mode))
    return mount ("tmpfs", path, "tmpfs", MS_RDONLY, "size=0k");
  return mount ("/dev/null", path, NULL, MS_BIND, NULL);
}

int
op_readonly (struct cur *c, const char **detail)
{
  const char *path = get_str (c);
  *detail = path;
  if (c->bad || path == NULL)
    return 0;
  if (mount (path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return errno == ENOENT ? 0 : -1;
  if (mount (path, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | locked_flags (path), NULL) < 0)
    return -1;
  return 0;
}

int
op_setxattr (struct cur *c, const char **detail)
{
  const char *path = get_str (c);
  const char *name = get_str (c);
  uint64_t len = get_u64 (c);
  const unsigned char *value = get_bytes (c, len);
  *detail = path;
  if (c->bad || path == NULL || name == NULL)
    return 0;
  return lsetxattr (path, name, value, len, 0);
}

int
op_utimes (struct cur *c, const char **detail)
{
  uint64_t atime = get_u64 (c);
  uint64_t mtime = get_u64 (c);
  const char *path = get_str (c);
  struct timespec ts[2];
  *detail = path;
  if (c->bad || path == NULL)
    return 0;
  ts[0].tv_sec = (time_t) (atime / 1000000000ULL);
  ts[0].tv_nsec = (long) (atime % 1000000000ULL);
  ts[1].tv_sec = (time_t) (mtime / 1000000000ULL);
  ts[1].tv_nsec = (long) (mtime % 1000000000ULL);
  return utimensat (AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}
