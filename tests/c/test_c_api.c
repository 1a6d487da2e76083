/* Tests of the C API, compiled as C. Run with the fault shim preloaded (see CMakeLists.txt):
 * it lets these tests produce ENOSPC, EIO and a failed directory flush on demand. */
#define _GNU_SOURCE
#include <atomicwrites/atomicwrites.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int passed = 0, failed = 0, skipped = 0;
static char scratch[1024];

#define CHECK(condition)                                                    \
  do {                                                                      \
    if (condition) {                                                        \
      ++passed;                                                             \
    } else {                                                                \
      ++failed;                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
    }                                                                       \
  } while (0)

#define SKIP(why)                                      \
  do {                                                 \
    ++skipped;                                         \
    printf("skipped %s: %s\n", __func__, why);         \
    return;                                            \
  } while (0)

static const char* path(const char* name) {
  static char buffers[4][2048];
  static int next = 0;
  char* out = buffers[next++ % 4];
  snprintf(out, sizeof buffers[0], "%s/%s", scratch, name);
  return out;
}

static void put(const char* name, const char* content) {
  FILE* f = fopen(path(name), "wb");
  fputs(content, f);
  fclose(f);
}

/* 1 if `name` holds exactly `content`. */
static int holds(const char* name, const char* content) {
  char buffer[256] = {0};
  FILE* f = fopen(path(name), "rb");
  if (f == NULL) return 0;
  size_t n = fread(buffer, 1, sizeof buffer - 1, f);
  fclose(f);
  return n == strlen(content) && memcmp(buffer, content, n) == 0;
}

static int exists(const char* name) {
  struct stat st;
  return lstat(path(name), &st) == 0;
}

/* Number of entries in the scratch directory. */
static int entries(void) {
  DIR* dir = opendir(scratch);
  if (dir == NULL) return -1;
  int count = 0;
  struct dirent* entry;
  while ((entry = readdir(dir)) != NULL)
    if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) ++count;
  closedir(dir);
  return count;
}

static void fresh_scratch(void) {
  char command[2200];
  snprintf(command, sizeof command, "rm -rf '%s' && mkdir -p '%s'", scratch, scratch);
  if (system(command) != 0) abort();
}

static int shim_loaded(void) {
  const char* preload = getenv("LD_PRELOAD");
  return preload != NULL && strstr(preload, "aw_fault_shim") != NULL;
}

static void test_write_new_file(void) {
  fresh_scratch();
  aw_error_clear();
  CHECK(aw_write_file(path("a"), "hello", 5, NULL) == AW_OK);
  CHECK(holds("a", "hello"));
  CHECK(aw_error_last() == NULL);
  CHECK(entries() == 1);
}

static void test_existing_target_without_overwrite(void) {
  fresh_scratch();
  put("a", "old");
  CHECK(aw_write_file(path("a"), "new", 3, NULL) == AW_EEXISTS);
  const aw_error* e = aw_error_last();
  CHECK(e != NULL);
  if (e != NULL) {
    CHECK(e->code == AW_EEXISTS);
    CHECK(e->os_error == EEXIST);
    CHECK(e->phase == AW_PHASE_PREPARE);
    CHECK(e->published == 0);
    CHECK(strstr(e->message, path("a")) != NULL);
    CHECK(strstr(e->message, "File exists") != NULL);
  }
  CHECK(holds("a", "old"));
  CHECK(entries() == 1);
}

static void test_overwrite_and_options(void) {
  fresh_scratch();
  put("a", "old");
  aw_write_options options = AW_WRITE_OPTIONS_INIT;
  options.overwrite = 1;
  options.durability = AW_DURABILITY_CONSISTENT;
  options.mode = 0640;
  CHECK(aw_write_file(path("a"), "new", 3, &options) == AW_OK);
  CHECK(holds("a", "new"));
  struct stat st;
  CHECK(stat(path("a"), &st) == 0 && (st.st_mode & 07777) == 0640);

  aw_write_options initialised;
  CHECK(aw_write_options_init(&initialised, AW_WRITE_OPTIONS_VERSION) == AW_OK);
  CHECK(initialised.durability == AW_DURABILITY_DURABLE && initialised.overwrite == 0 &&
        initialised.mode == -1 && initialised.preserve == 1);
  CHECK(aw_write_options_init(&initialised, 99) == AW_EINVALID);
  CHECK(aw_write_options_init(NULL, AW_WRITE_OPTIONS_VERSION) == AW_EINVALID);
}

static void test_not_found_and_directory(void) {
  fresh_scratch();
  CHECK(aw_write_file(path("missing/a"), "x", 1, NULL) == AW_ENOTFOUND);
  CHECK(aw_error_last()->os_error == ENOENT);
  mkdir(path("dir"), 0755);
  aw_write_options options = AW_WRITE_OPTIONS_INIT;
  options.overwrite = 1;
  CHECK(aw_write_file(path("dir"), "x", 1, &options) == AW_EISDIR);
  CHECK(entries() == 1);
}

static void test_invalid_arguments(void) {
  fresh_scratch();
  aw_write_options options = AW_WRITE_OPTIONS_INIT;
  CHECK(aw_write_file(NULL, "x", 1, NULL) == AW_EINVALID);
  CHECK(aw_write_file("", "x", 1, NULL) == AW_EINVALID);
  CHECK(aw_write_file(path("a"), NULL, 1, NULL) == AW_EINVALID);
  options.version = 99;
  CHECK(aw_write_file(path("a"), "x", 1, &options) == AW_EINVALID);
  options.version = AW_WRITE_OPTIONS_VERSION;
  options.mode = 010000;
  CHECK(aw_write_file(path("a"), "x", 1, &options) == AW_EINVALID);
  options.mode = -1;
  options.durability = (aw_durability)7;
  CHECK(aw_write_file(path("a"), "x", 1, &options) == AW_EINVALID);
  options.durability = AW_DURABILITY_DURABLE;
  options.symlinks = (aw_symlink_policy)-3;
  CHECK(aw_write_file(path("a"), "x", 1, &options) == AW_EINVALID);
  options.symlinks = AW_SYMLINKS_FOLLOW;
  options.hard_links = (aw_hard_link_policy)5;
  CHECK(aw_write_file(path("a"), "x", 1, &options) == AW_EINVALID);
  CHECK(aw_error_last()->code == AW_EINVALID);
  CHECK(entries() == 0);
  CHECK(aw_file_write(NULL, "x", 1) == AW_EINVALID);
  CHECK(aw_file_commit(NULL) == AW_EINVALID);
  CHECK(aw_file_open(NULL, path("a"), NULL) == AW_EINVALID);
  CHECK(aw_write_file(path("empty"), NULL, 0, NULL) == AW_OK); /* no bytes: valid */
}

static void test_symlink_refused(void) {
  fresh_scratch();
  put("real", "old");
  CHECK(symlink("real", path("link")) == 0);
  aw_write_options options = AW_WRITE_OPTIONS_INIT;
  options.overwrite = 1;
  options.symlinks = AW_SYMLINKS_REFUSE;
  CHECK(aw_write_file(path("link"), "x", 1, &options) == AW_ELOOP);
  CHECK(holds("real", "old"));
}

static void test_file_handle_commit(void) {
  fresh_scratch();
  aw_file* file = NULL;
  CHECK(aw_file_open(&file, path("f"), NULL) == AW_OK);
  CHECK(file != NULL);
  CHECK(aw_file_write(file, "abc", 3) == AW_OK);
  CHECK(aw_file_write(file, "def", 3) == AW_OK);
  CHECK(!exists("f"));
  CHECK(aw_file_commit(file) == AW_OK);
  CHECK(holds("f", "abcdef"));
  CHECK(aw_file_discard(file) == AW_OK); /* after commit: nothing to undo */
  CHECK(holds("f", "abcdef"));
  aw_file_free(file);
  CHECK(holds("f", "abcdef"));
  CHECK(entries() == 1);
}

static void test_file_handle_discarded_or_freed_without_commit(void) {
  fresh_scratch();
  aw_file* file = NULL;
  CHECK(aw_file_open(&file, path("f"), NULL) == AW_OK);
  CHECK(aw_file_write(file, "abc", 3) == AW_OK);
  CHECK(aw_file_discard(file) == AW_OK);
  CHECK(aw_file_commit(file) != AW_OK);
  aw_file_free(file);
  CHECK(!exists("f"));

  CHECK(aw_file_open(&file, path("g"), NULL) == AW_OK);
  CHECK(aw_file_write(file, "abc", 3) == AW_OK);
  aw_file_free(file); /* never committed: rolled back */
  CHECK(!exists("g"));
  CHECK(entries() == 0);
  aw_file_free(NULL);

  put("h", "old");
  file = (aw_file*)1;
  CHECK(aw_file_open(&file, path("h"), NULL) == AW_EEXISTS);
  CHECK(file == NULL);
}

static void test_replace_and_move(void) {
  fresh_scratch();
  put("src", "new");
  put("dst", "old");
  CHECK(aw_replace_atomic(path("src"), path("dst"), AW_DURABILITY_DURABLE) == AW_OK);
  CHECK(holds("dst", "new") && !exists("src"));
  put("src", "newer");
  CHECK(aw_move_atomic(path("src"), path("dst"), AW_DURABILITY_DURABLE) == AW_EEXISTS);
  CHECK(holds("src", "newer") && holds("dst", "new"));
  CHECK(aw_move_atomic(path("src"), path("moved"), AW_DURABILITY_NONE) == AW_OK);
  CHECK(holds("moved", "newer"));
  CHECK(aw_replace_atomic(path("nothing"), path("dst"), AW_DURABILITY_DURABLE) == AW_ENOTFOUND);
  CHECK(aw_replace_atomic(NULL, path("dst"), AW_DURABILITY_DURABLE) == AW_EINVALID);
  CHECK(aw_move_atomic(path("moved"), path("x"), (aw_durability)42) == AW_EINVALID);
  CHECK(holds("moved", "newer"));
}

static void test_cross_device(void) {
  fresh_scratch();
  struct stat a, b;
  if (stat(scratch, &a) != 0 || stat("/dev/shm", &b) != 0 || a.st_dev == b.st_dev)
    SKIP("/dev/shm is not another filesystem here");
  put("src", "x");
  char other[64];
  snprintf(other, sizeof other, "/dev/shm/aw-c-test-%d", (int)getpid());
  CHECK(aw_replace_atomic(path("src"), other, AW_DURABILITY_DURABLE) == AW_EXDEV);
  CHECK(aw_error_last()->os_error == EXDEV);
  CHECK(holds("src", "x"));
  unlink(other);
}

static void test_permission_denied(void) {
  fresh_scratch();
  mkdir(path("locked"), 0555);
  chmod(scratch, 0755);
  if (geteuid() != 0) {
    CHECK(aw_write_file(path("locked/f"), "x", 1, NULL) == AW_EACCES);
    return;
  }
  pid_t child = fork();
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    int code = aw_write_file(path("locked/f"), "x", 1, NULL);
    _exit(code == AW_EACCES && aw_error_last()->os_error == EACCES ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 2) SKIP("cannot switch to user nobody");
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_no_space(void) {
  if (!shim_loaded()) SKIP("the fault shim is not preloaded");
  fresh_scratch();
  put("a", "old");
  aw_write_options options = AW_WRITE_OPTIONS_INIT;
  options.overwrite = 1;
  setenv("AW_SHIM_FAIL", "write:ENOSPC", 1);
  int code = aw_write_file(path("a"), "new", 3, &options);
  unsetenv("AW_SHIM_FAIL");
  CHECK(code == AW_ENOSPC);
  CHECK(aw_error_last()->phase == AW_PHASE_WRITE);
  CHECK(strcmp(aw_phase_name(aw_error_last()->phase), "write") == 0);
  CHECK(holds("a", "old"));
  CHECK(entries() == 1);
}

static void test_failed_flush_is_a_plain_error(void) {
  if (!shim_loaded()) SKIP("the fault shim is not preloaded");
  fresh_scratch();
  setenv("AW_SHIM_FAIL", "fdatasync:EIO", 1);
  int code = aw_write_file(path("a"), "new", 3, NULL);
  unsetenv("AW_SHIM_FAIL");
  CHECK(code == AW_ERROR);
  CHECK(aw_error_last()->os_error == EIO);
  CHECK(aw_error_last()->phase == AW_PHASE_FLUSH);
  CHECK(aw_error_last()->published == 0);
  CHECK(!exists("a"));
}

static void test_failed_directory_flush_is_published(void) {
  if (!shim_loaded()) SKIP("the fault shim is not preloaded");
  fresh_scratch();
  setenv("AW_SHIM_FAIL", "fsync:EIO", 1);
  int code = aw_write_file(path("a"), "new", 3, NULL);
  unsetenv("AW_SHIM_FAIL");
  CHECK(code == AW_EPUBLISHED);
  CHECK(aw_error_last()->phase == AW_PHASE_DIRECTORY_FLUSH);
  CHECK(aw_error_last()->published == 1);
  CHECK(aw_error_last()->os_error == EIO);
  CHECK(holds("a", "new"));
}

static void test_stale_temp_cleanup(void) {
  fresh_scratch();
  put(".a.aw-0123456789ab.tmp", "left behind");
  put("a", "keep");
  size_t removed = 99;
  CHECK(aw_remove_stale_temp_files(scratch, 0, &removed) == AW_OK);
  CHECK(removed == 1);
  CHECK(entries() == 1 && holds("a", "keep"));
  CHECK(aw_remove_stale_temp_files(path("missing"), 0, &removed) == AW_ENOTFOUND);
  CHECK(removed == 0);
}

static void* fail_in_thread(void* result) {
  *(int*)result = aw_error_last() == NULL; /* the main thread's error is not ours */
  aw_write_file(NULL, "x", 1, NULL);
  *(int*)result &= aw_error_last() != NULL && aw_error_last()->code == AW_EINVALID;
  return NULL;
}

static void test_errors_are_per_thread(void) {
  fresh_scratch();
  put("a", "old");
  CHECK(aw_write_file(path("a"), "x", 1, NULL) == AW_EEXISTS);
  int thread_ok = 0;
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, fail_in_thread, &thread_ok) == 0);
  pthread_join(thread, NULL);
  CHECK(thread_ok);
  CHECK(aw_error_last() != NULL && aw_error_last()->code == AW_EEXISTS);
  aw_error_clear();
  CHECK(aw_error_last() == NULL);
}

static void test_version(void) {
  int major = -1, minor = -1, patch = -1;
  aw_version(&major, &minor, &patch);
  CHECK(major >= 0 && minor >= 0 && patch >= 0);
  aw_version(NULL, NULL, NULL);
}

int main(void) {
  const char* base = getenv("TMPDIR");
  snprintf(scratch, sizeof scratch, "%s/aw-c-test-%d", base ? base : "/tmp", (int)getpid());
  test_write_new_file();
  test_existing_target_without_overwrite();
  test_overwrite_and_options();
  test_not_found_and_directory();
  test_invalid_arguments();
  test_symlink_refused();
  test_file_handle_commit();
  test_file_handle_discarded_or_freed_without_commit();
  test_replace_and_move();
  test_cross_device();
  test_permission_denied();
  test_no_space();
  test_failed_flush_is_a_plain_error();
  test_failed_directory_flush_is_published();
  test_stale_temp_cleanup();
  test_errors_are_per_thread();
  test_version();
  char command[1200];
  snprintf(command, sizeof command, "rm -rf '%s'", scratch);
  if (system(command) != 0) ++failed;
  printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  return failed == 0 ? 0 : 1;
}
