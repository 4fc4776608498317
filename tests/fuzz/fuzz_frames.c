/* Fuzz target: the server's WebSocket message path from the frame on,
 * with sequences of frames from several connections, before and after
 * `join`.
 *
 * Each frame goes through hq_session_handle_frame(), the function
 * server/signal/hqsignal.c calls for every WebSocket message: the size limits
 * (64 KiB before join, 1023 KiB for SDP after it, close 1009), the bounded
 * parse, the field table, then the session, the room, the SFU workers and
 * the relay behind it.  Connections behave as hqsignal.c's do: a close
 * ends the connection (its participant may resume on a new one), and
 * nothing is delivered on a closed connection.
 *
 * The input is lines.  A first line "#D" picks the room: D is a digit,
 * D % 4 the type (group, group-small, peer-to-peer, go) and D / 4 % 2 a
 * waiting room.  Every other line's first byte C is a command, the rest
 * its payload:
 *   C % 4         the connection (0 "stranger", 1 "host" as host, 2
 *                 "guest", 3 "host" again: a second connection of the
 *                 host's identity);
 *   C / 16 % 4    0 text frame, 1 binary frame, 2 join with a valid token
 *                 (payload ignored), 3 the connection drops;
 *   C / 4 % 4     for frames, the size class: 0 as it is, 1 padded to just
 *                 over 64 KiB, 2 to just over 1023 KiB, 3 to exactly
 *                 64 KiB (a final '}' is kept, the padding goes in a
 *                 string member before it; otherwise the payload repeats).
 * So '@' 'A' 'B' 'C' send a text frame from each connection, 'D'.. over
 * 64 KiB, 'a' 'b' 'c' join, 'p' 'q' 'r' 's' drop.  In a payload, $T is a
 * valid token for the sender, $R the resume token its identity got last,
 * $H and $G the host's and guest's participant sids, $K the last track sid
 * the server announced.
 *
 * Every message the server sends must be a JSON object with a string
 * "type", an error with a string "code"; GLib criticals are fatal.
 *
 *   build-fuzz/tests/fuzz/fuzz-frames -max_total_time=60 \
 *       -dict=tests/fuzz/frames.dict tests/fuzz/corpus/frames
 */
#include <string.h>
#include <json-glib/json-glib.h>
#include <hq/hqprotocol.h>
#include "hqconfig.h"
#include "hqroom.h"
#include "hqsession.h"
#include "hqtempdir.h"

int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);

#define N_CONNS 4

static const gchar *const identities[N_CONNS] = { "stranger", "host", "guest",
  "host" };

typedef struct
{
  HqSession *session;
  gboolean closed;
} Conn;

/* Shared by the callbacks of one input. */
typedef struct
{
  HqConfig *config;
  HqRooms *rooms;
  Conn conns[N_CONNS];
  gchar *resume[N_CONNS]; /* by identity index: 0 stranger, 1 host, 2 guest */
  gchar *host_sid, *guest_sid, *track_sid;
} World;

static World world;

static guint
identity_index (guint conn)
{
  return conn == 3 ? 1 : conn;
}

static void
remember (gchar **slot, const gchar *value)
{
  if (value) {
    g_free (*slot);
    *slot = g_strdup (value);
  }
}

static void
check_send (gpointer user_data, const gchar *text)
{
  guint conn = GPOINTER_TO_UINT (user_data);
  g_autoptr (JsonNode) node = json_from_string (text, NULL);
  JsonObject *msg, *o = NULL;
  const gchar *type = NULL, *code = NULL, *s = NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    g_error ("the server sent a message that is not an object: %s", text);
  msg = json_node_get_object (node);
  if (!hq_protocol_read_string (msg, "type", &type, NULL))
    g_error ("the server sent a message without a type: %s", text);
  if (g_str_equal (type, "error")
      && !hq_protocol_read_string (msg, "code", &code, NULL))
    g_error ("the server sent an error without a code: %s", text);
  if (g_str_equal (type, "joined")) {
    hq_protocol_read_optional_string (msg, "resume_token", &s, NULL);
    remember (&world.resume[identity_index (conn)], s);
    if (hq_protocol_read_object (msg, "participant", &o, NULL) && o) {
      s = NULL;
      hq_protocol_read_optional_string (o, "sid", &s, NULL);
      remember (
          identity_index (conn) == 1 ? &world.host_sid : &world.guest_sid, s);
    }
  }
  o = NULL;
  if (hq_protocol_read_object (msg, "track", &o, NULL) && o) {
    s = NULL;
    hq_protocol_read_optional_string (o, "sid", &s, NULL);
    remember (&world.track_sid, s);
  }
}

static void
mark_closed (gpointer user_data, gushort code, const gchar *reason)
{
  world.conns[GPOINTER_TO_UINT (user_data)].closed = TRUE;
}

static const HqSessionTransport transport = { check_send, mark_closed };

static void
conn_open (guint i)
{
  world.conns[i].session = hq_session_new (
      world.config, world.rooms, &transport, GUINT_TO_POINTER (i));
  world.conns[i].closed = FALSE;
}

/* As hqsignal.c's closed_cb: the participant may resume; then a fresh
 * connection takes the place. */
static void
conn_reopen (guint i)
{
  hq_session_connection_lost (world.conns[i].session);
  hq_session_free (world.conns[i].session);
  conn_open (i);
}

/* Connections the server (or a room, kicking someone) closed. */
static void
reap (void)
{
  for (guint i = 0; i < N_CONNS; i++)
    if (world.conns[i].closed)
      conn_reopen (i);
}

/* What the SFU workers posted back to the main context. */
static void
pump (void)
{
  for (guint n = 0; n < 1000 && g_main_context_iteration (NULL, FALSE); n++)
    ;
}

static void
drain (void)
{
  pump ();
  reap ();
}

static gchar *
token_for (guint conn)
{
  HqTokenGrant grant = { .identity = identities[conn],
    .room = "fuzz",
    .role = conn % 2 ? HQ_ROLE_HOST : HQ_ROLE_GUEST,
    .ttl = 600 };

  return hq_token_mint (world.config->key_sid, world.config->key_secret,
      world.config->account_sid, &grant, 0, NULL);
}

static void
append_or_empty (GString *out, const gchar *value)
{
  g_string_append (out, value ? value : "");
}

/* The payload with $T, $R, $H, $G and $K replaced. */
static GString *
substitute (guint conn, const gchar *data, gsize len)
{
  GString *out = g_string_sized_new (len + 64);

  for (gsize i = 0; i < len; i++) {
    gchar next = i + 1 < len ? data[i + 1] : '\0';

    if (data[i] != '$' || !strchr ("TRHGK", next) || next == '\0') {
      g_string_append_c (out, data[i]);
      continue;
    }
    i++;
    if (next == 'T') {
      g_autofree gchar *token = token_for (conn);
      append_or_empty (out, token);
    } else if (next == 'R') {
      append_or_empty (out, world.resume[identity_index (conn)]);
    } else if (next == 'H') {
      append_or_empty (out, world.host_sid);
    } else if (next == 'G') {
      append_or_empty (out, world.guest_sid);
    } else {
      append_or_empty (out, world.track_sid);
    }
  }
  return out;
}

/* Pads @frame to @target bytes (see the size classes above). */
static void
pad (GString *frame, gsize target)
{
  static const gchar member[] = ",\"pad\":\"";

  if (frame->len >= target)
    return;
  if (frame->len > 0 && frame->str[frame->len - 1] == '}'
      && frame->len + sizeof member + 1 <= target) {
    gsize fill = target - frame->len - (sizeof member - 1) - 1;
    g_autofree gchar *x = g_malloc (fill);

    memset (x, 'x', fill);
    g_string_truncate (frame, frame->len - 1);
    g_string_append (frame, member);
    g_string_append_len (frame, x, (gssize)fill);
    g_string_append (frame, "\"}");
  } else if (frame->len > 0) {
    gsize unit = frame->len;
    while (frame->len + unit <= target)
      g_string_append_len (frame, frame->str, (gssize)unit);
    g_string_append_len (frame, frame->str, (gssize)(target - frame->len));
  }
}

static void
send_frame (
    guint conn, gboolean text, guint size_class, const gchar *data, gsize len)
{
  static const gsize targets[] = { 0, HQ_PROTOCOL_MAX_MESSAGE + 1,
    HQ_PROTOCOL_MAX_SDP_MESSAGE + 1, HQ_PROTOCOL_MAX_MESSAGE };
  g_autoptr (GString) frame = substitute (conn, data, len);

  if (size_class > 0)
    pad (frame, targets[size_class]);
  /* libsoup closes a connection whose text frame is not UTF-8 (1007)
   * before the server sees it. */
  if (text && !g_utf8_validate (frame->str, (gssize)frame->len, NULL)) {
    world.conns[conn].closed = TRUE;
    return;
  }
  hq_session_handle_frame (
      world.conns[conn].session, text, frame->str, frame->len);
}

static void
join (guint conn)
{
  g_autofree gchar *token = token_for (conn);
  g_autofree gchar *msg = g_strdup_printf (
      "{\"type\":\"join\",\"id\":\"j\",\"token\":\"%s\"}", token);

  hq_session_handle_frame (world.conns[conn].session, TRUE, msg, strlen (msg));
}

static void
run_line (const guint8 *line, gsize len)
{
  guint c = line[0], conn = c % 4, op = c / 16 % 4;

  if (world.conns[conn].closed)
    return;
  switch (op) {
    case 0:
    case 1:
      send_frame (conn, op == 0, c / 4 % 4, (const gchar *)line + 1, len - 1);
      break;
    case 2:
      join (conn);
      break;
    default:
      world.conns[conn].closed = TRUE;
      break;
  }
  drain ();
}

int
LLVMFuzzerTestOneInput (const guint8 *data, gsize size)
{
  static const gchar *const types[] = { "group", "group-small", "peer-to-peer",
    "go" };
  g_autofree gchar *dir = hq_test_make_dir ();
  HqStore *store;
  HqRoomParams params = { .unique_name = "fuzz", .type = "group" };
  const guint8 *line = data, *end = data + size;

  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  if (size >= 2 && data[0] == '#') {
    guint d = (guint)data[1] % 8;
    params.type = types[d % 4];
    params.waiting_room = d / 4;
  }
  memset (&world, 0, sizeof world);
  world.config = hq_config_load (dir, NULL, "127.0.0.1:0", TRUE, NULL);
  store = hq_store_open (dir, NULL);
  world.rooms = hq_rooms_new (world.config, store, NULL);
  g_assert_nonnull (hq_rooms_create (world.rooms, &params, NULL));
  for (guint i = 0; i < N_CONNS; i++)
    conn_open (i);

  while (line < end) {
    const guint8 *nl = memchr (line, '\n', end - line);
    const guint8 *stop = nl ? nl : end;

    if (stop > line && line[0] != '#')
      run_line (line, stop - line);
    line = stop + 1;
  }

  /* As at shutdown: the rooms let go of the sessions, then they go. */
  hq_rooms_free (world.rooms);
  pump ();
  for (guint i = 0; i < N_CONNS; i++)
    hq_session_free (world.conns[i].session);
  hq_config_free (world.config);
  for (guint i = 0; i < N_CONNS; i++)
    g_free (world.resume[i]);
  g_free (world.host_sid);
  g_free (world.guest_sid);
  g_free (world.track_sid);
  hq_test_remove_dir (dir);
  return 0;
}
