/* Token endpoints; see hqtokenapi.h and docs/tokens.md.
 *
 * Field errors follow the reference app's wording where it had one
 * ("missing user_identity", "passcode incorrect"), so clients that matched
 * on those messages keep working. */
#include "hqtokenapi.h"
#include "hqhttp.h"
#include "hqlog.h"

#include <hq/hqutil.h>

#define HQ_ACCESS_TOKEN_DEFAULT_TTL 3600

/* The server's rooms, for create_room; one server per process. */
static HqRooms *token_rooms;
/* Requests and room creations per address; one server per process. */
static HqRateLimits *token_limits;

static gboolean
name_ok (const gchar *name)
{
  return g_utf8_validate (name, -1, NULL)
      && g_utf8_strlen (name, -1) <= HQ_TOKEN_MAX_NAME;
}

/* --- POST /token --- */

static gboolean
check_passcode (SoupServerMessage *msg, HqConfig *config, JsonObject *body)
{
  const gchar *passcode = NULL;
  GError *error = NULL;

  if (config->passcode == NULL)
    return TRUE;
  if (!hq_http_field_string (body, "passcode", &passcode, &error)) {
    hq_http_reply_error (msg, 400, "invalid parameter", error->message);
    g_error_free (error);
    return FALSE;
  }
  if (passcode == NULL || *passcode == '\0') {
    hq_http_reply_error (msg, 401, "passcode required",
        "This server asks for a passcode: send it in the passcode field.");
    return FALSE;
  }
  if (!hq_str_equal_const_time (passcode, config->passcode)) {
    hq_http_reply_error (msg, 401, "passcode incorrect",
        "The passcode used to validate application users is incorrect.");
    return FALSE;
  }
  if (config->passcode_expires != 0
      && g_get_real_time () / G_USEC_PER_SEC > config->passcode_expires) {
    hq_http_reply_error (msg, 401, "passcode expired",
        "The passcode used to validate application users has expired. "
        "Ask the administrator for a new one.");
    return FALSE;
  }
  return TRUE;
}

static void
handle_token (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer user_data)
{
  static const gchar *const methods[] = { "POST", NULL };
  HqConfig *config = user_data;
  g_autoptr (JsonObject) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *token = NULL;
  const gchar *identity = NULL, *room = NULL;
  gboolean create_room = TRUE;
  HqTokenGrant grant = { 0 };
  JsonObject *reply;

  if (!hq_http_exact_path (msg, path, "/token")
      || !hq_http_allow_methods (msg, methods))
    return;
  if (token_limits
      && !hq_http_rate_limit (msg, token_limits->token, "token requests"))
    return;
  body = hq_http_read_body (msg, TRUE, &error);
  if (body == NULL) {
    hq_http_reply_gerror (msg, error);
    return;
  }
  if (!check_passcode (msg, config, body))
    return;

  if (!hq_http_field_string (body, "user_identity", &identity, &error)) {
    hq_http_reply_error (msg, 400, "invalid user_identity", error->message);
    return;
  }
  if (identity == NULL || *identity == '\0') {
    hq_http_reply_error (msg, 400, "missing user_identity",
        "The user_identity parameter is missing.");
    return;
  }
  if (!name_ok (identity)) {
    hq_http_reply_error (msg, 400, "invalid user_identity",
        "The user_identity parameter must be at most 128 characters.");
    return;
  }
  if (!hq_http_field_bool (body, "create_room", &create_room, &error)) {
    hq_http_reply_error (msg, 400, "invalid parameter",
        "A boolean value must be provided for the create_room parameter.");
    return;
  }
  if (!hq_http_field_string (body, "room_name", &room, &error)) {
    hq_http_reply_error (msg, 400, "invalid room_name", error->message);
    return;
  }
  if (room != NULL && *room == '\0')
    room = NULL;
  if (room == NULL && create_room) {
    hq_http_reply_error (msg, 400, "missing room_name",
        "The room_name parameter is missing. room_name is required when "
        "create_room is true.");
    return;
  }
  if (room != NULL && !name_ok (room)) {
    hq_http_reply_error (msg, 400, "invalid room_name",
        "The room_name parameter must be at most 128 characters.");
    return;
  }

  if (create_room && token_rooms && !hq_rooms_lookup (token_rooms, room)) {
    HqRoomParams params = { .unique_name = room };
    if (token_limits
        && !hq_http_rate_limit (msg, token_limits->room_create, "new rooms"))
      return;
    if (!hq_rooms_create (token_rooms, &params, &error)) {
      hq_http_reply_error (msg, error->code == HQ_ROOM_ERROR_STORE ? 500 : 400,
          "room not created", error->message);
      return;
    }
  }

  grant.identity = identity;
  grant.room = room;
  grant.role = HQ_ROLE_GUEST;
  grant.ttl = config->token_ttl;
  token = hq_token_mint (config->key_sid, config->key_secret,
      config->account_sid, &grant, 0, &error);
  if (token == NULL) {
    hq_log_message (
        HQ_LOG_ERROR, "token", "minting failed: %s", error->message);
    hq_http_reply_error (msg, 500, "token not created", error->message);
    return;
  }
  reply = json_object_new ();
  json_object_set_string_member (reply, "token", token);
  json_object_set_string_member (reply, "room_type", config->room_type);
  hq_http_reply_object (msg, 200, reply);
}

/* --- POST /v1/AccessTokens --- */

static void
handle_access_tokens (SoupServer *server, SoupServerMessage *msg,
    const char *path, GHashTable *query, gpointer user_data)
{
  static const gchar *const methods[] = { "POST", NULL };
  HqConfig *config = user_data;
  g_autoptr (JsonObject) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *key_sid = NULL;
  g_autofree gchar *token = NULL;
  g_autoptr (GDateTime) expires = NULL;
  g_autofree gchar *expires_iso = NULL;
  const gchar *identity = NULL, *room = NULL, *role = NULL;
  const gchar *secret, *account = NULL;
  gint64 ttl = HQ_ACCESS_TOKEN_DEFAULT_TTL, now;
  HqTokenGrant grant = { 0 };
  JsonObject *reply;

  if (!hq_http_exact_path (msg, path, "/v1/AccessTokens")
      || !hq_http_allow_methods (msg, methods))
    return;
  key_sid = hq_http_basic_auth (msg, config->keyring);
  if (key_sid == NULL)
    return;
  body = hq_http_read_body (msg, TRUE, &error);
  if (body == NULL) {
    hq_http_reply_gerror (msg, error);
    return;
  }
  if (!hq_http_rest_string (body, "Identity", &identity, &error)
      || !hq_http_rest_string (body, "Room", &room, &error)
      || !hq_http_rest_string (body, "Role", &role, &error)
      || !hq_http_rest_int (body, "Ttl", &ttl, &error)) {
    hq_http_reply_error (msg, 400, "invalid parameter", error->message);
    return;
  }
  if (identity == NULL || *identity == '\0') {
    hq_http_reply_error (
        msg, 400, "missing Identity", "The Identity parameter is missing.");
    return;
  }
  if (!name_ok (identity)) {
    hq_http_reply_error (msg, 400, "invalid Identity",
        "The Identity parameter must be at most 128 characters.");
    return;
  }
  if (room != NULL && *room == '\0')
    room = NULL;
  if (room != NULL && !name_ok (room)) {
    hq_http_reply_error (msg, 400, "invalid Room",
        "The Room parameter must be at most 128 characters.");
    return;
  }
  grant.role = HQ_ROLE_GUEST;
  if (role != NULL && !hq_role_from_string (role, &grant.role)) {
    hq_http_reply_error (
        msg, 400, "invalid Role", "The Role parameter must be host or guest.");
    return;
  }
  if (ttl < 1 || ttl > HQ_TOKEN_MAX_LIFETIME) {
    hq_http_reply_error (msg, 400, "invalid Ttl",
        "The Ttl parameter must be 1 to 86400 seconds (24 hours).");
    return;
  }

  secret = hq_keyring_lookup (config->keyring, key_sid, &account);
  grant.identity = identity;
  grant.room = room;
  grant.ttl = ttl;
  now = g_get_real_time () / G_USEC_PER_SEC;
  token = hq_token_mint (key_sid, secret, account, &grant, now, &error);
  if (token == NULL) {
    hq_log_message (
        HQ_LOG_ERROR, "token", "minting failed: %s", error->message);
    hq_http_reply_error (msg, 500, "token not created", error->message);
    return;
  }
  expires = g_date_time_new_from_unix_utc (now + ttl);
  expires_iso = g_date_time_format (expires, "%Y-%m-%dT%H:%M:%SZ");

  reply = json_object_new ();
  json_object_set_string_member (reply, "token", token);
  json_object_set_string_member (reply, "identity", identity);
  if (room)
    json_object_set_string_member (reply, "room", room);
  else
    json_object_set_null_member (reply, "room");
  json_object_set_string_member (reply, "role", hq_role_to_string (grant.role));
  json_object_set_int_member (reply, "ttl", ttl);
  json_object_set_string_member (reply, "expires_at", expires_iso);
  json_object_set_string_member (reply, "account_sid", account);
  json_object_set_string_member (reply, "api_key_sid", key_sid);
  hq_http_reply_object (msg, 201, reply);
}

void
hq_token_api_register (
    SoupServer *server, HqConfig *config, HqRooms *rooms, HqRateLimits *limits)
{
  token_rooms = rooms;
  token_limits = limits;
  soup_server_add_handler (server, "/token", handle_token, config, NULL);
  soup_server_add_handler (
      server, "/v1/AccessTokens", handle_access_tokens, config, NULL);
}
