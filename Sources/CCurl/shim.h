#ifndef PRESCORE_CCURL_SHIM_H
#define PRESCORE_CCURL_SHIM_H
#include <curl/curl.h>

/* curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call.
   One typed wrapper per argument kind. */
static inline CURLcode prescore_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode prescore_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode prescore_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*prescore_curl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode prescore_curl_setopt_callback(CURL *h, CURLoption o, prescore_curl_data_callback v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode prescore_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
#endif
