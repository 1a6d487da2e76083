/* GLib's g_file_set_contents_full as a benchmark contender (see bench/aw_bench.cpp for the
 * arguments). LEVEL: none, consistent or durable, GLib's own flags. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: glib_bench LEVEL replace|create|big DIR COUNT SIZE MODE\n");
    return 2;
  }
  const char *level = argv[1], *workload = argv[2], *dir = argv[3];
  long count = atol(argv[4]);
  size_t size = strtoull(argv[5], NULL, 10);
  GFileSetContentsFlags flags = G_FILE_SET_CONTENTS_NONE;
  if (strcmp(level, "consistent") == 0) flags = G_FILE_SET_CONTENTS_CONSISTENT;
  if (strcmp(level, "durable") == 0)
    flags = G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE;
  char* data = malloc(size);
  memset(data, 'x', size);
  if (strcmp(workload, "big") == 0) count = 1;
  gint64 start = g_get_monotonic_time();
  for (long i = 0; i < count; ++i) {
    char name[64];
    snprintf(name, sizeof name, strcmp(workload, "create") == 0 ? "f%ld" : "f", i);
    char* path = g_build_filename(dir, name, NULL);
    GError* error = NULL;
    if (!g_file_set_contents_full(path, data, (gssize)size, flags, 0644, &error)) {
      fprintf(stderr, "glib_bench: %s\n", error->message);
      return 1;
    }
    g_free(path);
  }
  printf("%.6f\n", (double)(g_get_monotonic_time() - start) / 1e6);
  free(data);
  return 0;
}
