/*
 * fuzz_http - libFuzzer harness: the HTTP API's request handling that needs no socket: the
 * request target (evhttp_uri_parse as evhttp does, the /api/ route through api_request, the
 * account name's %-decoding), the query string (evhttp_parse_query_str, then query_value for
 * each parameter, as query_into does) and a POST body (body_json).
 * Input: the first byte picks GET or POST, then the request target up to the first newline,
 * then the body. httpd.c is included so its static functions can be called as they are.
 */
#include "../../src/admin/httpd.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_query(const char *query, json_t *cmd)
{
    struct evkeyvalq q;
    char why[128];

    if (query == NULL || evhttp_parse_query_str(query, &q) != 0)
        return;
    for (struct evkeyval *kv = q.tqh_first; kv; kv = kv->next.tqe_next) {
        json_t *v = query_value(kv, why, sizeof(why));
        if (v && cmd)
            json_object_set_new(cmd, kv->key, v); /* fails (and frees v) on a non-UTF-8 key */
        else if (v)
            json_decref(v);
        else if (memchr(why, 0, sizeof(why)) == NULL)
            abort();
    }
    evhttp_clear_headers(&q);
}

static void
fuzz_body(const char *body, size_t n)
{
    struct evhttp_request *req = evhttp_request_new(NULL, NULL);
    json_t *obj = NULL;

    evbuffer_add(evhttp_request_get_input_buffer(req), body, n);
    int st = body_json(req, &obj);
    if ((st == 0) != (obj != NULL) || (st != 0 && st != 400 && st != 413))
        abort();
    json_decref(obj);
    evhttp_request_free(req);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 32768)
        return 0;
    int post = data[0] & 1;
    const char *rest = (const char *)data + 1, *end = (const char *)data + size;
    const char *nl = memchr(rest, '\n', (size_t)(end - rest));
    size_t tlen = nl ? (size_t)(nl - rest) : (size_t)(end - rest);
    char *target = strndup(rest, tlen);

    struct evhttp_uri *uri = evhttp_uri_parse_with_flags(target, 0);
    if (uri) {
        const char *path = evhttp_uri_get_path(uri);
        json_t *cmd = NULL;
        if (path && strncmp(path, "/api/", 5) == 0)
            cmd = api_request(path + 5, post);
        else if (path && path[0] == '/')
            (void)file_type(path[1] ? path + 1 : "index.html"); /* on_file's type check */
        fuzz_query(evhttp_uri_get_query(uri), cmd);
        json_decref(cmd);
        evhttp_uri_free(uri);
    }
    free(target);
    if (nl)
        fuzz_body(nl + 1, (size_t)(end - nl - 1));
    return 0;
}
