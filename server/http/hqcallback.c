/* Status callback delivery; see hqcallback.h.
 *
 * One RoomQueue per room with something to deliver: a FIFO of bodies, at
 * most one request in flight and at most one retry timer.  The queue is
 * dropped once empty.  Requests run on the main context through one
 * SoupSession; freeing cancels them and waits for their completions so no
 * callback outlives the HqCallbacks. */
#include "hqcallback.h"
#include "hqlog.h"

#include <libsoup/soup.h>
#include <string.h>

/* How long one delivery may take before it counts as failed. */
#define HQ_CALLBACK_TIMEOUT_S 10

struct _HqCallbacks
{
  SoupSession *session;
  gchar *key_sid;
  gchar *key_secret;
  gchar *auth_token; /* NULL: no X-Twilio-Signature */
  gint64 retry_ms;
  GHashTable *queues; /* room sid -> RoomQueue */
  GCancellable *cancel;
  guint in_flight;
};

typedef struct
{
  gchar *url;
  gchar *body;
  gchar *twilio_signature; /* or NULL */
  guint attempts;
} Delivery;

typedef struct
{
  HqCallbacks *callbacks;
  gchar *room_sid;
  GQueue pending; /* Delivery */
  gboolean busy; /* a request or a retry timer is outstanding */
  guint retry_source;
} RoomQueue;

typedef struct
{
  RoomQueue *queue;
  SoupMessage *msg;
} Flight;

static void
delivery_free (Delivery *d)
{
  g_free (d->url);
  g_free (d->body);
  g_free (d->twilio_signature);
  g_free (d);
}

static void
room_queue_free (RoomQueue *q)
{
  if (q->retry_source)
    g_source_remove (q->retry_source);
  if (!g_queue_is_empty (&q->pending))
    hq_log_message (HQ_LOG_WARN, "callback",
        "dropping %u undelivered status callbacks of room %s at shutdown",
        g_queue_get_length (&q->pending), q->room_sid);
  g_queue_clear_full (&q->pending, (GDestroyNotify)delivery_free);
  g_free (q->room_sid);
  g_free (q);
}

HqCallbacks *
hq_callbacks_new (const gchar *key_sid, const gchar *key_secret,
    const gchar *auth_token, gint64 retry_ms)
{
  HqCallbacks *cb = g_new0 (HqCallbacks, 1);

  cb->session = soup_session_new_with_options (
      "timeout", HQ_CALLBACK_TIMEOUT_S, "user-agent", "hq-server", NULL);
  cb->key_sid = g_strdup (key_sid);
  cb->key_secret = g_strdup (key_secret);
  cb->auth_token = g_strdup (auth_token);
  cb->retry_ms = retry_ms;
  cb->queues = g_hash_table_new_full (
      g_str_hash, g_str_equal, NULL, (GDestroyNotify)room_queue_free);
  cb->cancel = g_cancellable_new ();
  return cb;
}

void
hq_callbacks_free (HqCallbacks *cb)
{
  if (cb == NULL)
    return;
  g_cancellable_cancel (cb->cancel);
  /* Cancelled requests complete on the next iterations; they must find
   * their queues still there. */
  while (cb->in_flight > 0)
    g_main_context_iteration (NULL, TRUE);
  g_hash_table_destroy (cb->queues);
  g_object_unref (cb->cancel);
  g_object_unref (cb->session);
  g_free (cb->key_sid);
  g_free (cb->key_secret);
  g_free (cb->auth_token);
  g_free (cb);
}

static void send_head (RoomQueue *q);

/* The head is done with (delivered or given up): on to the next. */
static void
advance (RoomQueue *q)
{
  delivery_free (g_queue_pop_head (&q->pending));
  q->busy = FALSE;
  if (g_queue_is_empty (&q->pending))
    g_hash_table_remove (q->callbacks->queues, q->room_sid);
  else
    send_head (q);
}

static gboolean
retry_cb (gpointer user_data)
{
  RoomQueue *q = user_data;

  q->retry_source = 0;
  send_head (q);
  return G_SOURCE_REMOVE;
}

static void
delivery_failed (RoomQueue *q, const gchar *why)
{
  Delivery *d = g_queue_peek_head (&q->pending);
  JsonObject *line;

  line = hq_log_begin (HQ_LOG_WARN, "callback");
  json_object_set_string_member (line, "room_sid", q->room_sid);
  json_object_set_string_member (line, "url", d->url);
  json_object_set_int_member (line, "attempt", d->attempts);
  json_object_set_string_member (line, "error", why);
  hq_log_end (line);
  if (d->attempts >= HQ_CALLBACK_ATTEMPTS) {
    hq_log_message (HQ_LOG_WARN, "callback",
        "giving up on a status callback of room %s after %u attempts",
        q->room_sid, d->attempts);
    advance (q);
    return;
  }
  q->retry_source = g_timeout_add (
      (guint)MIN (q->callbacks->retry_ms << (d->attempts - 1), G_MAXUINT),
      retry_cb, q);
}

static void
sent_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Flight *f = user_data;
  RoomQueue *q = f->queue;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) reply = NULL;
  guint status;

  reply =
      soup_session_send_and_read_finish (SOUP_SESSION (source), res, &error);
  status = soup_message_get_status (f->msg);
  g_object_unref (f->msg);
  g_free (f);
  /* Cancelled only when everything is being freed: touch nothing else. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    q->callbacks->in_flight--;
    return;
  }
  q->callbacks->in_flight--;
  if (reply == NULL)
    delivery_failed (q, error->message);
  else if (!SOUP_STATUS_IS_SUCCESSFUL (status)) {
    g_autofree gchar *why = g_strdup_printf ("HTTP status %u", status);
    delivery_failed (q, why);
  } else
    advance (q);
}

static void
send_head (RoomQueue *q)
{
  HqCallbacks *cb = q->callbacks;
  Delivery *d = g_queue_peek_head (&q->pending);
  g_autoptr (GBytes) body = NULL;
  g_autofree gchar *mac = NULL;
  g_autofree gchar *signature = NULL;
  SoupMessageHeaders *headers;
  Flight *f;

  q->busy = TRUE;
  d->attempts++;
  f = g_new0 (Flight, 1);
  f->queue = q;
  f->msg = soup_message_new ("POST", d->url);
  if (f->msg == NULL) {
    g_free (f);
    d->attempts = HQ_CALLBACK_ATTEMPTS;
    delivery_failed (q, "the URL cannot be parsed");
    return;
  }
  mac = g_compute_hmac_for_string (G_CHECKSUM_SHA256,
      (const guchar *)cb->key_secret, strlen (cb->key_secret), d->body, -1);
  signature = g_strconcat ("sha256=", mac, NULL);
  headers = soup_message_get_request_headers (f->msg);
  soup_message_headers_replace (
      headers, HQ_CALLBACK_SIGNATURE_HEADER, signature);
  soup_message_headers_replace (headers, "X-Hq-Key-Sid", cb->key_sid);
  if (d->twilio_signature)
    soup_message_headers_replace (
        headers, HQ_CALLBACK_TWILIO_SIGNATURE_HEADER, d->twilio_signature);
  body = g_bytes_new (d->body, strlen (d->body));
  soup_message_set_request_body_from_bytes (
      f->msg, "application/x-www-form-urlencoded", body);
  cb->in_flight++;
  soup_session_send_and_read_async (
      cb->session, f->msg, G_PRIORITY_DEFAULT, cb->cancel, sent_cb, f);
}

/* Twilio's webhook signature: base64 of HMAC-SHA1, keyed with the auth
 * token, over the URL followed by each parameter's name and value, the
 * names in byte order. */
static gchar *
twilio_signature (const gchar *auth_token, const gchar *url, GHashTable *fields)
{
  g_autoptr (GList) names =
      g_list_sort (g_hash_table_get_keys (fields), (GCompareFunc)strcmp);
  g_autoptr (GHmac) hmac = g_hmac_new (
      G_CHECKSUM_SHA1, (const guchar *)auth_token, strlen (auth_token));
  guint8 digest[20];
  gsize len = sizeof digest;

  g_hmac_update (hmac, (const guchar *)url, -1);
  for (GList *l = names; l; l = l->next) {
    g_hmac_update (hmac, l->data, -1);
    g_hmac_update (hmac, g_hash_table_lookup (fields, l->data), -1);
  }
  g_hmac_get_digest (hmac, digest, &len);
  return g_base64_encode (digest, len);
}

void
hq_callbacks_post (HqCallbacks *cb, const gchar *room_sid, const gchar *url,
    GHashTable *fields)
{
  RoomQueue *q = g_hash_table_lookup (cb->queues, room_sid);
  Delivery *d = g_new0 (Delivery, 1);

  d->url = g_strdup (url);
  d->body = soup_form_encode_hash (fields);
  if (cb->auth_token)
    d->twilio_signature = twilio_signature (cb->auth_token, url, fields);
  if (q == NULL) {
    q = g_new0 (RoomQueue, 1);
    q->callbacks = cb;
    q->room_sid = g_strdup (room_sid);
    g_queue_init (&q->pending);
    g_hash_table_insert (cb->queues, q->room_sid, q);
  }
  g_queue_push_tail (&q->pending, d);
  if (!q->busy)
    send_head (q);
}
