/* The accept loop and connection limits; see hqlisten.h.
 *
 * Each accepted socket becomes a Conn, keyed by the remote address object
 * handed to soup_server_accept_iostream() (libsoup gives that same object
 * back as soup_server_message_get_remote_address()), so the server's
 * request signals find their connection without any pointer into
 * libsoup.  A Conn lives until libsoup lets go of the connection (a weak
 * reference), and holds one deadline: the request's or the idle one.  At a
 * deadline the socket is shut down; libsoup then sees the end of the
 * stream and cleans up as for any client that left. */
#include "hqlisten.h"
#include "hqlog.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connections taken per wake-up, so one flood does not starve the rest. */
#define HQ_ACCEPT_BATCH 64
#define HQ_ACCEPT_BACKOFF_MIN_MS 50
#define HQ_ACCEPT_BACKOFF_MAX_MS 2000
/* Repeated events (refusals, timeouts) make at most one line this often. */
#define HQ_LOG_BURST_US (10 * G_USEC_PER_SEC)

typedef struct
{
  gint64 last; /* monotonic time of the last line */
  guint held; /* events since then without a line */
} LogBurst;

struct _HqListener
{
  SoupServer *soup; /* owned reference */
  const HqConfig *config;
  HqTls *tls; /* borrowed; NULL: plain http */
  GSocket *socket; /* the listening socket, owned */
  GSource *accept_source; /* NULL while backing off */
  guint retry_timer;
  guint backoff_ms;
  guint failures; /* accept() failures in the current burst */
  gint64 failing_since;
  GSocket *idle_pair[2]; /* see keep_alive_listener() */
  GHashTable *conns; /* remote GSocketAddress -> Conn, owned */
  GHashTable *per_ip; /* address text -> open connections */
  LogBurst refused_log, timeout_log;
};

typedef struct
{
  HqListener *listener;
  GSocketConnection *connection; /* weak */
  GSocket *socket; /* owned */
  GSocketAddress *remote; /* owned; the key */
  gchar *ip;
  GSource *deadline;
  const gchar *waiting_for; /* what the deadline waits for, for the log */
} Conn;

/* TRUE when a line about @b's events may be written now; *held says how
 * many went without one since the last. */
static gboolean
burst_ok (LogBurst *b, guint *held)
{
  gint64 now = g_get_monotonic_time ();

  if (b->last != 0 && now - b->last < HQ_LOG_BURST_US) {
    b->held++;
    return FALSE;
  }
  *held = b->held;
  b->held = 0;
  b->last = now;
  return TRUE;
}

static gchar *
address_text (GSocketAddress *addr)
{
  if (!G_IS_INET_SOCKET_ADDRESS (addr))
    return g_strdup ("unknown");
  return g_inet_address_to_string (
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (addr)));
}

/* --- deadlines --- */

static gboolean
deadline_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  g_source_set_ready_time (source, -1);
  return callback (user_data);
}

/* A source that fires once at its ready time, which moves at will. */
static GSourceFuncs deadline_funcs = { NULL, NULL, deadline_dispatch, NULL,
  NULL, NULL };

static void
conn_set_deadline (Conn *conn, gint64 seconds, const gchar *waiting_for)
{
  conn->waiting_for = waiting_for;
  g_source_set_ready_time (conn->deadline,
      seconds > 0 ? g_get_monotonic_time () + seconds * G_USEC_PER_SEC : -1);
}

static gboolean
deadline_cb (gpointer user_data)
{
  Conn *conn = user_data;
  HqListener *l = conn->listener;
  guint held = 0;

  if (burst_ok (&l->timeout_log, &held)) {
    JsonObject *line = hq_log_begin (HQ_LOG_INFO, "connection_timeout");
    json_object_set_string_member (line, "remote", conn->ip);
    json_object_set_string_member (line, "waiting_for", conn->waiting_for);
    json_object_set_int_member (line, "earlier_not_logged", held);
    hq_log_end (line);
  }
  /* libsoup reads the end of the stream and lets the connection go. */
  g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
  return G_SOURCE_CONTINUE;
}

/* --- connections --- */

static void
conn_free (Conn *conn)
{
  HqListener *l = conn->listener;
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (l->per_ip, conn->ip));

  if (n > 1)
    g_hash_table_insert (
        l->per_ip, g_strdup (conn->ip), GUINT_TO_POINTER (n - 1));
  else
    g_hash_table_remove (l->per_ip, conn->ip);
  g_source_destroy (conn->deadline);
  g_source_unref (conn->deadline);
  g_object_unref (conn->socket);
  g_object_unref (conn->remote);
  g_free (conn->ip);
  g_free (conn);
}

/* libsoup (or the WebSocket) let go of the connection. */
static void
conn_gone (gpointer user_data, GObject *where_it_was)
{
  Conn *conn = user_data;

  g_hash_table_remove (conn->listener->conns, conn->remote);
}

static Conn *
conn_of (HqListener *l, SoupServerMessage *msg)
{
  return g_hash_table_lookup (
      l->conns, soup_server_message_get_remote_address (msg));
}

/* One connection too many from @ip: a 429 in a single write (it fits in
 * any socket buffer) and close.  Over TLS it is only closed: the answer
 * would need a handshake first, which a flood must not get to spend. */
static void
refuse (HqListener *l, GSocket *socket, const gchar *ip)
{
  g_autofree gchar *body = NULL, *reply = NULL, *why = NULL;
  guint held = 0;

  if (l->tls != NULL)
    goto close;

  /* Refused before any request is read: the body has both shapes, the
   * REST API's (Twilio's code, message, more_info) and the others'. */
  why = g_strdup_printf ("This address has %" G_GINT64_FORMAT
                         " connections open, the most allowed; close some "
                         "and try again.",
      l->config->connections_per_ip);
  body = g_strdup_printf ("{\"code\":20429,\"message\":\"%s\","
                          "\"more_info\":\"https://www.twilio.com/docs/"
                          "errors/20429\",\"error\":{\"message\":"
                          "\"too many connections\",\"explanation\":\"%s\"},"
                          "\"status\":429}",
      why, why);
  reply = g_strdup_printf ("HTTP/1.1 429 Too Many Requests\r\n"
                           "Content-Type: application/json\r\n"
                           "Content-Length: %zu\r\nRetry-After: 1\r\n"
                           "Connection: close\r\n\r\n%s",
      strlen (body), body);
  g_socket_send (socket, reply, strlen (reply), NULL, NULL);
close:
  g_socket_shutdown (socket, FALSE, TRUE, NULL);
  g_socket_close (socket, NULL);
  if (burst_ok (&l->refused_log, &held)) {
    JsonObject *line = hq_log_begin (HQ_LOG_WARN, "connection_refused");
    json_object_set_string_member (line, "remote", ip);
    json_object_set_string_member (line, "reason", "connections_per_ip");
    json_object_set_int_member (line, "limit", l->config->connections_per_ip);
    json_object_set_int_member (line, "earlier_not_logged", held);
    hq_log_end (line);
  }
}

static void
accept_one (HqListener *l, GSocket *socket)
{
  g_autoptr (GSocketAddress) remote =
      g_socket_get_remote_address (socket, NULL);
  g_autoptr (GSocketAddress) local = g_socket_get_local_address (socket, NULL);
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GIOStream) stream = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *ip = NULL;
  guint n;
  Conn *conn;

  if (remote == NULL || local == NULL) {
    /* Gone before we got to it. */
    g_socket_close (socket, NULL);
    return;
  }
  ip = address_text (remote);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (l->per_ip, ip));
  if (l->config->connections_per_ip > 0
      && n >= (guint64)l->config->connections_per_ip) {
    refuse (l, socket, ip);
    return;
  }
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  connection = g_socket_connection_factory_create_connection (socket);
  /* https: the handshake happens as libsoup reads the request, within
   * the request deadline below, with the certificate of this moment. */
  if (l->tls != NULL) {
    stream = g_tls_server_connection_new (
        G_IO_STREAM (connection), hq_tls_get_certificate (l->tls), &error);
    if (stream == NULL) {
      hq_log_message (HQ_LOG_ERROR, "tls",
          "cannot start TLS on a connection from %s: %s", ip, error->message);
      g_socket_close (socket, NULL);
      return;
    }
  } else
    stream = g_object_ref (G_IO_STREAM (connection));

  conn = g_new0 (Conn, 1);
  conn->listener = l;
  conn->connection = connection;
  conn->socket = g_object_ref (socket);
  conn->remote = g_object_ref (remote);
  conn->ip = g_steal_pointer (&ip);
  conn->deadline = g_source_new (&deadline_funcs, sizeof (GSource));
  g_source_set_callback (conn->deadline, deadline_cb, conn, NULL);
  g_source_attach (conn->deadline, NULL);
  conn_set_deadline (conn, l->config->request_timeout, "request");
  g_object_weak_ref (G_OBJECT (connection), conn_gone, conn);
  g_hash_table_insert (l->conns, conn->remote, conn);
  g_hash_table_insert (
      l->per_ip, g_strdup (conn->ip), GUINT_TO_POINTER (n + 1));
  /* Emits request-started at once, which finds the Conn above. */
  soup_server_accept_iostream (l->soup, stream, local, remote, NULL);
}

/* --- accepting, and backing off when that fails --- */

static gboolean accept_cb (GSocket *socket, GIOCondition cond, gpointer data);

static void
watch_listening_socket (HqListener *l)
{
  l->accept_source = g_socket_create_source (l->socket, G_IO_IN, NULL);
  g_source_set_callback (
      l->accept_source, (GSourceFunc)(void (*) (void))accept_cb, l, NULL);
  g_source_attach (l->accept_source, NULL);
}

static gboolean
retry_cb (gpointer user_data)
{
  HqListener *l = user_data;

  l->retry_timer = 0;
  watch_listening_socket (l);
  return G_SOURCE_REMOVE;
}

static void
accept_failed (HqListener *l, const GError *error)
{
  if (l->failures++ == 0) {
    struct rlimit lim = { 0 };
    JsonObject *line = hq_log_begin (HQ_LOG_ERROR, "accept_failed");

    getrlimit (RLIMIT_NOFILE, &lim);
    json_object_set_string_member (line, "error", error->message);
    json_object_set_int_member (line, "open_files_limit", (gint64)lim.rlim_cur);
    json_object_set_string_member (line, "action",
        "not accepting for a moment, then trying again with a growing "
        "backoff");
    hq_log_end (line);
    l->failing_since = g_get_monotonic_time ();
    l->backoff_ms = HQ_ACCEPT_BACKOFF_MIN_MS;
  } else
    l->backoff_ms = MIN (l->backoff_ms * 2, HQ_ACCEPT_BACKOFF_MAX_MS);
  g_source_unref (l->accept_source);
  l->accept_source = NULL;
  l->retry_timer = g_timeout_add (l->backoff_ms, retry_cb, l);
}

static void
accept_recovered (HqListener *l)
{
  JsonObject *line = hq_log_begin (HQ_LOG_INFO, "accept_recovered");

  json_object_set_int_member (line, "failed_attempts", l->failures);
  json_object_set_int_member (
      line, "ms", (g_get_monotonic_time () - l->failing_since) / 1000);
  hq_log_end (line);
  l->failures = 0;
}

static gboolean
accept_cb (GSocket *listening, GIOCondition cond, gpointer user_data)
{
  HqListener *l = user_data;

  for (guint i = 0; i < HQ_ACCEPT_BATCH; i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GSocket) socket = g_socket_accept (listening, NULL, &error);

    if (socket != NULL) {
      if (l->failures > 0)
        accept_recovered (l);
      accept_one (l, socket);
      continue;
    }
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
      break;
    /* A client that gave up while waiting in the backlog. */
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
      continue;
    accept_failed (l, error);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

/* --- the request signals: which deadline holds --- */

static void
request_started (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  HqListener *l = user_data;
  Conn *conn = conn_of (l, msg);

  if (conn)
    conn_set_deadline (conn, l->config->request_timeout, "request");
}

static void
request_read (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  Conn *conn = conn_of (user_data, msg);

  /* The handler has it now (or the WebSocket, once upgraded). */
  if (conn)
    conn_set_deadline (conn, 0, NULL);
}

static void
request_done (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  HqListener *l = user_data;
  Conn *conn = conn_of (l, msg);

  if (conn)
    conn_set_deadline (conn, l->config->idle_timeout, "next request");
}

/* libsoup keeps HTTP connections alive only while it has a listener of
 * its own (soup-server.c, request_finished()), and its listener would
 * accept and give up at the first failure.  So it gets one that can never
 * accept anything: one end of a socket pair nobody writes to. */
static gboolean
keep_alive_listener (HqListener *l, GError **error)
{
  int fds[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    int err = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
        "socketpair: %s", g_strerror (err));
    return FALSE;
  }
  l->idle_pair[0] = g_socket_new_from_fd (fds[0], error);
  if (l->idle_pair[0] == NULL) {
    close (fds[0]);
    close (fds[1]);
    return FALSE;
  }
  l->idle_pair[1] = g_socket_new_from_fd (fds[1], error);
  if (l->idle_pair[1] == NULL) {
    close (fds[1]);
    return FALSE;
  }
  return soup_server_listen_socket (l->soup, l->idle_pair[0], 0, error);
}

HqListener *
hq_listener_new (SoupServer *soup, GSocket *socket, const HqConfig *config,
    HqTls *tls, GError **error)
{
  HqListener *l = g_new0 (HqListener, 1);

  l->soup = g_object_ref (soup);
  l->config = config;
  l->tls = tls;
  l->socket = g_object_ref (socket);
  l->conns =
      g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify)conn_free);
  l->per_ip = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (!keep_alive_listener (l, error)) {
    hq_listener_free (l);
    return NULL;
  }
  g_socket_set_blocking (socket, FALSE);
  g_signal_connect (soup, "request-started", G_CALLBACK (request_started), l);
  g_signal_connect (soup, "request-read", G_CALLBACK (request_read), l);
  g_signal_connect (soup, "request-finished", G_CALLBACK (request_done), l);
  g_signal_connect (soup, "request-aborted", G_CALLBACK (request_done), l);
  watch_listening_socket (l);
  return l;
}

void
hq_listener_stop (HqListener *l)
{
  if (l->accept_source) {
    g_source_destroy (l->accept_source);
    g_clear_pointer (&l->accept_source, g_source_unref);
  }
  if (l->retry_timer) {
    g_source_remove (l->retry_timer);
    l->retry_timer = 0;
  }
  g_socket_close (l->socket, NULL);
}

void
hq_listener_free (HqListener *l)
{
  GHashTableIter iter;
  gpointer value;

  if (l == NULL)
    return;
  hq_listener_stop (l);
  g_signal_handlers_disconnect_by_data (l->soup, l);
  g_hash_table_iter_init (&iter, l->conns);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    Conn *conn = value;
    g_object_weak_unref (G_OBJECT (conn->connection), conn_gone, conn);
  }
  g_hash_table_destroy (l->conns);
  g_hash_table_destroy (l->per_ip);
  g_clear_object (&l->idle_pair[0]);
  g_clear_object (&l->idle_pair[1]);
  g_object_unref (l->socket);
  g_object_unref (l->soup);
  g_free (l);
}
