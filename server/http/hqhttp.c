/* HTTP plumbing; see hqhttp.h. */
#include "hqhttp.h"
#include "hqlog.h"
#include "hqmetrics.h"

#include <string.h>
#include <hq/hqprotocol.h>
#include <hq/hqutil.h>

#define HQ_HTTP_START_KEY "hq-http-start"

G_DEFINE_QUARK (hq - http - error - quark, hq_http_error);

/* --- replies --- */

void
hq_http_reply_json (SoupServerMessage *msg, guint status, JsonNode *root)
{
  gsize len = 0;
  gchar *text = json_to_string (root, FALSE);

  len = strlen (text);
  json_node_unref (root);
  soup_server_message_set_status (msg, status, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Cache-Control", "no-store");
  soup_server_message_set_response (
      msg, "application/json", SOUP_MEMORY_TAKE, text, len);
}

void
hq_http_reply_object (SoupServerMessage *msg, guint status, JsonObject *obj)
{
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (root, obj);
  hq_http_reply_json (msg, status, root);
}

/* Twilio's error code for a reply: the general codes its REST API answers
 * with (and its SDKs show as err.code), 53113 for a taken room name. */
static gint
twilio_code (guint status, const gchar *message)
{
  switch (status) {
    case 401:
      return 20003;
    case 404:
      return 20404;
    case 405:
      return 20004;
    case 409:
      return g_strcmp0 (message, "room exists") == 0 ? 53113 : 20409;
    case 413:
      return 20413;
    case 415:
      return 20415;
    case 429:
      return 20429;
    default:
      return status >= 500 ? 20500 : 20001;
  }
}

JsonObject *
hq_http_error_body (SoupServerMessage *msg, guint status, const gchar *message,
    const gchar *explanation)
{
  JsonObject *obj = json_object_new ();
  JsonObject *err = json_object_new ();
  GUri *uri = soup_server_message_get_uri (msg);

  /* The REST API answers as Twilio does, {code, message, more_info,
   * status}, the message being the sentence that says why; the short
   * message and the explanation stay under "error" as every endpoint has
   * always answered (our tests and tools read them). */
  if (uri && g_str_has_prefix (g_uri_get_path (uri), "/v1/")) {
    gint code = twilio_code (status, message);
    g_autofree gchar *more =
        g_strdup_printf ("https://www.twilio.com/docs/errors/%d", code);
    json_object_set_int_member (obj, "code", code);
    json_object_set_string_member (obj, "message", explanation);
    json_object_set_string_member (obj, "more_info", more);
  }
  json_object_set_string_member (err, "message", message);
  json_object_set_string_member (err, "explanation", explanation);
  json_object_set_object_member (obj, "error", err);
  json_object_set_int_member (obj, "status", status);
  return obj;
}

void
hq_http_reply_error (SoupServerMessage *msg, guint status, const gchar *message,
    const gchar *explanation)
{
  hq_http_reply_object (
      msg, status, hq_http_error_body (msg, status, message, explanation));
}

void
hq_http_reply_gerror (SoupServerMessage *msg, const GError *error)
{
  guint status = 400;
  const gchar *message = "bad request";

  if (error->domain == HQ_HTTP_ERROR) {
    switch (error->code) {
      case HQ_HTTP_ERROR_MALFORMED_JSON:
        message = "malformed JSON";
        break;
      case HQ_HTTP_ERROR_TOO_LARGE:
        status = 413;
        message = "request too large";
        break;
      case HQ_HTTP_ERROR_UNSUPPORTED:
        status = 415;
        message = "unsupported media type";
        break;
      default:
        break;
    }
  }
  hq_http_reply_error (msg, status, message, error->message);
}

void
hq_json_set_string_or_null (
    JsonObject *obj, const gchar *name, const gchar *value)
{
  if (value)
    json_object_set_string_member (obj, name, value);
  else
    json_object_set_null_member (obj, name);
}

gboolean
hq_http_allow_methods (SoupServerMessage *msg, const gchar *const *methods)
{
  const gchar *method = soup_server_message_get_method (msg);
  g_autofree gchar *allow = NULL;
  g_autofree gchar *explanation = NULL;

  if (g_strv_contains (methods, method))
    return TRUE;
  allow = g_strjoinv (", ", (gchar **)methods);
  explanation =
      g_strdup_printf ("%s is not allowed here; use %s.", method, allow);
  hq_http_reply_error (msg, 405, "method not allowed", explanation);
  soup_message_headers_replace (
      soup_server_message_get_response_headers (msg), "Allow", allow);
  return FALSE;
}

void
hq_http_reply_not_found (SoupServerMessage *msg, const gchar *path)
{
  g_autofree gchar *why =
      g_strdup_printf ("Nothing is served at %.200s.", path);

  hq_http_reply_error (msg, 404, "not found", why);
}

gboolean
hq_http_exact_path (
    SoupServerMessage *msg, const gchar *path, const gchar *expected)
{
  if (g_strcmp0 (path, expected) == 0)
    return TRUE;
  hq_http_reply_not_found (msg, path);
  return FALSE;
}

/* --- bodies --- */

/* A form body as an object: a field given once is a string, a field given
 * more than once (how Twilio's SDKs send a list: AudioSources=a&
 * AudioSources=b) an array of its strings in order. */
static JsonObject *
form_to_object (const gchar *text)
{
  g_auto (GStrv) pairs = g_strsplit (text, "&", -1);
  JsonObject *obj = json_object_new ();

  for (guint i = 0; pairs[i]; i++) {
    gchar *eq = strchr (pairs[i], '=');
    g_autofree gchar *name = NULL, *value = NULL;
    JsonNode *have;

    if (*pairs[i] == '\0')
      continue;
    if (eq)
      *eq = '\0';
    g_strdelimit (pairs[i], "+", ' ');
    name = g_uri_unescape_string (pairs[i], NULL);
    if (eq) {
      g_strdelimit (eq + 1, "+", ' ');
      value = g_uri_unescape_string (eq + 1, NULL);
    }
    if (name == NULL)
      continue;
    if (value == NULL)
      value = g_strdup ("");
    have = json_object_get_member (obj, name);
    if (have == NULL)
      json_object_set_string_member (obj, name, value);
    else if (JSON_NODE_HOLDS_ARRAY (have))
      json_array_add_string_element (json_node_get_array (have), value);
    else {
      JsonArray *list = json_array_new ();
      json_array_add_string_element (list, json_node_get_string (have));
      json_array_add_string_element (list, value);
      json_object_set_array_member (obj, name, list);
    }
  }
  return obj;
}

static gboolean
body_looks_like_json (const gchar *data, gsize len)
{
  gsize i = 0;

  while (i < len && g_ascii_isspace (data[i]))
    i++;
  return i < len && data[i] == '{';
}

JsonObject *
hq_http_read_body (SoupServerMessage *msg, gboolean allow_form, GError **error)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local = NULL;
  const gchar *ctype = soup_message_headers_get_content_type (headers, NULL);
  gsize len = 0;
  const gchar *data = g_bytes_get_data (bytes, &len);
  JsonNode *root;

  if (len > HQ_HTTP_MAX_BODY) {
    g_set_error (error, HQ_HTTP_ERROR, HQ_HTTP_ERROR_TOO_LARGE,
        "The request body has %zu bytes; at most %d are accepted.", len,
        HQ_HTTP_MAX_BODY);
    return NULL;
  }
  if (len == 0)
    return json_object_new ();
  if (memchr (data, '\0', len) != NULL || !g_utf8_validate (data, len, NULL)) {
    g_set_error (error, HQ_HTTP_ERROR, HQ_HTTP_ERROR_BAD_REQUEST,
        "The request body is not UTF-8 text.");
    return NULL;
  }
  /* `curl -d '{...}'` labels JSON as a form: a body that opens like a JSON
   * object is JSON whatever its label says (no form field starts with '{'). */
  if (ctype != NULL && !body_looks_like_json (data, len)
      && g_ascii_strcasecmp (ctype, "application/x-www-form-urlencoded") == 0) {
    g_autofree gchar *text = NULL;
    if (!allow_form) {
      g_set_error (error, HQ_HTTP_ERROR, HQ_HTTP_ERROR_UNSUPPORTED,
          "This endpoint takes a JSON body (Content-Type: application/json).");
      return NULL;
    }
    text = g_strndup (data, len);
    return form_to_object (text);
  }

  /* json-glib recurses once per level: bounded before it sees the text. */
  if (!hq_protocol_depth_ok (data, len, HQ_PROTOCOL_MAX_DEPTH)) {
    g_set_error (error, HQ_HTTP_ERROR, HQ_HTTP_ERROR_MALFORMED_JSON,
        "The request body is not plain JSON: nested more than %d levels "
        "deep, or with a comment or a single-quoted string.",
        HQ_PROTOCOL_MAX_DEPTH);
    return NULL;
  }
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, len, &local)) {
    g_set_error (error, HQ_HTTP_ERROR, HQ_HTTP_ERROR_MALFORMED_JSON,
        "The request body is not valid JSON: %s", local->message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, HQ_HTTP_ERROR, HQ_HTTP_ERROR_BAD_REQUEST,
        "The request body must be a JSON object.");
    return NULL;
  }
  return json_object_ref (json_node_get_object (root));
}

/* --- fields --- */

static JsonNode *
field_value (JsonObject *body, const gchar *name)
{
  JsonNode *node = json_object_get_member (body, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return NULL;
  return node;
}

static gboolean
wrong_type (const gchar *name, const gchar *what, GError **error)
{
  g_set_error (error, HQ_HTTP_ERROR, HQ_HTTP_ERROR_BAD_REQUEST,
      "The %s parameter must be %s.", name, what);
  return FALSE;
}

gboolean
hq_http_field_string (
    JsonObject *body, const gchar *name, const gchar **out, GError **error)
{
  JsonNode *node = field_value (body, name);

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return wrong_type (name, "a string", error);
  *out = json_node_get_string (node);
  return TRUE;
}

gboolean
hq_http_field_bool (
    JsonObject *body, const gchar *name, gboolean *out, GError **error)
{
  JsonNode *node = field_value (body, name);
  const gchar *s;

  if (node == NULL)
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (node)) {
    if (json_node_get_value_type (node) == G_TYPE_BOOLEAN) {
      *out = json_node_get_boolean (node);
      return TRUE;
    }
    if (json_node_get_value_type (node) == G_TYPE_STRING) {
      s = json_node_get_string (node);
      if (g_ascii_strcasecmp (s, "true") == 0) {
        *out = TRUE;
        return TRUE;
      }
      if (g_ascii_strcasecmp (s, "false") == 0) {
        *out = FALSE;
        return TRUE;
      }
    }
  }
  return wrong_type (name, "a boolean (true or false)", error);
}

gboolean
hq_http_field_int (
    JsonObject *body, const gchar *name, gint64 *out, GError **error)
{
  JsonNode *node = field_value (body, name);

  if (node == NULL)
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (node)) {
    GType t = json_node_get_value_type (node);
    if (t == G_TYPE_INT64) {
      *out = json_node_get_int (node);
      return TRUE;
    }
    if (t == G_TYPE_STRING) {
      const gchar *s = json_node_get_string (node);
      gchar *end = NULL;
      gint64 v = g_ascii_strtoll (s, &end, 10);
      if (end != s && *end == '\0') {
        *out = v;
        return TRUE;
      }
    }
  }
  return wrong_type (name, "a whole number", error);
}

/* "UniqueName" -> "unique_name" */
static gchar *
snake_case (const gchar *name)
{
  GString *out = g_string_new (NULL);

  for (const gchar *c = name; *c; c++) {
    if (g_ascii_isupper (*c) && c != name)
      g_string_append_c (out, '_');
    g_string_append_c (out, g_ascii_tolower (*c));
  }
  return g_string_free (out, FALSE);
}

/* The member @name or its snake_case spelling, whichever the body has. */
static const gchar *
rest_name (JsonObject *body, const gchar *name, gchar **snake)
{
  if (json_object_has_member (body, name))
    return name;
  *snake = snake_case (name);
  return *snake;
}

gboolean
hq_http_rest_string (
    JsonObject *body, const gchar *name, const gchar **out, GError **error)
{
  g_autofree gchar *snake = NULL;

  return hq_http_field_string (
      body, rest_name (body, name, &snake), out, error);
}

gboolean
hq_http_rest_json (
    JsonObject *body, const gchar *name, JsonNode **out, GError **error)
{
  g_autofree gchar *snake = NULL;
  const gchar *field = rest_name (body, name, &snake);
  JsonNode *node = json_object_get_member (body, field);
  g_autoptr (GError) local = NULL;

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING) {
    *out = json_node_copy (node);
    return TRUE;
  }
  if (!hq_protocol_depth_ok (json_node_get_string (node),
          strlen (json_node_get_string (node)), HQ_PROTOCOL_MAX_DEPTH)) {
    g_set_error (error, HQ_HTTP_ERROR, HQ_HTTP_ERROR_BAD_REQUEST,
        "%s is not plain JSON: nested more than %d levels deep, or with a "
        "comment or a single-quoted string.",
        name, HQ_PROTOCOL_MAX_DEPTH);
    return FALSE;
  }
  *out = json_from_string (json_node_get_string (node), &local);
  if (*out == NULL) {
    g_set_error (error, HQ_HTTP_ERROR, HQ_HTTP_ERROR_BAD_REQUEST,
        "%s is not valid JSON: %s", name,
        local ? local->message : "it is empty");
    return FALSE;
  }
  return TRUE;
}

JsonArray *
hq_http_read_rules (SoupServerMessage *msg)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) body = hq_http_read_body (msg, TRUE, &error);
  g_autoptr (JsonNode) rules = NULL;

  if (body == NULL || !hq_http_rest_json (body, "Rules", &rules, &error)) {
    hq_http_reply_gerror (msg, error);
    return NULL;
  }
  if (rules == NULL || !JSON_NODE_HOLDS_ARRAY (rules)) {
    hq_http_reply_error (msg, 400, "invalid parameter",
        "Rules must be a JSON array of rules, e.g. "
        "[{\"type\": \"include\", \"all\": true}].");
    return NULL;
  }
  return json_array_ref (json_node_get_array (rules));
}

gboolean
hq_http_rest_int (
    JsonObject *body, const gchar *name, gint64 *out, GError **error)
{
  g_autofree gchar *snake = NULL;

  return hq_http_field_int (body, rest_name (body, name, &snake), out, error);
}

gboolean
hq_http_rest_bool (
    JsonObject *body, const gchar *name, gboolean *out, GError **error)
{
  g_autofree gchar *snake = NULL;

  return hq_http_field_bool (body, rest_name (body, name, &snake), out, error);
}

/* --- authentication --- */

/* What the Basic check saw, for the 401's explanation. */
typedef struct
{
  const HqKeyring *keyring;
  gboolean checked; /* the credentials parsed as "sid:secret" */
} BasicCheck;

/* SoupAuthDomainBasic's callback: the API key's secret, compared in
 * constant time. */
static gboolean
check_api_key (SoupAuthDomain *domain, SoupServerMessage *msg, const char *sid,
    const char *secret, gpointer data)
{
  BasicCheck *check = data;
  const gchar *expected = hq_keyring_lookup (check->keyring, sid, NULL);

  check->checked = TRUE;
  /* Compare against something even for an unknown sid, so the time taken
   * does not tell which sids exist. */
  return hq_str_equal_const_time (secret, expected ? expected : sid)
      && expected != NULL;
}

gchar *
hq_http_basic_auth (SoupServerMessage *msg, const HqKeyring *keyring)
{
  const gchar *auth = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Authorization");
  BasicCheck check = { keyring, FALSE };
  g_autoptr (SoupAuthDomain) domain =
      soup_auth_domain_basic_new ("realm", "hqrooms", NULL);
  gchar *key_sid;

  soup_auth_domain_basic_set_auth_callback (
      domain, check_api_key, &check, NULL);
  key_sid = soup_auth_domain_accepts (domain, msg);
  if (key_sid)
    return key_sid;
  hq_http_reply_error (msg, 401, "authentication failed",
      auth == NULL || g_ascii_strncasecmp (auth, "Basic ", 6) != 0
          ? "Send HTTP Basic credentials: the API key sid as user name and "
            "its secret as password."
          : check.checked ? "The API key sid or secret is wrong."
                          : "The Basic credentials are not \"sid:secret\".");
  soup_auth_domain_challenge (domain, msg);
  return NULL;
}

/* --- limits and logging --- */

gchar *
hq_http_remote_ip (SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  if (!G_IS_INET_SOCKET_ADDRESS (remote))
    return g_strdup ("unknown");
  return g_inet_address_to_string (
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
}

gboolean
hq_http_rate_limit (
    SoupServerMessage *msg, HqRateLimit *limit, const gchar *what)
{
  g_autofree gchar *ip = hq_http_remote_ip (msg);
  g_autofree gchar *why = NULL, *after = NULL;
  guint retry = 0;

  if (hq_rate_limit_take (limit, ip, &retry))
    return TRUE;
  why = g_strdup_printf ("At most %u %s a minute are accepted from one "
                         "address; try again in %u s.",
      hq_rate_limit_per_minute (limit), what, retry);
  hq_http_reply_error (msg, 429, "too many requests", why);
  after = g_strdup_printf ("%u", retry);
  soup_message_headers_replace (
      soup_server_message_get_response_headers (msg), "Retry-After", after);
  return FALSE;
}

static void log_request (SoupServerMessage *msg, gboolean aborted);

/* A refused connection's last moments: the reply is written, the sending
 * side shut, and what the client still sends is read and dropped for a
 * little while (never kept), so that the client reads the reply instead of
 * a reset.  Then the connection closes. */
#define HQ_HTTP_LINGER_MS 2000
#define HQ_HTTP_LINGER_BYTES (4 * 1024 * 1024)

typedef struct
{
  GIOStream *stream;
  GSocket *socket; /* may be NULL */
  gchar *reply;
  gsize reply_len;
  gsize drained;
  GCancellable *cancel;
  guint timer;
  guint8 buf[16 * 1024];
} Refusal;

static void
refusal_close (Refusal *r)
{
  if (r->timer)
    g_source_remove (r->timer);
  g_io_stream_close (r->stream, NULL, NULL);
  g_object_unref (r->stream);
  g_clear_object (&r->socket);
  g_object_unref (r->cancel);
  g_free (r->reply);
  g_free (r);
}

static gboolean
refusal_timeout (gpointer user_data)
{
  Refusal *r = user_data;

  r->timer = 0;
  g_cancellable_cancel (r->cancel);
  return G_SOURCE_REMOVE;
}

static void
refusal_drained (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Refusal *r = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, NULL);

  if (n <= 0 || (r->drained += n) >= HQ_HTTP_LINGER_BYTES) {
    refusal_close (r);
    return;
  }
  g_input_stream_read_async (G_INPUT_STREAM (source), r->buf, sizeof r->buf,
      G_PRIORITY_LOW, r->cancel, refusal_drained, r);
}

static void
refusal_written (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Refusal *r = user_data;

  if (!g_output_stream_write_all_finish (
          G_OUTPUT_STREAM (source), res, NULL, NULL)) {
    refusal_close (r);
    return;
  }
  if (r->socket)
    g_socket_shutdown (r->socket, FALSE, TRUE, NULL);
  r->timer = g_timeout_add (HQ_HTTP_LINGER_MS, refusal_timeout, r);
  g_input_stream_read_async (g_io_stream_get_input_stream (r->stream), r->buf,
      sizeof r->buf, G_PRIORITY_LOW, r->cancel, refusal_drained, r);
}

/* The socket under libsoup's stream, to shut its sending side. */
static GSocket *
stream_socket (GIOStream *stream)
{
  g_autoptr (GIOStream) base = NULL;

  if (G_IS_SOCKET_CONNECTION (stream))
    return g_object_ref (
        g_socket_connection_get_socket (G_SOCKET_CONNECTION (stream)));
  if (g_object_class_find_property (
          G_OBJECT_GET_CLASS (stream), "base-iostream")
      == NULL)
    return NULL;
  g_object_get (stream, "base-iostream", &base, NULL);
  return base ? stream_socket (base) : NULL;
}

void
hq_http_refuse_and_close (SoupServerMessage *msg, guint status,
    const gchar *message, const gchar *explanation)
{
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autofree gchar *body = NULL;
  Refusal *r;
  GIOStream *stream;

  json_node_take_object (
      root, hq_http_error_body (msg, status, message, explanation));
  body = json_to_string (root, FALSE);

  soup_server_message_set_status (msg, status, NULL);
  log_request (msg, FALSE);
  stream = soup_server_message_steal_connection (msg);
  if (stream == NULL)
    return;
  r = g_new0 (Refusal, 1);
  r->stream = stream;
  r->socket = stream_socket (stream);
  r->cancel = g_cancellable_new ();
  r->reply = g_strdup_printf ("HTTP/1.1 %u %s\r\n"
                              "Content-Type: application/json\r\n"
                              "Content-Length: %zu\r\n"
                              "Cache-Control: no-store\r\n"
                              "Connection: close\r\n\r\n%s",
      status, soup_status_get_phrase (status), strlen (body), body);
  r->reply_len = strlen (r->reply);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (stream),
      r->reply, r->reply_len, G_PRIORITY_DEFAULT, r->cancel, refusal_written,
      r);
}

#define HQ_HTTP_BODY_SEEN_KEY "hq-http-body-seen"
#define HQ_HTTP_UPLOADS_KEY "hq-http-uploads"

/* A path that takes larger bodies (hq_http_allow_upload). */
typedef struct
{
  gchar *path;
  gint64 max;
  gchar *explanation;
} Upload;

static void
upload_free (gpointer data)
{
  Upload *u = data;

  g_free (u->path);
  g_free (u->explanation);
  g_free (u);
}

void
hq_http_allow_upload (
    SoupServer *server, const gchar *path, gint64 max, const gchar *explanation)
{
  GPtrArray *uploads =
      g_object_get_data (G_OBJECT (server), HQ_HTTP_UPLOADS_KEY);
  Upload *u = g_new0 (Upload, 1);

  if (uploads == NULL) {
    uploads = g_ptr_array_new_with_free_func (upload_free);
    g_object_set_data_full (G_OBJECT (server), HQ_HTTP_UPLOADS_KEY, uploads,
        (GDestroyNotify)g_ptr_array_unref);
  }
  u->path = g_strdup (path);
  u->max = max;
  u->explanation = g_strdup (explanation);
  g_ptr_array_add (uploads, u);
}

/* The upload settings of @msg's path on @server, or NULL. */
static const Upload *
find_upload (SoupServer *server, SoupServerMessage *msg)
{
  GPtrArray *uploads = server
      ? g_object_get_data (G_OBJECT (server), HQ_HTTP_UPLOADS_KEY)
      : NULL;
  GUri *uri = soup_server_message_get_uri (msg);
  const gchar *path = uri ? g_uri_get_path (uri) : NULL;

  for (guint i = 0; uploads && path && i < uploads->len; i++) {
    Upload *u = g_ptr_array_index (uploads, i);
    if (g_str_equal (u->path, path))
      return u;
  }
  return NULL;
}

static void
too_large (SoupServerMessage *msg, goffset length, const Upload *upload)
{
  g_autofree gchar *why = NULL;

  if (upload) {
    /* An upload's own words: what the limit is. */
    hq_http_refuse_and_close (msg, 413, "file too large", upload->explanation);
    return;
  }
  if (length >= 0)
    why = g_strdup_printf ("The request body has %" G_GOFFSET_FORMAT
                           " bytes; at most %d are accepted.",
        length, HQ_HTTP_MAX_BODY);
  else
    why = g_strdup_printf (
        "The request body is over %d bytes, the most accepted.",
        HQ_HTTP_MAX_BODY);
  /* Reading the rest would cost what the limit is there to save. */
  hq_http_refuse_and_close (msg, 413, "request too large", why);
}

/* A chunked body has no length up front: count it as it comes. */
static void
got_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
  gsize *seen = g_object_get_data (G_OBJECT (msg), HQ_HTTP_BODY_SEEN_KEY);
  const Upload *upload = find_upload (user_data, msg);
  gint64 max = upload ? upload->max : HQ_HTTP_MAX_BODY;

  *seen += g_bytes_get_size (chunk);
  if ((gint64)*seen > max) {
    g_signal_handlers_disconnect_by_func (msg, got_chunk, user_data);
    too_large (msg, -1, upload);
  }
}

/* On every request's headers (an early handler would see only the paths
 * without a handler of their own).  @user_data is the server. */
static void
got_headers (SoupServerMessage *msg, gpointer user_data)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (headers);
  const Upload *upload = find_upload (user_data, msg);
  gint64 max = upload ? upload->max : HQ_HTTP_MAX_BODY;

  if (encoding == SOUP_ENCODING_CONTENT_LENGTH
      && soup_message_headers_get_content_length (headers) > max) {
    too_large (msg, soup_message_headers_get_content_length (headers), upload);
    return;
  }
  if (encoding == SOUP_ENCODING_CHUNKED) {
    g_object_set_data_full (
        G_OBJECT (msg), HQ_HTTP_BODY_SEEN_KEY, g_new0 (gsize, 1), g_free);
    g_signal_connect (msg, "got-chunk", G_CALLBACK (got_chunk), user_data);
  }
}

static void
request_started (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  gint64 *start = g_new (gint64, 1);

  *start = g_get_monotonic_time ();
  g_object_set_data_full (G_OBJECT (msg), HQ_HTTP_START_KEY, start, g_free);
  g_signal_connect (msg, "got-headers", G_CALLBACK (got_headers), server);
}

static void
log_request (SoupServerMessage *msg, gboolean aborted)
{
  gint64 *start = g_object_get_data (G_OBJECT (msg), HQ_HTTP_START_KEY);
  GUri *uri = soup_server_message_get_uri (msg);
  guint status = soup_server_message_get_status (msg);
  g_autofree gchar *ip = hq_http_remote_ip (msg);
  JsonObject *line = hq_log_begin (
      status >= 500 || aborted ? HQ_LOG_WARN : HQ_LOG_INFO, "http");

  json_object_set_string_member (
      line, "method", soup_server_message_get_method (msg));
  json_object_set_string_member (line, "path", uri ? g_uri_get_path (uri) : "");
  json_object_set_int_member (line, "status", status);
  if (aborted)
    json_object_set_boolean_member (line, "aborted", TRUE);
  json_object_set_string_member (line, "remote", ip);
  if (start)
    json_object_set_int_member (line, "us", g_get_monotonic_time () - *start);
  hq_log_end (line);
  hq_metrics_http (soup_server_message_get_method (msg),
      uri ? g_uri_get_path (uri) : "", aborted ? 0 : status);
}

static void
request_finished (
    SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  log_request (msg, FALSE);
}

static void
request_aborted (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  log_request (msg, TRUE);
}

void
hq_http_setup (SoupServer *server)
{
  g_signal_connect (
      server, "request-started", G_CALLBACK (request_started), NULL);
  g_signal_connect (
      server, "request-finished", G_CALLBACK (request_finished), NULL);
  g_signal_connect (
      server, "request-aborted", G_CALLBACK (request_aborted), NULL);
}

/* --- lists --- */

gchar *
hq_http_base_url (SoupServerMessage *msg)
{
  const gchar *host = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Host");
  GUri *uri = soup_server_message_get_uri (msg);

  if (host == NULL)
    host = g_uri_get_host (uri);
  /* libsoup names the scheme the connection speaks (https over TLS). */
  return g_strdup_printf ("%s://%s", g_uri_get_scheme (uri), host);
}

/* Twilio's PageToken: opaque to clients, who only copy it from a
 * next_page_url or previous_page_url.  Ours is "PT" and the index of the
 * page's first item; it must agree with Page and PageSize when those are
 * given too. */
static gboolean
read_page_token (SoupServerMessage *msg, GHashTable *query,
    HqHttpPaging *paging, gboolean have_page)
{
  const gchar *token = query ? g_hash_table_lookup (query, "PageToken") : NULL;
  guint64 first;
  g_autofree gchar *why = NULL;

  if (token == NULL)
    return TRUE;
  if (!g_str_has_prefix (token, "PT")
      || !g_ascii_string_to_unsigned (
          token + 2, 10, 0, G_MAXINT, &first, NULL)) {
    why = g_strdup_printf ("PageToken %.64s is not one this server made: "
                           "copy it from a next_page_url or "
                           "previous_page_url.",
        token);
  } else if (first % paging->size != 0
      || (have_page && first / paging->size != paging->page)) {
    why = g_strdup_printf ("PageToken %.64s does not go with Page %u and "
                           "PageSize %u: follow next_page_url as given.",
        token, paging->page, paging->size);
  }
  if (why) {
    hq_http_reply_error (msg, 400, "invalid parameter", why);
    return FALSE;
  }
  paging->page = first / paging->size;
  return TRUE;
}

gboolean
hq_http_read_paging (
    SoupServerMessage *msg, GHashTable *query, HqHttpPaging *paging)
{
  const gchar *size = query ? g_hash_table_lookup (query, "PageSize") : NULL;
  const gchar *page = query ? g_hash_table_lookup (query, "Page") : NULL;
  guint64 v;

  paging->size = HQ_HTTP_PAGE_SIZE_DEFAULT;
  paging->page = 0;
  if (size
      && (!g_ascii_string_to_unsigned (
          size, 10, 1, HQ_HTTP_PAGE_SIZE_MAX, &v, NULL))) {
    hq_http_reply_error (msg, 400, "invalid parameter",
        "PageSize must be a whole number from 1 to 1000.");
    return FALSE;
  }
  if (size)
    paging->size = v;
  if (page && (!g_ascii_string_to_unsigned (page, 10, 0, G_MAXINT, &v, NULL))) {
    hq_http_reply_error (
        msg, 400, "invalid parameter", "Page must be a whole number from 0.");
    return FALSE;
  }
  if (page)
    paging->page = v;
  return read_page_token (msg, query, paging, page != NULL);
}

/* @path with the request's query (every parameter in order, a repeated
 * one repeated) for page @page. */
static gchar *
page_url (const gchar *base, const gchar *path, const gchar *raw_query,
    const HqHttpPaging *paging, guint page)
{
  g_auto (GStrv) pairs = g_strsplit (raw_query ? raw_query : "", "&", -1);
  GString *url = g_string_new (NULL);

  g_string_printf (url, "%s%s?", base, path);
  for (guint i = 0; pairs[i]; i++) {
    if (*pairs[i] == '\0' || g_str_has_prefix (pairs[i], "Page=")
        || g_str_has_prefix (pairs[i], "PageSize=")
        || g_str_has_prefix (pairs[i], "PageToken="))
      continue;
    g_string_append_printf (url, "%s&", pairs[i]);
  }
  g_string_append_printf (url, "Page=%u&PageSize=%u", page, paging->size);
  if (page > 0)
    g_string_append_printf (url, "&PageToken=PT%u", page * paging->size);
  return g_string_free (url, FALSE);
}

/* Wraps @items (taken) as {key: [...], meta: {...}}.  @rows is how many the
 * store returned for a request of size + 1, to tell whether a next page
 * exists. */
void
hq_http_reply_page (SoupServerMessage *msg, const gchar *path,
    GHashTable *query, const HqHttpPaging *paging, const gchar *key,
    JsonArray *items, guint rows)
{
  g_autofree gchar *base = hq_http_base_url (msg);
  JsonObject *reply = json_object_new ();
  JsonObject *meta = json_object_new ();
  const gchar *raw = g_uri_get_query (soup_server_message_get_uri (msg));
  g_autofree gchar *first = page_url (base, path, raw, paging, 0);
  g_autofree gchar *self = page_url (base, path, raw, paging, paging->page);

  json_object_set_array_member (reply, key, items);
  json_object_set_int_member (meta, "page", paging->page);
  json_object_set_int_member (meta, "page_size", paging->size);
  json_object_set_string_member (meta, "first_page_url", first);
  json_object_set_string_member (meta, "url", self);
  if (paging->page > 0) {
    g_autofree gchar *prev =
        page_url (base, path, raw, paging, paging->page - 1);
    json_object_set_string_member (meta, "previous_page_url", prev);
  } else
    json_object_set_null_member (meta, "previous_page_url");
  if (rows > paging->size) {
    g_autofree gchar *next =
        page_url (base, path, raw, paging, paging->page + 1);
    json_object_set_string_member (meta, "next_page_url", next);
  } else
    json_object_set_null_member (meta, "next_page_url");
  json_object_set_string_member (meta, "key", key);
  json_object_set_object_member (reply, "meta", meta);
  hq_http_reply_object (msg, 200, reply);
}

/* --- query strings --- */

gchar **
hq_http_query_all (SoupServerMessage *msg, const gchar *name)
{
  const gchar *query = g_uri_get_query (soup_server_message_get_uri (msg));
  g_autoptr (GStrvBuilder) out = g_strv_builder_new ();
  g_auto (GStrv) pairs = g_strsplit (query ? query : "", "&", -1);

  for (guint i = 0; pairs[i]; i++) {
    gchar *eq = strchr (pairs[i], '=');
    g_autofree gchar *key = NULL, *value = NULL;

    if (eq == NULL)
      continue;
    *eq = '\0';
    g_strdelimit (pairs[i], "+", ' ');
    g_strdelimit (eq + 1, "+", ' ');
    key = g_uri_unescape_string (pairs[i], NULL);
    value = g_uri_unescape_string (eq + 1, NULL);
    if (key && value && g_str_equal (key, name))
      g_strv_builder_add (out, value);
  }
  return g_strv_builder_end (out);
}

gboolean
hq_http_check_query (
    SoupServerMessage *msg, GHashTable *query, const gchar *const *filters)
{
  GHashTableIter iter;
  gpointer key;

  if (query == NULL)
    return TRUE;
  g_hash_table_iter_init (&iter, query);
  while (g_hash_table_iter_next (&iter, &key, NULL)) {
    g_autofree gchar *list = NULL, *why = NULL;
    if (g_str_equal (key, "Page") || g_str_equal (key, "PageSize")
        || g_str_equal (key, "PageToken") || g_strv_contains (filters, key))
      continue;
    list = g_strjoinv (", ", (gchar **)filters);
    why = g_strdup_printf ("%.64s is not a filter of this list: it takes "
                           "%s%sPage, PageSize and PageToken.",
        (const gchar *)key, list, *list ? ", " : "");
    hq_http_reply_error (msg, 400, "invalid parameter", why);
    return FALSE;
  }
  return TRUE;
}

gboolean
hq_http_query_date (SoupServerMessage *msg, GHashTable *query,
    const gchar *name, gint64 *out_ms)
{
  const gchar *text = query ? g_hash_table_lookup (query, name) : NULL;
  g_autoptr (GDateTime) t = NULL;
  g_autofree gchar *why = NULL;

  *out_ms = 0;
  if (text == NULL)
    return TRUE;
  if (strlen (text) == 10) {
    g_autofree gchar *day = g_strdup_printf ("%sT00:00:00Z", text);
    t = g_date_time_new_from_iso8601 (day, NULL);
  } else
    t = g_date_time_new_from_iso8601 (text, NULL);
  if (t != NULL) {
    *out_ms =
        g_date_time_to_unix (t) * 1000 + g_date_time_get_microsecond (t) / 1000;
    return TRUE;
  }
  why = g_strdup_printf ("%s must be an ISO 8601 date and time with a time "
                         "zone, e.g. 2026-12-01T09:30:00Z, or a date "
                         "(2026-12-01).",
      name);
  hq_http_reply_error (msg, 400, "invalid parameter", why);
  return FALSE;
}

gboolean
hq_http_check_enum (SoupServerMessage *msg, const gchar *name,
    const gchar *value, const gchar *const *allowed)
{
  g_autofree gchar *list = NULL, *why = NULL;

  if (value == NULL || g_strv_contains (allowed, value))
    return TRUE;
  list = g_strjoinv (", ", (gchar **)allowed);
  why = g_strdup_printf ("%s must be one of %s.", name, list);
  hq_http_reply_error (msg, 400, "invalid parameter", why);
  return FALSE;
}

/* --- short-lived media links --- */

/* hex HMAC-SHA256 over "<sid>:<expiry>" keyed with @secret. */
static gchar *
media_signature (const gchar *secret, const gchar *sid, gint64 expires)
{
  g_autofree gchar *text =
      g_strdup_printf ("%s:%" G_GINT64_FORMAT, sid, expires);

  return g_compute_hmac_for_string (
      G_CHECKSUM_SHA256, (const guchar *)secret, strlen (secret), text, -1);
}

gchar *
hq_media_link_new (const gchar *base, const gchar *secret, const gchar *sid,
    gint64 ttl_s, gint64 *expires)
{
  gint64 until = g_get_real_time () / G_USEC_PER_SEC + ttl_s;
  g_autofree gchar *sig = media_signature (secret, sid, until);

  if (expires)
    *expires = until;
  return g_strdup_printf ("%s/v1/MediaLinks/%s?Expires=%" G_GINT64_FORMAT
                          "&Signature=%s",
      base, sid, until, sig);
}

HqMediaLinkCheck
hq_media_link_check (const gchar *secret, const gchar *sid, GHashTable *query)
{
  const gchar *expires = query ? g_hash_table_lookup (query, "Expires") : NULL;
  const gchar *sig = query ? g_hash_table_lookup (query, "Signature") : NULL;
  g_autofree gchar *expect = NULL;
  gint64 until = 0;

  if (expires)
    until = g_ascii_strtoll (expires, NULL, 10);
  expect = media_signature (secret, sid, until);
  if (sig == NULL || until <= 0 || !hq_str_equal_const_time (sig, expect))
    return HQ_MEDIA_LINK_FORGED;
  if (until < g_get_real_time () / G_USEC_PER_SEC)
    return HQ_MEDIA_LINK_EXPIRED;
  return HQ_MEDIA_LINK_OK;
}

void
hq_http_set_download_headers (SoupServerMessage *msg, const gchar *name)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autofree gchar *disposition =
      g_strdup_printf ("attachment; filename=\"%s\"", name);

  soup_message_headers_replace (headers, "Content-Disposition", disposition);
  /* Served as what it says it is, never sniffed into a page. */
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (headers, "Content-Security-Policy", "sandbox");
}

void
hq_http_reply_file (SoupServerMessage *msg, const gchar *file,
    const gchar *type, const gchar *name)
{
  g_autoptr (GMappedFile) mapped = g_mapped_file_new (file, FALSE, NULL);

  hq_http_reply_mapped_file (msg, mapped, type, name);
}

void
hq_http_reply_mapped_file (SoupServerMessage *msg, GMappedFile *mapped,
    const gchar *type, const gchar *name)
{
  g_autoptr (GBytes) bytes = NULL;

  if (mapped == NULL) {
    hq_http_reply_error (msg, 404, "not found", "The media file is gone.");
    return;
  }
  bytes = g_mapped_file_get_bytes (mapped);
  hq_http_set_download_headers (msg, name);
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, type, SOUP_MEMORY_COPY,
      g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}
