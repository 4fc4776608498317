/* HTTP plumbing shared by hq-server's endpoints: JSON replies and errors in
 * one shape, request bodies (JSON or form-encoded) read into a JsonObject,
 * typed field access with errors a caller can show, HTTP Basic
 * authentication against the API keyring, the body size limit, and one log
 * line per request.
 *
 * Every error reply has the shape of the reference app's token server,
 *   {"error": {"message": "...", "explanation": "..."}, "status": 400}
 * and below /v1/ also Twilio's REST error members, so that Twilio's SDKs
 * read err.code and err.message:
 *   {"code": 20404, "message": "<explanation>", "more_info": "<url>", ...}
 */
#ifndef __HQ_HTTP_H__
#define __HQ_HTTP_H__

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include <hq/hqtoken.h>
#include "hqratelimit.h"

G_BEGIN_DECLS

/* Largest request body accepted, bytes; larger bodies get 413. */
#define HQ_HTTP_MAX_BODY (64 * 1024)

#define HQ_HTTP_ERROR (hq_http_error_quark ())
GQuark hq_http_error_quark (void);

typedef enum
{
  HQ_HTTP_ERROR_BAD_REQUEST, /* 400 */
  HQ_HTTP_ERROR_MALFORMED_JSON, /* 400 */
  HQ_HTTP_ERROR_TOO_LARGE, /* 413 */
  HQ_HTTP_ERROR_UNSUPPORTED, /* 415 */
} HqHttpError;

/* Installs the body limit and the per-request log line on @server.  A
 * body over the limit is refused before it is read: a Content-Length over
 * it at once, a chunked body when it passes it; either way the reply is
 * 413 and the connection closes. */
void hq_http_setup (SoupServer *server);

/* Lets requests to exactly @path carry bodies up to @max bytes (an upload
 * endpoint) instead of HQ_HTTP_MAX_BODY; over it the reply is 413 "file
 * too large" with @explanation (which should say the limit), and the
 * connection closes unread. */
void hq_http_allow_upload (SoupServer *server, const gchar *path, gint64 max,
    const gchar *explanation);

/* Replies @status with the usual error body itself, outside libsoup, and
 * closes the connection without reading the request any further. */
void hq_http_refuse_and_close (SoupServerMessage *msg, guint status,
    const gchar *message, const gchar *explanation);

/* The client's IP address as text (free it). */
gchar *hq_http_remote_ip (SoupServerMessage *msg);

/* TRUE when @limit lets one more request from the client's address
 * through; else replies 429 with Retry-After ("At most N @what a minute
 * ...") and returns FALSE. */
gboolean hq_http_rate_limit (
    SoupServerMessage *msg, HqRateLimit *limit, const gchar *what);

/* Replies with @status and @root serialised; takes @root. */
void hq_http_reply_json (SoupServerMessage *msg, guint status, JsonNode *root);
void hq_http_reply_object (
    SoupServerMessage *msg, guint status, JsonObject *obj);
void hq_http_reply_error (SoupServerMessage *msg, guint status,
    const gchar *message, const gchar *explanation);
/* The error body hq_http_reply_error sends (a new object). */
JsonObject *hq_http_error_body (SoupServerMessage *msg, guint status,
    const gchar *message, const gchar *explanation);
/* Replies with the status matching an HQ_HTTP_ERROR. */
void hq_http_reply_gerror (SoupServerMessage *msg, const GError *error);

/* Sets member @name to @value, or to null when @value is NULL. */
void hq_json_set_string_or_null (
    JsonObject *obj, const gchar *name, const gchar *value);

/* TRUE when the method is one of @methods (NULL-terminated); else replies
 * 405 with an Allow header and returns FALSE. */
gboolean hq_http_allow_methods (
    SoupServerMessage *msg, const gchar *const *methods);

/* TRUE when @path is @expected; else replies 404 and returns FALSE.
 * (libsoup hands a handler every path below its own.) */
gboolean hq_http_exact_path (
    SoupServerMessage *msg, const gchar *path, const gchar *expected);

/* Replies 404 for a path no endpoint serves. */
void hq_http_reply_not_found (SoupServerMessage *msg, const gchar *path);

/* Reads the request body.  With @allow_form, application/x-www-form-
 * urlencoded bodies are accepted too and their fields become string
 * members.  An empty body is an empty object. */
JsonObject *hq_http_read_body (
    SoupServerMessage *msg, gboolean allow_form, GError **error);

/* Field access.  Each returns FALSE with a 400 error naming the field when
 * the value has the wrong type; an absent field leaves *out untouched.
 * Form fields arrive as strings, so booleans and integers accept
 * "true"/"false" and decimal strings too. */
gboolean hq_http_field_string (
    JsonObject *body, const gchar *name, const gchar **out, GError **error);
gboolean hq_http_field_bool (
    JsonObject *body, const gchar *name, gboolean *out, GError **error);
gboolean hq_http_field_int (
    JsonObject *body, const gchar *name, gint64 *out, GError **error);

/* REST parameters are PascalCase, as Twilio's ("UniqueName"); these accept
 * the snake_case spelling ("unique_name") too. */
gboolean hq_http_rest_string (
    JsonObject *body, const gchar *name, const gchar **out, GError **error);
gboolean hq_http_rest_int (
    JsonObject *body, const gchar *name, gint64 *out, GError **error);
gboolean hq_http_rest_bool (
    JsonObject *body, const gchar *name, gboolean *out, GError **error);

/* A structured parameter (a JSON array or object): the member as given in
 * a JSON body, or parsed from its text in a form body.  *out is a new node,
 * or NULL when absent; FALSE with a 400 error when the text is not JSON. */
gboolean hq_http_rest_json (
    JsonObject *body, const gchar *name, JsonNode **out, GError **error);

/* The Rules parameter of a POST (recording rules, subscribe rules) from
 * the body of @msg: a JSON array, not yet checked rule by rule (new
 * reference).  NULL after replying 400 with what is wrong. */
JsonArray *hq_http_read_rules (SoupServerMessage *msg);

/* Checks HTTP Basic credentials (API key sid : secret) against @keyring,
 * with libsoup's SoupAuthDomainBasic (realm "hqrooms").  Returns the key
 * sid (free it), or NULL after replying 401 with a Twilio error and the
 * Basic challenge. */
gchar *hq_http_basic_auth (SoupServerMessage *msg, const HqKeyring *keyring);

/* Lists: Page and PageSize query parameters, Twilio's list shape. */
#define HQ_HTTP_PAGE_SIZE_DEFAULT 50
#define HQ_HTTP_PAGE_SIZE_MAX 1000

typedef struct
{
  guint page;
  guint size;
} HqHttpPaging;

/* The base URL the client used ("http://<Host header>", https over
 * TLS). */
gchar *hq_http_base_url (SoupServerMessage *msg);
/* --- short-lived media links ---
 *
 * GET /v1/MediaLinks/{sid}?Expires=&Signature= serves a recording's, a
 * composition's or a chat attachment's file to whoever holds a link that
 * has not expired: the signature (hex HMAC-SHA256 over "<sid>:<expiry>",
 * keyed with the server's per-start media secret) is the permission. */

typedef enum
{
  HQ_MEDIA_LINK_OK,
  HQ_MEDIA_LINK_FORGED, /* no signature, or not one this server made */
  HQ_MEDIA_LINK_EXPIRED,
} HqMediaLinkCheck;

/* "@base/v1/MediaLinks/@sid?Expires=...&Signature=..." valid for @ttl_s
 * seconds; @base may be "" (a path); *@expires (may be NULL) gets the
 * expiry in unix seconds. */
gchar *hq_media_link_new (const gchar *base, const gchar *secret,
    const gchar *sid, gint64 ttl_s, gint64 *expires);
/* Checks the Expires and Signature of @query for @sid. */
HqMediaLinkCheck hq_media_link_check (
    const gchar *secret, const gchar *sid, GHashTable *query);
/* Serves @file as the body, of content type @type, as a download named
 * @name (ASCII without quotes); 404 when the file is gone. */
void hq_http_reply_file (SoupServerMessage *msg, const gchar *file,
    const gchar *type, const gchar *name);
/* The same for a file already open (@mapped may be NULL: 404). */
void hq_http_reply_mapped_file (SoupServerMessage *msg, GMappedFile *mapped,
    const gchar *type, const gchar *name);
/* The headers of a download named @name: attachment, never sniffed. */
void hq_http_set_download_headers (SoupServerMessage *msg, const gchar *name);

/* Reads Page, PageSize and PageToken (which page URLs carry) from @query;
 * FALSE after replying 400. */
gboolean hq_http_read_paging (
    SoupServerMessage *msg, GHashTable *query, HqHttpPaging *paging);
/* Replies {key: items, meta: {page, page_size, first_page_url, url,
 * previous_page_url, next_page_url, key}}; takes @items.  @rows is how many
 * rows the store returned for a request of size + 1 (more means a next
 * page). */
void hq_http_reply_page (SoupServerMessage *msg, const gchar *path,
    GHashTable *query, const HqHttpPaging *paging, const gchar *key,
    JsonArray *items, guint rows);

/* Every value of query parameter @name, in order (a repeated parameter
 * is a list, as Twilio's SDKs send lists); an empty vector when absent. */
gchar **hq_http_query_all (SoupServerMessage *msg, const gchar *name);

/* TRUE when every query parameter is one of @filters (NULL-terminated) or
 * Page/PageSize; else replies 400 naming it and what the list takes, so
 * that no filter is silently ignored. */
gboolean hq_http_check_query (
    SoupServerMessage *msg, GHashTable *query, const gchar *const *filters);

/* TRUE when @value is NULL or one of @allowed (NULL-terminated); else
 * replies 400 listing them. */
gboolean hq_http_check_enum (SoupServerMessage *msg, const gchar *name,
    const gchar *value, const gchar *const *allowed);

/* Reads query date @name (ISO 8601, or a bare date at 00:00 UTC) as ms
 * since the epoch into @out_ms (0 when absent); replies 400 and returns
 * FALSE when it does not parse. */
gboolean hq_http_query_date (SoupServerMessage *msg, GHashTable *query,
    const gchar *name, gint64 *out_ms);

G_END_DECLS

#endif /* __HQ_HTTP_H__ */
