/* Reference sender for `make bench`: sends every .eml file of a directory to one recipient
 * over SMTP with libcurl, reusing one easy handle (one connection), as plainly as possible. */
#include <curl/curl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct upload { const char *data; size_t size, offset; };

static size_t reader(char *buffer, size_t size, size_t count, void *userdata) {
    struct upload *u = userdata;
    size_t n = size * count, left = u->size - u->offset;
    if (n > left) n = left;
    memcpy(buffer, u->data + u->offset, n);
    u->offset += n;
    return n;
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: curl_send URL DIR\n"); return 2; }
    struct dirent **files;
    int count = scandir(argv[2], &files, NULL, by_name), sent = 0;
    CURL *curl = curl_easy_init();
    struct curl_slist *rcpt = curl_slist_append(NULL, "<bench@example.com>");
    curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, "<aftersales@example.com>");
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, reader);
    for (int i = 0; i < count; i++) {
        if (!strstr(files[i]->d_name, ".eml")) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[2], files[i]->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) { perror(path); return 1; }
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        rewind(f);
        char *data = malloc(size);
        if (fread(data, 1, size, f) != (size_t)size) return 1;
        fclose(f);
        struct upload u = { data, (size_t)size, 0 };
        curl_easy_setopt(curl, CURLOPT_READDATA, &u);
        if (curl_easy_perform(curl) == CURLE_OK) sent++;
        free(data);
    }
    curl_easy_cleanup(curl);
    printf("%d\n", sent);
    return 0;
}
