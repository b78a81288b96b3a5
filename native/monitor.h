/* berth-helper: the parts of a detached container's monitor (monitor.c: supervision, log.c: the
 * log, attach.c: attached clients); nothing else uses them. */
#ifndef BERTH_MONITOR_H
#define BERTH_MONITOR_H
#include "helper.h"

/* One of the container's output streams. */
struct stream
{
  int fd;
  int id; /* 1 stdout, 2 stderr: the attach frame's stream */
  int out; /* with passthrough: where the bytes also go (1 or 2) */
  const char *name;
  char buf[16384];
  size_t len;
};

/* log.c */
extern int log_fd;
extern int log_passthrough; /* the output also to the helper's own stdout and stderr */
int log_open (const char *path, int passthrough);
/* Reads what is there: to the attached clients (and passthrough), every complete line (and full
   buffers) to the log. Returns 1 after data, -1 when nothing is there now, 0 at the end. */
int drain (struct stream *s);
/* After the container ended: what is left, without waiting for writers outside it. */
void drain_rest (struct stream *s);

/* attach.c */
int attach_watch (struct pollfd *p, int max);
/* 1 when p was one of attach's fds (and was served). */
int attach_event (const struct pollfd *p);
void attach_broadcast (int stream, const char *data, size_t n);
/* In the child: stdin from the clients, when they may send it. */
int attach_child_stdin (void);
/* In the monitor: clients' input goes to the terminal, or else to the stdin pipe. */
void attach_start (void);
/* fd (the terminal) closed: no more input there. */
void attach_stream_closed (int fd);
/* The end: nobody can attach any more; the clients see the end. */
void attach_close (void);

#endif
