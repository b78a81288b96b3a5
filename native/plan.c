/* berth-helper: the plan's wire format (reading it, decoding records) and the result lines. */
#include "helper.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int plan_fd = -1;
int result_fd = -1;
int host_pid = 0;

uint64_t
get_u64 (struct cur *c)
{
  uint64_t v = 0;
  if (c->end - c->p < 8)
    {
      c->bad = 1;
      return 0;
    }
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | c->p[i];
  c->p += 8;
  return v;
}

const char *
get_str (struct cur *c)
{
  const unsigned char *nul = memchr (c->p, 0, c->end - c->p);
  const char *s = (const char *) c->p;
  if (nul == NULL)
    {
      c->bad = 1;
      return NULL;
    }
  c->p = nul + 1;
  return *s ? s : NULL;
}

const unsigned char *
get_bytes (struct cur *c, size_t n)
{
  const unsigned char *p = c->p;
  if ((size_t) (c->end - c->p) < n)
    {
      c->bad = 1;
      return NULL;
    }
  c->p += n;
  return p;
}

int
write_all (int fd, const void *buf, size_t n)
{
  const char *p = buf;
  while (n > 0)
    {
      ssize_t w = write (fd, p, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return -1;
      p += w;
      n -= (size_t) w;
    }
  return 0;
}

void
report (const char *fmt, ...)
{
  char buf[4096];
  va_list ap;
  int n;
  if (result_fd < 0)
    return;
  va_start (ap, fmt);
  n = vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  if (n < 0)
    return;
  if ((size_t) n >= sizeof buf)
    n = sizeof buf - 1;
  write_all (result_fd, buf, n);
}

void
fail (int idx, int err, const char *detail)
{
  char clean[1024];
  size_t i;
  const char *d = detail ? detail : "";
  for (i = 0; d[i] && i < sizeof clean - 1; i++)
    clean[i] = (d[i] == '\n') ? ' ' : d[i];
  clean[i] = 0;
  report ("error %d %d %s\n", idx, err, clean);
  if (result_fd < 0 || getenv ("BERTH_HELPER_STDERR"))
    fprintf (stderr, "berth-helper: op %d: %s: %s\n", idx, clean, strerror (err));
  _exit (1);
}

int
read_full (int fd, void *buf, size_t n)
{
  unsigned char *p = buf;
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

struct op *
read_plan (int *nops)
{
  unsigned char hdr[4];
  uint32_t total;
  unsigned char *buf;
  struct op *ops;
  size_t cap = 64, n = 0, off = 0;

  if (read_full (plan_fd, hdr, 4) < 0)
    fail (-1, errno ? errno : EPIPE, "read plan length");
  total = hdr[0] | hdr[1] << 8 | hdr[2] << 16 | (uint32_t) hdr[3] << 24;
  if (total > (64u << 20))
    fail (-1, EINVAL, "plan too large");
  buf = malloc (total ? total : 1);
  ops = malloc (cap * sizeof *ops);
  if (buf == NULL || ops == NULL)
    fail (-1, ENOMEM, "allocate plan");
  if (read_full (plan_fd, buf, total) < 0)
    fail (-1, errno ? errno : EPIPE, "read plan");
  while (off + 8 <= total)
    {
      uint32_t code = buf[off] | buf[off + 1] << 8 | buf[off + 2] << 16 | (uint32_t) buf[off + 3] << 24;
      uint32_t len = buf[off + 4] | buf[off + 5] << 8 | buf[off + 6] << 16 | (uint32_t) buf[off + 7] << 24;
      off += 8;
      if (len > total - off)
        fail ((int) n, EINVAL, "record runs past the end of the plan");
      if (code > OP_MAX)
        fail ((int) n, EINVAL, "unknown op code");
      if (n == cap)
        {
          cap *= 2;
          ops = realloc (ops, cap * sizeof *ops);
          if (ops == NULL)
            fail (-1, ENOMEM, "allocate plan");
        }
      ops[n].code = code;
      ops[n].len = len;
      ops[n].data = buf + off;
      off += len;
      n++;
      if (code == OP_END)
        break;
    }
  if (n == 0 || ops[n - 1].code != OP_END)
    fail ((int) n, EINVAL, "plan has no end record");
  *nops = (int) n - 1;
  return ops;
}
