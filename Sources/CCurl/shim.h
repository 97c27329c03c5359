// Typed wrappers over libcurl's variadic curl_easy_setopt / curl_easy_getinfo,
// which Swift cannot call directly. Only the SMTP transport imports this module.
#ifndef AFTERSALES_CCURL_SHIM_H
#define AFTERSALES_CCURL_SHIM_H

#include <curl/curl.h>

static inline CURLcode aftersales_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode aftersales_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode aftersales_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode aftersales_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

typedef size_t (*aftersales_curl_data_callback)(char *buffer, size_t size, size_t nitems, void *userdata);

static inline CURLcode aftersales_curl_setopt_callback(CURL *handle, CURLoption option, aftersales_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

typedef int (*aftersales_curl_debug_callback)(CURL *handle, curl_infotype type, char *data, size_t size, void *userdata);

static inline CURLcode aftersales_curl_setopt_debug(CURL *handle, aftersales_curl_debug_callback value) {
    return curl_easy_setopt(handle, CURLOPT_DEBUGFUNCTION, value);
}

static inline CURLcode aftersales_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
