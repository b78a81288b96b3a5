/* berth-helper: who the process is and what it may do: rlimits, user and groups, capabilities,
 * no_new_privs and the seccomp filter. */
#include "helper.h"
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

int
op_rlimit (struct cur *c, const char **detail)
{
  int resource = (int) get_u64 (c);
  struct rlimit rl;
  rl.rlim_cur = (rlim_t) get_u64 (c);
  rl.rlim_max = (rlim_t) get_u64 (c);
  *detail = "setrlimit";
  if (c->bad)
    return 0;
  return setrlimit (resource, &rl);
}

int
op_identity (struct cur *c, const char **detail)
{
  uid_t uid = (uid_t) get_u64 (c);
  gid_t gid = (gid_t) get_u64 (c);
  uint64_t n = get_u64 (c);
  gid_t groups[256];
  if (n > 256)
    {
      *detail = "too many groups";
      errno = EINVAL;
      return -1;
    }
  for (uint64_t i = 0; i < n; i++)
    groups[i] = (gid_t) get_u64 (c);
  if (c->bad)
    return 0;
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    {
      *detail = "keep capabilities";
      return -1;
    }
  *detail = "setgroups";
  if (setgroups (n, groups) < 0 && !(errno == EPERM && n == 0))
    return -1;
  *detail = "setresgid";
  if (setresgid (gid, gid, gid) < 0)
    return -1;
  *detail = "setresuid";
  if (setresuid (uid, uid, uid) < 0)
    return -1;
  *detail = "keep capabilities";
  return prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0);
}

static int
capset3 (uint64_t eff, uint64_t perm, uint64_t inh)
{
  struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2];
  data[0].effective = (uint32_t) eff;
  data[1].effective = (uint32_t) (eff >> 32);
  data[0].permitted = (uint32_t) perm;
  data[1].permitted = (uint32_t) (perm >> 32);
  data[0].inheritable = (uint32_t) inh;
  data[1].inheritable = (uint32_t) (inh >> 32);
  return (int) syscall (SYS_capset, &hdr, data);
}

int
op_caps (struct cur *c, const char **detail)
{
  uint64_t drop = get_u64 (c);
  uint64_t eff = get_u64 (c);
  uint64_t perm = get_u64 (c);
  uint64_t inh = get_u64 (c);
  uint64_t amb = get_u64 (c);
  struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct cur[2];
  uint64_t have;
  if (c->bad)
    return 0;
  *detail = "capget";
  if (syscall (SYS_capget, &hdr, cur) < 0)
    return -1;
  have = (uint64_t) cur[0].permitted | ((uint64_t) cur[1].permitted << 32);
  /* Raise what we are permitted, so that the bounding set can be changed after a uid switch. */
  *detail = "raise permitted capabilities";
  if (capset3 (have, have, (uint64_t) cur[0].inheritable | ((uint64_t) cur[1].inheritable << 32)) < 0)
    return -1;
  *detail = "drop bounding capabilities";
  for (int cap = 0; cap < 64; cap++)
    {
      if (!(drop & (1ULL << cap)))
        continue;
      if (prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
        return -1;
    }
  *detail = "capset";
  if (capset3 (eff, perm, inh) < 0)
    return -1;
  *detail = "ambient capabilities";
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return -1;
  for (int cap = 0; cap < 64; cap++)
    {
      if (!(amb & (1ULL << cap)))
        continue;
      if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
        return -1;
    }
  return 0;
}

int
prctl_no_new_privs (void)
{
  return prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

int
op_seccomp (struct cur *c, const char **detail)
{
  unsigned int flags = (unsigned int) get_u64 (c);
  uint64_t len = get_u64 (c);
  const unsigned char *prog = get_bytes (c, len);
  struct sock_fprog fprog;
  struct sock_filter filter[4096];
  int r;
  *detail = "seccomp";
  if (c->bad || prog == NULL)
    return 0;
  if (len % sizeof (struct sock_filter) != 0 || len / sizeof (struct sock_filter) > 4096 || len == 0)
    {
      errno = EINVAL;
      *detail = "seccomp program size";
      return -1;
    }
  memcpy (filter, prog, len);
  fprog.len = (unsigned short) (len / sizeof (struct sock_filter));
  fprog.filter = filter;
  r = (int) syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
  if (r < 0 && errno == ENOSYS && flags == 0)
    r = prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0);
  return r < 0 ? -1 : 0;
}
