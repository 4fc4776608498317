/* libhq's protocol definition (hqprotocol.h): every enum's names convert
 * both ways, unknown names and values are refused, the builders make the
 * messages docs/protocol.md shows and the typed readers read them back,
 * and a field of the wrong type is an invalid_field error naming it.
 * Suites `protocol` and `unit`. */
#include <glib.h>
#include <hq/hqprotocol.h>
#include <string.h>

static JsonObject *
parse (const gchar *text)
{
  g_autoptr (GError) error = NULL;
  JsonObject *msg = hq_protocol_parse_object (
      text, strlen (text), HQ_PROTOCOL_MAX_MESSAGE, &error);

  g_assert_no_error (error);
  return msg;
}

/* Every message type has a name that names it and no other. */
static void
test_message_names (void)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (gint t = HQ_MESSAGE_JOIN; t <= HQ_MESSAGE_PUBLISH_LAYERS; t++) {
    const gchar *name = hq_protocol_message_name ((HqMessageType)t);
    g_assert_nonnull (name);
    g_assert_cmpint (hq_protocol_message_type (name), ==, t);
    g_assert_false (g_hash_table_contains (seen, name));
    g_hash_table_add (seen, (gpointer)name);
  }
  g_assert_cmpuint (g_hash_table_size (seen), ==, 70);
  g_assert_cmpstr (hq_protocol_message_name (HQ_MESSAGE_JOIN), ==, "join");
  g_assert_cmpstr (hq_protocol_message_name (HQ_MESSAGE_SUBSCRIBE_OFFER), ==,
      "subscribe_offer");
  g_assert_null (hq_protocol_message_name (HQ_MESSAGE_UNKNOWN));
  g_assert_null (hq_protocol_message_name ((HqMessageType)1000));
  g_assert_null (hq_protocol_message_name ((HqMessageType)-1));
  g_assert_cmpint (hq_protocol_message_type ("Join"), ==, HQ_MESSAGE_UNKNOWN);
  g_assert_cmpint (hq_protocol_message_type (""), ==, HQ_MESSAGE_UNKNOWN);
  g_assert_cmpint (hq_protocol_message_type (NULL), ==, HQ_MESSAGE_UNKNOWN);
  /* What carries SDP may be larger; the server's offer does too. */
  g_assert_true (hq_protocol_carries_sdp ("subscribe_offer"));
  g_assert_true (hq_protocol_carries_sdp ("publish_offer"));
  g_assert_false (hq_protocol_carries_sdp ("joined"));
  g_assert_false (hq_protocol_carries_sdp ("nope"));
}

static void
test_error_codes (void)
{
  HqProtocolError code = HQ_PROTOCOL_ERROR_INTERNAL;

  for (gint c = HQ_PROTOCOL_ERROR_MALFORMED_JSON;
       c <= HQ_PROTOCOL_ERROR_INVALID_SDP; c++) {
    const gchar *name = hq_protocol_error_code ((HqProtocolError)c);
    g_assert_nonnull (name);
    g_assert_true (hq_protocol_error_from_code (name, &code));
    g_assert_cmpint (code, ==, c);
  }
  g_assert_cmpstr (hq_protocol_error_code (HQ_PROTOCOL_ERROR_TOO_BIG), ==,
      "message_too_big");
  g_assert_cmpstr (
      hq_protocol_error_code (HQ_PROTOCOL_ERROR_NOT_HOST), ==, "not_host");
  g_assert_null (hq_protocol_error_code ((HqProtocolError)999));
  code = HQ_PROTOCOL_ERROR_BANNED;
  g_assert_false (hq_protocol_error_from_code ("teapot", &code));
  g_assert_false (hq_protocol_error_from_code (NULL, &code));
  g_assert_cmpint (code, ==, HQ_PROTOCOL_ERROR_BANNED); /* unchanged */
}

static void
test_close_codes (void)
{
  const gint codes[] = { HQ_CLOSE_NORMAL, HQ_CLOSE_GOING_AWAY, HQ_CLOSE_TOO_BIG,
    HQ_CLOSE_KEEPALIVE, HQ_CLOSE_REMOVED, HQ_CLOSE_REPLACED, HQ_CLOSE_DENIED,
    HQ_CLOSE_ROOM_COMPLETED, HQ_CLOSE_MAX_DURATION, HQ_CLOSE_JOIN_TIMEOUT };
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  /* The numbers docs/protocol.md gives. */
  g_assert_cmpint (HQ_CLOSE_TOO_BIG, ==, 1009);
  g_assert_cmpint (HQ_CLOSE_REMOVED, ==, 4001);
  g_assert_cmpint (HQ_CLOSE_JOIN_TIMEOUT, ==, 4006);
  for (guint i = 0; i < G_N_ELEMENTS (codes); i++) {
    const gchar *text = hq_protocol_close_text (codes[i]);
    g_assert_nonnull (text);
    g_assert_false (g_hash_table_contains (seen, text));
    g_hash_table_add (seen, (gpointer)text);
  }
  g_assert_null (hq_protocol_close_text (1006)); /* the client's, not ours */
  g_assert_null (hq_protocol_close_text (4007));
  g_assert_null (hq_protocol_close_text (0));
}

static void
test_priorities (void)
{
  HqPriority p = HQ_PRIORITY_HIGH;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) urgent = parse ("{\"priority\": \"urgent\"}");
  g_autoptr (JsonObject) number = parse ("{\"priority\": 3}");
  g_autoptr (JsonObject) none = parse ("{\"priority\": null}");
  g_autoptr (JsonObject) low = parse ("{\"priority\": \"low\"}");

  for (gint v = HQ_PRIORITY_LOW; v <= HQ_PRIORITY_HIGH; v++) {
    g_assert_true (hq_protocol_priority_from_name (
        hq_protocol_priority_name ((HqPriority)v), &p));
    g_assert_cmpint (p, ==, v);
  }
  g_assert_cmpstr (
      hq_protocol_priority_name (HQ_PRIORITY_STANDARD), ==, "standard");
  g_assert_null (hq_protocol_priority_name ((HqPriority)3));
  g_assert_false (hq_protocol_priority_from_name ("Standard", &p));
  g_assert_false (hq_protocol_priority_from_name (NULL, &p));

  /* Absent or null: the caller's default stands. */
  p = HQ_PRIORITY_HIGH;
  g_assert_true (hq_protocol_read_priority (none, "priority", &p, &error));
  g_assert_true (hq_protocol_read_priority (none, "other", &p, &error));
  g_assert_cmpint (p, ==, HQ_PRIORITY_HIGH);
  g_assert_true (hq_protocol_read_priority (low, "priority", &p, &error));
  g_assert_cmpint (p, ==, HQ_PRIORITY_LOW);
  g_assert_false (hq_protocol_read_priority (urgent, "priority", &p, &error));
  g_assert_error (error, HQ_PROTOCOL_ERROR, HQ_PROTOCOL_ERROR_INVALID_FIELD);
  g_assert_cmpstr (error->message, ==,
      "priority must be low, standard or high, not \"urgent\".");
  g_clear_error (&error);
  g_assert_false (hq_protocol_read_priority (number, "priority", &p, &error));
  g_assert_error (error, HQ_PROTOCOL_ERROR, HQ_PROTOCOL_ERROR_INVALID_FIELD);
  g_assert_cmpstr (
      error->message, ==, "priority must be a string, not a whole number.");
  g_assert_cmpint (p, ==, HQ_PRIORITY_LOW);
}

static void
test_rules_and_reasons (void)
{
  HqRuleType type;
  HqRuleFilter filter;
  HqLeaveReason reason;

  for (gint v = HQ_RULE_INCLUDE; v <= HQ_RULE_EXCLUDE; v++) {
    g_assert_true (hq_protocol_rule_type_from_name (
        hq_protocol_rule_type_name ((HqRuleType)v), &type));
    g_assert_cmpint (type, ==, v);
  }
  for (gint v = HQ_RULE_FILTER_ALL; v <= HQ_RULE_FILTER_TRACK; v++) {
    g_assert_true (hq_protocol_rule_filter_from_name (
        hq_protocol_rule_filter_name ((HqRuleFilter)v), &filter));
    g_assert_cmpint (filter, ==, v);
  }
  for (gint v = HQ_LEAVE_LEFT; v <= HQ_LEAVE_ROOM_COMPLETED; v++) {
    g_assert_true (hq_protocol_leave_reason_from_name (
        hq_protocol_leave_reason_name ((HqLeaveReason)v), &reason));
    g_assert_cmpint (reason, ==, v);
  }
  g_assert_false (hq_protocol_rule_type_from_name ("allow", &type));
  g_assert_false (hq_protocol_rule_filter_from_name ("room", &filter));
  g_assert_false (hq_protocol_leave_reason_from_name ("bored", &reason));
  g_assert_null (hq_protocol_rule_type_name ((HqRuleType)2));
  g_assert_null (hq_protocol_leave_reason_name ((HqLeaveReason)-1));
  g_assert_cmpstr (hq_protocol_participant_state_name (HQ_PARTICIPANT_WAITING),
      ==, "waiting");
  g_assert_null (hq_protocol_participant_state_name ((HqParticipantState)9));
  g_assert_cmpstr (
      hq_protocol_relay_field (HQ_MESSAGE_PEER_CANDIDATE), ==, "candidate");
  g_assert_cmpstr (hq_protocol_relay_field (HQ_MESSAGE_PEER_OFFER), ==, "sdp");
}

/* What a builder makes is the text docs/protocol.md shows, and reads back
 * as the same message. */
static void
test_builders (void)
{
  g_autoptr (JsonObject) join = hq_protocol_message_new (HQ_MESSAGE_JOIN, "1");
  g_autoptr (JsonObject) ping = hq_protocol_message_new (HQ_MESSAGE_PING, NULL);
  g_autoptr (JsonObject) cand = hq_protocol_candidate_new (
      "publish", "candidate:1 1 UDP 1 1.2.3.4 5 typ host");
  g_autoptr (JsonObject) eoc = hq_protocol_candidate_new ("subscribe", NULL);
  g_autoptr (JsonObject) err = hq_protocol_error_new (
      "7", HQ_PROTOCOL_ERROR_NOT_HOST, "Only a host may.");
  g_autofree gchar *join_text = hq_protocol_to_text (join);
  g_autofree gchar *ping_text = hq_protocol_to_text (ping);
  g_autofree gchar *cand_text = hq_protocol_to_text (cand);
  g_autofree gchar *eoc_text = hq_protocol_to_text (eoc);
  g_autofree gchar *err_text = hq_protocol_to_text (err);
  g_autoptr (JsonObject) back = parse (err_text);
  HqProtocolError code = HQ_PROTOCOL_ERROR_INTERNAL;
  const gchar *message = NULL;

  g_assert_cmpstr (join_text, ==, "{\"type\":\"join\",\"id\":\"1\"}");
  g_assert_cmpstr (ping_text, ==, "{\"type\":\"ping\"}");
  g_assert_cmpstr (cand_text, ==,
      "{\"type\":\"candidate\",\"transport\":\"publish\",\"candidate\":"
      "\"candidate:1 1 UDP 1 1.2.3.4 5 typ host\"}");
  g_assert_cmpstr (eoc_text, ==,
      "{\"type\":\"end_of_candidates\",\"transport\":\"subscribe\"}");
  g_assert_cmpstr (err_text, ==,
      "{\"type\":\"error\",\"id\":\"7\",\"code\":\"not_host\",\"message\":"
      "\"Only a host may.\"}");
  g_assert_true (hq_protocol_check_message (cand, HQ_MESSAGE_CANDIDATE, NULL));
  g_assert_true (
      hq_protocol_check_message (eoc, HQ_MESSAGE_END_OF_CANDIDATES, NULL));
  g_assert_cmpint (hq_protocol_read_type (back), ==, HQ_MESSAGE_ERROR);
  g_assert_true (hq_protocol_read_error (back, &code, &message));
  g_assert_cmpint (code, ==, HQ_PROTOCOL_ERROR_NOT_HOST);
  g_assert_cmpstr (message, ==, "Only a host may.");
  g_assert_false (hq_protocol_read_error (join, &code, &message));
}

/* Readers of what a peer sent: a type of the wrong JSON type, a name this
 * version does not know, an error code from a newer server. */
static void
test_bad_types (void)
{
  g_autoptr (JsonObject) number = parse ("{\"type\": 5}");
  g_autoptr (JsonObject) missing = parse ("{\"id\": \"1\"}");
  g_autoptr (JsonObject) unknown = parse ("{\"type\": \"teleport\"}");
  g_autoptr (JsonObject) newer =
      parse ("{\"type\": \"error\", \"code\": \"quantum\", \"message\": 3}");
  g_autoptr (JsonObject) bad_cand =
      parse ("{\"type\": \"candidate\", \"transport\": 1}");
  g_autoptr (GError) error = NULL;
  HqProtocolError code = HQ_PROTOCOL_ERROR_INTERNAL;
  const gchar *message = NULL;

  g_assert_cmpint (hq_protocol_read_type (number), ==, HQ_MESSAGE_UNKNOWN);
  g_assert_cmpint (hq_protocol_read_type (missing), ==, HQ_MESSAGE_UNKNOWN);
  g_assert_cmpint (hq_protocol_read_type (unknown), ==, HQ_MESSAGE_UNKNOWN);
  g_assert_cmpint (hq_protocol_read_type (NULL), ==, HQ_MESSAGE_UNKNOWN);
  g_assert_true (hq_protocol_read_error (newer, &code, &message));
  g_assert_cmpint (code, ==, HQ_PROTOCOL_ERROR_BAD_MESSAGE);
  g_assert_cmpstr (message, ==, "");
  g_assert_false (
      hq_protocol_check_message (bad_cand, HQ_MESSAGE_CANDIDATE, &error));
  g_assert_error (error, HQ_PROTOCOL_ERROR, HQ_PROTOCOL_ERROR_INVALID_FIELD);
  g_assert_cmpstr (
      error->message, ==, "transport must be a string, not a whole number.");
}

gint
main (gint argc, gchar **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/protocol/message-names", test_message_names);
  g_test_add_func ("/protocol/error-codes", test_error_codes);
  g_test_add_func ("/protocol/close-codes", test_close_codes);
  g_test_add_func ("/protocol/priorities", test_priorities);
  g_test_add_func ("/protocol/rules-and-reasons", test_rules_and_reasons);
  g_test_add_func ("/protocol/builders", test_builders);
  g_test_add_func ("/protocol/bad-types", test_bad_types);
  return g_test_run ();
}
