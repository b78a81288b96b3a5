/* berth-helper: a detached container's log. Its stdout and stderr, one JSON line per line of
 * output with the stream and the time (Docker's json-file shape); with passthrough also to the
 * helper's own stdout and stderr. */
#include "monitor.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int log_fd = -1;
int log_passthrough;

int
log_open (const char *path, int pass)
{
  log_passthrough = pass;
  log_fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  return log_fd < 0 ? -1 : 0;
}

/* One record: {"log":"<line, JSON-escaped>","stream":"stdout","time":"..."} */
static void
emit (struct stream *s, const char *line, size_t n)
{
  char out[16384 * 6 + 128];
  char ts[40];
  size_t k = 0;
  k += (size_t) snprintf (out + k, sizeof out - k, "{\"log\":\"");
  for (size_t i = 0; i < n; i++)
    {
      unsigned char ch = (unsigned char) line[i];
      if (ch == '"' || ch == '\\')
        {
          out[k++] = '\\';
          out[k++] = (char) ch;
        }
      else if (ch == '\n')
        {
          out[k++] = '\\';
          out[k++] = 'n';
        }
      else if (ch < 0x20)
        k += (size_t) snprintf (out + k, sizeof out - k, "\\u%04x", ch);
      else
        out[k++] = (char) ch;
    }
  now_rfc3339 (ts, sizeof ts);
  k += (size_t) snprintf (out + k, sizeof out - k, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", s->name, ts);
  if (write (log_fd, out, k) < 0)
    {
      /* the log is gone (disk full, removed): the container goes on */
    }
}

int
drain (struct stream *s)
{
  ssize_t r = read (s->fd, s->buf + s->len, sizeof s->buf - s->len);
  if (r < 0)
    return errno == EINTR || errno == EAGAIN ? -1 : 0; /* EIO: the terminal's last user is gone */
  if (r == 0)
    {
      if (s->len)
        emit (s, s->buf, s->len);
      s->len = 0;
      return 0;
    }
  attach_broadcast (s->id, s->buf + s->len, (size_t) r);
  if (log_passthrough)
    write_all (s->out, s->buf + s->len, (size_t) r);
  s->len += (size_t) r;
  for (;;)
    {
      char *nl = memchr (s->buf, '\n', s->len);
      size_t n;
      if (nl == NULL)
        {
          if (s->len == sizeof s->buf) /* a line longer than the buffer: a record of its own */
            {
              emit (s, s->buf, s->len);
              s->len = 0;
            }
          return 1;
        }
      n = (size_t) (nl - s->buf) + 1;
      emit (s, s->buf, n);
      memmove (s->buf, s->buf + n, s->len - n);
      s->len -= n;
    }
}

void
drain_rest (struct stream *s)
{
  if (s->fd < 0)
    return;
  fcntl (s->fd, F_SETFL, O_NONBLOCK);
  while (drain (s) == 1)
    ;
  if (s->len)
    emit (s, s->buf, s->len);
  s->len = 0;
}
