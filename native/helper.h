/* berth-helper: executes a plan that berth's TypeScript computed. No policy lives here. */
#ifndef BERTH_HELPER_H
#define BERTH_HELPER_H
#define _GNU_SOURCE
#include <stdint.h>
#include <stddef.h>
#include <poll.h>
#include <sys/types.h>
#include "ops.h"

struct op {
  uint32_t code;
  uint32_t len;
  const unsigned char *data;
};

struct cur {
  const unsigned char *p;
  const unsigned char *end;
  int bad;
};

/* plan.c */
extern int plan_fd;
extern int result_fd;
extern int host_pid; /* the container's pid in the runtime's pid namespace */
uint64_t get_u64 (struct cur *c);
const char *get_str (struct cur *c);  /* NULL for an empty string */
const unsigned char *get_bytes (struct cur *c, size_t n);
/* 0 when all n bytes went out (retrying after EINTR and short writes), else -1. */
int write_all (int fd, const void *buf, size_t n);
int read_full (int fd, void *buf, size_t n);
void report (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* Report an error for op `idx` with errno `err` and exit(1). */
void fail (int idx, int err, const char *detail) __attribute__ ((noreturn));
/* The plan from plan_fd: its records up to OP_END (not counted in *nops); fails on a bad one. */
struct op *read_plan (int *nops);

/* main.c */
int write_file (const char *path, const char *content);

/* ns.c */
void restore_own_ns (void);
int op_setns (struct cur *c);
int op_cgroup_tasks (int idx, struct cur *c);
int op_cgroup_into (int idx, struct cur *c);
/* Clones; returns 0 in the child. The parent never returns. */
int op_clone (int idx, struct cur *c);

/* mounts.c */
int op_mount (struct cur *c, const char **detail);
int op_mkdir (struct cur *c, const char **detail);
int op_mknod (struct cur *c, const char **detail);
int op_touch (struct cur *c, const char **detail);
int op_symlink (struct cur *c, const char **detail);
int op_pivot_root (struct cur *c, const char **detail);
int op_move_root (struct cur *c, const char **detail);
int op_mask (struct cur *c, const char **detail);
int op_readonly (struct cur *c, const char **detail);
int mkdir_p (const char *path, mode_t mode);
int op_setxattr (struct cur *c, const char **detail);
int op_utimes (struct cur *c, const char **detail);

/* identity.c */
int op_rlimit (struct cur *c, const char **detail);
int op_identity (struct cur *c, const char **detail);
int op_caps (struct cur *c, const char **detail);
int op_seccomp (struct cur *c, const char **detail);
int prctl_no_new_privs (void);

/* ns.c */
int op_lo_up (struct cur *c, const char **detail);

/* supervise.c: the one loop of a process's parent, and the one format of how a process ended */
#define WATCH_MAX 32
struct watcher
{
  /* The fds to wait for (at most max) into p; returns how many. May set *timeout_ms (-1: none). */
  int (*watch) (struct pollfd *p, int max, int *timeout_ms);
  /* What happened on them. */
  void (*events) (const struct pollfd *p, int n);
  /* 1 when the mode acted on a signal itself (else it goes on to the process). */
  int (*take_signal) (int sig);
  /* A child other than the supervised process ended (and was reaped). */
  void (*reaped) (pid_t pid);
  /* Once a round, while the process runs. */
  void (*tick) (void);
};
/* Waits until pid ended, forwarding signals and reaping every child; returns its wait status.
   w: the mode's own work in between (NULL: none). */
int supervise_wait (pid_t pid, const struct watcher *w);
void supervise (pid_t pid) __attribute__ ((noreturn));
void status_line (int status, char *out, size_t n);
int status_code (int status);
void now_rfc3339 (char *out, size_t n);

/* tty.c */
int op_pty (struct cur *c, const char **detail);
int tty_enabled (void);
int tty_child (void);
void tty_supervise (pid_t pid) __attribute__ ((noreturn));
int tty_master (void);

/* bpf.c */
int run_bpf_op (uint32_t code, struct cur *c, const char **detail);

/* rooted.c */
int rooted_serve (struct cur *c) __attribute__ ((noreturn));

/* init.c */
int init_main (int argc, char **argv);

/* monitor.c */
int op_log (struct cur *c, const char **detail);
int op_exit_command (struct cur *c, const char **detail);
int op_health (struct cur *c, const char **detail);
int op_attach (struct cur *c, const char **detail);
int monitor_enabled (void);
int monitor_child_stdio (void);
void monitor (pid_t pid) __attribute__ ((noreturn));

/* console.c */
int op_console_connect (struct cur *c, const char **detail);
int op_console_setup (struct cur *c, const char **detail);
void console_use (int fd);
void console_close (void);

/* exec.c */
int op_resolve_exec (struct cur *c, const char **detail);
int op_open_fifo (struct cur *c, const char **detail);
int op_wait_fifo (struct cur *c, const char **detail);
int op_exec (struct cur *c, const char **detail);
int op_run_hook (struct cur *c, const char **detail);
int op_preserve_fds (struct cur *c, const char **detail);

#endif
