/* Fuzz target: the signalling session (server/signal/hqsession.c) and the room
 * code behind it, fed hostile messages.
 *
 * Before the input a host and a guest have joined room "fuzz" with valid
 * tokens, so the fuzzer reaches every request and not only the refusals
 * before `join`.  The input is lines; each line is one message, and its
 * first byte picks the sender (even: the host, odd: the guest) and is not
 * part of the message.  The room has a waiting room when the input's
 * length is odd.  Every message the server sends back must be a JSON
 * object with a string "type": anything else is a bug.
 *
 *   build-fuzz/tests/fuzz/fuzz-signal -max_total_time=60 \
 *       -dict=tests/fuzz/signal.dict tests/fuzz/corpus/signal
 */
#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include "hqconfig.h"
#include "hqroom.h"
#include "hqsession.h"
#include "hqtempdir.h"

int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);

static void
check_send (gpointer user_data, const gchar *text)
{
  g_autoptr (JsonNode) node = json_from_string (text, NULL);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)
      || json_object_get_string_member_with_default (
             json_node_get_object (node), "type", NULL)
          == NULL)
    g_error ("the server sent a message without a type: %s", text);
}

static void
ignore_close (gpointer user_data, gushort code, const gchar *reason)
{
}

static const HqSessionTransport transport = { check_send, ignore_close };

static void
join (HqSession *session, HqConfig *config, const gchar *identity, HqRole role)
{
  HqTokenGrant grant = {
    .identity = identity, .room = "fuzz", .role = role, .ttl = 600
  };
  g_autofree gchar *token = hq_token_mint (config->key_sid, config->key_secret,
      config->account_sid, &grant, 0, NULL);
  g_autofree gchar *msg = g_strdup_printf (
      "{\"type\":\"join\",\"id\":\"j\",\"token\":\"%s\"}", token);

  hq_session_handle_text (session, msg, strlen (msg));
}

int
LLVMFuzzerTestOneInput (const guint8 *data, gsize size)
{
  g_autofree gchar *dir = hq_test_make_dir ();
  HqConfig *config = hq_config_load (dir, NULL, "127.0.0.1:0", TRUE, NULL);
  HqStore *store = hq_store_open (dir, NULL);
  HqRooms *rooms = hq_rooms_new (config, store, NULL);
  HqRoomParams params = { .unique_name = "fuzz", .waiting_room = size % 2 };
  HqSession *host = hq_session_new (config, rooms, &transport, NULL);
  HqSession *guest = hq_session_new (config, rooms, &transport, NULL);
  const guint8 *line = data, *end = data + size;

  g_assert_nonnull (hq_rooms_create (rooms, &params, NULL));
  join (host, config, "host", HQ_ROLE_HOST);
  join (guest, config, "guest", HQ_ROLE_GUEST);
  while (line < end) {
    const guint8 *nl = memchr (line, '\n', end - line);
    const guint8 *stop = nl ? nl : end;

    /* Text frames are UTF-8 (libsoup closes the connection otherwise). */
    if (stop > line
        && g_utf8_validate ((const gchar *)line + 1, stop - line - 1, NULL))
      hq_session_handle_text (
          line[0] % 2 ? guest : host, (const gchar *)line + 1, stop - line - 1);
    line = stop + 1;
  }
  /* As at shutdown: the rooms let go of the sessions, then they go. */
  hq_rooms_free (rooms);
  hq_session_free (host);
  hq_session_free (guest);
  hq_config_free (config);
  hq_test_remove_dir (dir);
  return 0;
}
