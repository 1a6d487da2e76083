/* atomicwrites C API: atomic, durable file writes from any language with a C FFI.
 *
 * Conventions (those of libgit2):
 *   - every name starts with aw_ / AW_;
 *   - functions return 0 on success or a negative aw_error_code;
 *   - after a failure, aw_error_last() describes it: the code, the OS error number, the phase
 *     that failed, whether the new content was published, and a message. It is per thread
 *     and stays until the next failure on that thread or aw_error_clear();
 *   - options are a struct with a version field, initialised with AW_WRITE_OPTIONS_INIT or
 *     aw_write_options_init();
 *   - handles are opaque and released with their _free function;
 *   - paths are NUL-terminated UTF-8 (on POSIX: passed to the OS as bytes, unchanged).
 * No C++ exception ever crosses this boundary. */
#ifndef ATOMICWRITES_H
#define ATOMICWRITES_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  AW_OK = 0,
  AW_ERROR = -1,      /* any failure without a more specific code below */
  AW_EEXISTS = -2,    /* the target exists and overwrite is off */
  AW_ENOTFOUND = -3,  /* a path (the target's directory, the source) does not exist */
  AW_EACCES = -4,     /* permission denied, or a read-only filesystem */
  AW_ENOSPC = -5,     /* no space left, or quota exhausted */
  AW_EXDEV = -6,      /* source/temp_dir and target are on different filesystems */
  AW_EINVALID = -7,   /* bad argument: NULL or empty path, bad option, wrong version */
  AW_EISDIR = -8,     /* the target is a directory */
  AW_ELOOP = -9,      /* a symbolic link was refused, or links loop */
  AW_EPUBLISHED = -10 /* the new content WAS published, a later step failed (directory
                         flush: durability unknown); nothing was rolled back */
} aw_error_code;

typedef enum {
  AW_DURABILITY_NONE = 0,       /* atomic for readers; no flush */
  AW_DURABILITY_CONSISTENT = 1, /* data flushed before publishing: old or new after a crash */
  AW_DURABILITY_DURABLE = 2     /* data and directory flushed: new after the call returns */
} aw_durability;

typedef enum {
  AW_SYMLINKS_FOLLOW = 0, /* write the link's final target; keep the link */
  AW_SYMLINKS_REPLACE = 1,
  AW_SYMLINKS_REFUSE = 2
} aw_symlink_policy;

typedef enum { AW_HARD_LINKS_SPLIT = 0, AW_HARD_LINKS_REFUSE = 1 } aw_hard_link_policy;

typedef enum {
  AW_PHASE_NONE = 0,
  AW_PHASE_PREPARE,
  AW_PHASE_CREATE_TEMP,
  AW_PHASE_WRITE,
  AW_PHASE_METADATA,
  AW_PHASE_FLUSH,
  AW_PHASE_PUBLISH,
  AW_PHASE_DIRECTORY_FLUSH,
  AW_PHASE_CLEANUP
} aw_phase;

#define AW_WRITE_OPTIONS_VERSION 1

typedef struct {
  unsigned int version;          /* AW_WRITE_OPTIONS_VERSION */
  int overwrite;                 /* 0 (default): fail with AW_EEXISTS if the target exists */
  aw_durability durability;      /* default AW_DURABILITY_DURABLE */
  int mode;                      /* permission bits 0..07777; -1 (default): keep / umask */
  int preserve;                  /* 1 (default): keep a replaced file's mode and owner */
  aw_symlink_policy symlinks;    /* default AW_SYMLINKS_FOLLOW */
  aw_hard_link_policy hard_links;/* default AW_HARD_LINKS_SPLIT */
  const char* temp_dir;          /* NULL or "": the target's directory */
  unsigned int windows_retry_budget_ms; /* Windows only; default 1000 */
} aw_write_options;

#define AW_WRITE_OPTIONS_INIT                                                        \
  {                                                                                  \
    AW_WRITE_OPTIONS_VERSION, 0, AW_DURABILITY_DURABLE, -1, 1, AW_SYMLINKS_FOLLOW,   \
        AW_HARD_LINKS_SPLIT, NULL, 1000                                              \
  }

/* Fills `options` with the defaults. `version` must be AW_WRITE_OPTIONS_VERSION. */
int aw_write_options_init(aw_write_options* options, unsigned int version);

typedef struct {
  int code;          /* the aw_error_code */
  int os_error;      /* errno (or GetLastError on Windows); 0 if none */
  aw_phase phase;    /* the step that failed */
  int published;     /* nonzero: the target holds the new content anyway */
  const char* message;
} aw_error;

/* The last failure on this thread, or NULL if none since aw_error_clear(). */
const aw_error* aw_error_last(void);
void aw_error_clear(void);
const char* aw_phase_name(aw_phase phase);

/* Writes `size` bytes at `data` to `path` in one atomic step. `options` may be NULL. */
int aw_write_file(const char* path, const void* data, size_t size, const aw_write_options* options);

/* A file written in steps. Nothing appears at `path` before aw_file_commit(). */
typedef struct aw_file aw_file;

int aw_file_open(aw_file** out, const char* path, const aw_write_options* options);
int aw_file_write(aw_file* file, const void* data, size_t size);
int aw_file_commit(aw_file* file);
/* Abandons the write: removes the temporary file. No-op after a commit. */
int aw_file_discard(aw_file* file);
/* Releases the handle; discards first if it was not committed. NULL is fine. */
void aw_file_free(aw_file* file);

/* rename(source, target) with the given durability; replaces an existing target. */
int aw_replace_atomic(const char* source, const char* target, aw_durability durability);
/* The same, but never replaces: AW_EEXISTS and both files untouched. */
int aw_move_atomic(const char* source, const char* target, aw_durability durability);

/* Removes this library's temporary files in `directory` older than `older_than_seconds`.
 * `removed` (may be NULL) receives how many. */
int aw_remove_stale_temp_files(const char* directory, unsigned long long older_than_seconds,
                               size_t* removed);

/* The library's version. Any pointer may be NULL. */
void aw_version(int* major, int* minor, int* patch);

#ifdef __cplusplus
}
#endif

#endif /* ATOMICWRITES_H */
