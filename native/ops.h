/* berth-helper: the op codes of the plan wire format. Mirrored in src/sys/helper-ops.ts;
 * a unit test checks that the two agree. Record: u32 op, u32 len, payload (u64 LE numbers and
 * NUL-terminated strings, in the order given per op below). */
#ifndef BERTH_OPS_H
#define BERTH_OPS_H

#define OP_END 0           /* end of plan */
/* Parent stage (before OP_CLONE): OP_CGROUP_TASKS, OP_CGROUP_INTO, OP_OPEN_FIFO, OP_CONSOLE_CONNECT, OP_SETNS, ... */
#define OP_SETNS 1         /* u64 nstype, str path: join a namespace (parent stage) */
#define OP_CLONE 2         /* u64 flags, u64 detach, str uid_map, str gid_map: the child joins the cgroups given before */
#define OP_MOUNT 3         /* u64 flags, str source, str target, str fstype, str data */
#define OP_MKDIR 4         /* u64 mode, str path (with parents) */
#define OP_MKNOD 5         /* u64 mode, u64 dev, u64 uid, u64 gid, str path */
#define OP_TOUCH 6         /* u64 mode, str path: create an empty file (and parents) if missing */
#define OP_SYMLINK 7       /* str target, str path; EEXIST is fine */
#define OP_CHDIR 8         /* str path */
#define OP_PIVOT_ROOT 9    /* str new_root */
#define OP_MOVE_ROOT 10    /* str new_root: MS_MOVE onto / and chroot (no pivot_root) */
#define OP_MASK 11         /* str path: hide a file (bind /dev/null) or dir (read-only tmpfs); ENOENT ignored */
#define OP_READONLY 12     /* str path: bind onto itself read-only; ENOENT ignored */
#define OP_WRITE_FILE 13   /* str path, str content */
#define OP_SETHOSTNAME 14  /* str name */
#define OP_SETDOMAINNAME 15 /* str name */
#define OP_RLIMIT 16       /* u64 resource, u64 soft, u64 hard */
#define OP_UMASK 17        /* u64 mask */
#define OP_SETSID 18       /* */
#define OP_CONSOLE_CONNECT 19 /* str socket path: connect now, used by OP_CONSOLE_SETUP */
#define OP_CONSOLE_SETUP 20   /* u64 rows, u64 cols, u64 uid, u64 gid: new pty; master sent over the socket; slave becomes stdio */
#define OP_IDENTITY 21     /* u64 uid, u64 gid, u64 ngroups, u64 groups[ngroups] */
#define OP_CAPS 22         /* u64 drop_bounding, u64 effective, u64 permitted, u64 inheritable, u64 ambient */
#define OP_NO_NEW_PRIVS 23 /* */
#define OP_SECCOMP 24      /* u64 flags, u64 len, bytes program[len] */
#define OP_RESOLVE_EXEC 25 /* str PATH value, str argv0: find the executable now; used by OP_EXEC */
#define OP_READY 26        /* report "ready" */
#define OP_OPEN_FIFO 27    /* str path: create and open the start fifo (parent stage; the child inherits it) */
#define OP_WAIT_FIFO 28    /* block until `start` writes to the fifo */
#define OP_EXEC 29         /* u64 argc, u64 envc, str argv[argc], str env[envc] */
#define OP_SYNC 30         /* str tag: report "sync TAG", wait for one byte on the plan fd */
#define OP_RUN_HOOK 31     /* u64 timeout_s, u64 argc, u64 envc, str path, str argv[], str env[], str stdin */
#define OP_PRESERVE_FDS 32 /* u64 n: keep fds 3..3+n-1 open across exec, close-on-exec the rest */
#define OP_PERSONALITY 33  /* u64 persona */
#define OP_UNSHARE 34      /* u64 flags (child stage) */
#define OP_CGROUP_TASKS 35 /* str a v1 cgroup's tasks file: opened now (parent stage); the child writes "0" (itself) there first thing */
#define OP_CHROOT 36       /* str path: chroot there and chdir to / (no mount namespace of its own) */
#define OP_FS_MODE 37      /* first record only: run the following ops here, without clone, and report "done" */
#define OP_SETXATTR 38     /* str path, str name, u64 len, bytes value[len]: lsetxattr */
#define OP_UMOUNT 39       /* u64 flags, str path */
#define OP_LCHOWN 40       /* u64 uid, u64 gid, str path */
#define OP_UTIMES 41       /* u64 atime_ns, u64 mtime_ns, str path (no symlink follow) */
#define OP_LOG 42          /* u64 passthrough, str log path, str status path (parent stage): monitor mode: stdout/stderr to the log as JSON lines (and to the helper's own stdout/stderr with passthrough), the end to the status file */
#define OP_EXIT_COMMAND 43 /* u64 argc, str argv[argc] (parent stage, with OP_LOG): run detached after the container ended */
#define OP_HEALTH 44       /* u64 interval_ms, u64 argc, str argv[argc] (parent stage, with OP_LOG): run every interval while the container runs */
#define OP_PTY 45          /* (parent stage, stay mode) a pty for the container; the helper copies between it and its own terminal */
#define OP_ATTACH 46       /* u64 open_stdin, str socket path (parent stage, with OP_LOG): clients attach there to the container's output (and input) */
#define OP_LO_UP 47        /* (child stage) bring the loopback interface of the container's network namespace up */
#define OP_CGROUP_INTO 48  /* u64 use_clone3, str cgroup2 dir (parent stage): clone3 into it (CLONE_INTO_CGROUP); else, or where clone3 is missing, the pid goes to its cgroup.procs */
/* fs mode only (bpf.c): maps go into slots 0.. in the order of their OP_BPF_MAP records */
#define OP_BPF_MAP 49      /* u64 type, u64 key_size, u64 value_size, u64 max_entries, u64 flags, str name, str cgroup dir, u64 attach_type, str prog name: the next slot holds the map of that name used by the program of that name attached at the cgroup for that type, else a new map */
#define OP_BPF_PROG 50     /* u64 prog_type, u64 attach_type, str cgroup dir, str name, str license, u64 len, bytes insns[len]: unless a program of that name is attached there for that type, load it (a map load's immediate is a slot) and attach it (BPF_F_ALLOW_MULTI) */
#define OP_BPF_UPDATE 51   /* u64 slot, u64 mode, u64 klen, bytes key, u64 vlen, bytes value: mode 0 sets, 1 adds unless present, 2 deletes when it holds the value */
#define OP_BPF_DETACH 52   /* u64 slot, u64 attach_type, str cgroup dir, str prog name: when the slot's map is empty, detach that program */
/* fs mode, the last op (rooted.c): serve the rooted file requests below on the plan fd */
#define OP_ROOTED 53       /* str root: open the root, answer on the result fd, serve requests until the plan fd ends */
#define OP_MAX 53

/* Requests of a rooted session (rooted.c): u32 code, u32 len, payload; the answer is u32 errno,
 * u32 len, payload. Paths are resolved inside the root (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
 * PARENT NAME: the parent resolved inside the root, NAME (one component, not "..") never followed.
 * STAT record: u64 mode, uid, gid, size, atime_ns, mtime_ns, rdev, dev, ino, nlink. */
#define RQ_STAT 1          /* u64 follow, str path -> STAT record */
#define RQ_READLINK 2      /* str path -> bytes target */
#define RQ_READDIR 3       /* u64 follow, str path -> (u8 d_type, str name)* */
#define RQ_OPEN 4          /* u64 follow, str path: a regular file, for reading -> u64 handle, STAT record */
#define RQ_READ 5          /* u64 handle, u64 max -> bytes (none at the end) */
#define RQ_CREATE 6        /* u64 mode, str parent, str name: O_CREAT|O_EXCL|O_NOFOLLOW, for writing -> u64 handle */
#define RQ_WRITE 7         /* u64 handle, bytes data */
#define RQ_CLOSE 8         /* u64 handle */
#define RQ_MKDIR 9         /* u64 mode, str parent, str name */
#define RQ_SYMLINK 10      /* str target, str parent, str name */
#define RQ_LINK 11         /* str existing path (not followed), str parent, str name */
#define RQ_MKNOD 12        /* u64 mode, u64 dev, str parent, str name */
#define RQ_LCHOWN 13       /* u64 uid, u64 gid, str parent, str name */
#define RQ_UTIMES 14       /* u64 atime_ns, u64 mtime_ns, str parent, str name */
#define RQ_UNLINK 15       /* str parent, str name */
#define RQ_RMDIR 16        /* str parent, str name */
#define RQ_CHMOD 17        /* u64 mode, str path (not followed; a symlink: ELOOP) */
#define RQ_SETXATTR 18     /* str path, str name, bytes value (not on a symlink) */
#define RQ_LISTXATTR 19    /* str path -> names, each NUL-terminated */
#define RQ_GETXATTR 20     /* str path, str name -> bytes value */
#define RQ_FSETMETA 21     /* u64 handle, u64 what (1 chown, 2 chmod, 4 times), u64 uid, u64 gid, u64 mode, u64 atime_ns, u64 mtime_ns: on the open file, in that order */
#define RQ_FSETXATTR 22    /* u64 handle, str name, bytes value: on the open file */

#endif
