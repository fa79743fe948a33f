/*
 * replay.c - main() for a fuzz target built without libFuzzer: run
 * LLVMFuzzerTestOneInput() once on every file named on the command line,
 * or inside a directory named there (not recursively). A target that
 * breaks an invariant aborts, so the test fails on the input that did it;
 * the name of each input is printed before it runs.
 */
#include "fuzz.h"

#include <dirent.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;

    if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET)) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    /* a private copy of exactly n bytes, so ASan sees reads past the end */
    buf = malloc(n ? (size_t)n : 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    fprintf(stderr, "replay: %s (%ld bytes)\n", path, n);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

static int run_dir(const char *dir, int *count)
{
    struct dirent **names;
    char path[PATH_MAX + 256];
    int n = scandir(dir, &names, NULL, alphasort), rc = 0;

    if (n < 0)
        return 0; /* a missing directory: nothing to replay */
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
            if (run_file(path))
                rc = -1;
            else
                (*count)++;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int count = 0, rc = 0;
    struct stat sb;

    for (int i = 1; i < argc; i++) {
        if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            if (run_dir(argv[i], &count))
                rc = 1;
        } else if (run_file(argv[i])) {
            rc = 1;
        } else {
            count++;
        }
    }
    printf("replay: %d inputs ran\n", count);
    return rc;
}
