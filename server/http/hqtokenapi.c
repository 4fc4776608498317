/* Token endpoints; see hqtokenapi.h and docs/tokens.md.
 *
 * POST /token is how a guest without an account gets into a visit, so it
 * is closed unless the operator opens it: the passcode (made on first
 * start), or rooms opened by name.  What the guest types is only a
 * display name; its identity is made here, so a guest can never take a
 * participant's place by naming itself after them.
 *
 * Field errors follow the reference app's wording where it had one
 * ("missing user_identity", "passcode incorrect"), so clients that matched
 * on those messages keep working. */
#include "hqtokenapi.h"
#include "hqhttp.h"
#include "hqinvites.h"
#include "hqlog.h"
#include "hqoidc.h"
#include "hqturn.h"

#include <string.h>
#include <hq/hqutil.h>

#define HQ_ACCESS_TOKEN_DEFAULT_TTL 3600

/* The server's rooms, for create_room; one server per process. */
static HqRooms *token_rooms;
/* Requests and room creations per address; one server per process. */
static HqRateLimits *token_limits;
/* Sids of the rooms POST /token created, to count those still in progress
 * against [token] max_rooms. */
static GPtrArray *token_created;
/* Sign-in through an identity provider ([oidc]); NULL when not set up. */
static HqOidc *token_oidc;

static gboolean
name_ok (const gchar *name)
{
  return g_utf8_validate (name, -1, NULL)
      && g_utf8_strlen (name, -1) <= HQ_TOKEN_MAX_NAME;
}

/* --- POST /token --- */

/* Whether this request may have a token for @room: the room is opened by
 * the configuration, or the request carries the passcode.  Otherwise
 * answers 401 or 403. */
static gboolean
check_access (SoupServerMessage *msg, HqConfig *config, JsonObject *body,
    const gchar *room)
{
  const gchar *passcode = NULL;
  GError *error = NULL;

  if (hq_config_token_room_open (config, room))
    return TRUE;
  if (!hq_http_field_string (body, "passcode", &passcode, &error)) {
    hq_http_reply_error (msg, 400, "invalid parameter", error->message);
    g_error_free (error);
    return FALSE;
  }
  if (config->passcode == NULL) {
    hq_http_reply_error (msg, 403, "token endpoint closed",
        "This server gives guest tokens only for the rooms its operator "
        "opened; ask whoever invited you for a link.");
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

/* Rooms POST /token created that are still in progress. */
static guint
created_in_progress (void)
{
  for (guint i = token_created->len; i > 0; i--) {
    const gchar *sid = g_ptr_array_index (token_created, i - 1);
    if (hq_rooms_lookup (token_rooms, sid) == NULL)
      g_ptr_array_remove_index_fast (token_created, i - 1);
  }
  return token_created->len;
}

/* Creates @room for create_room, within [token] create_rooms and
 * max_rooms; answers and returns FALSE when it may not or cannot. */
static gboolean
create_room (SoupServerMessage *msg, HqConfig *config, const gchar *room)
{
  HqRoomParams params = { .unique_name = room };
  g_autoptr (GError) error = NULL;
  HqRoom *made;

  if (config->token_create_rooms == NULL
      || !g_pattern_match_simple (config->token_create_rooms, room)) {
    hq_http_reply_error (msg, 403, "room not created",
        "There is no room of this name in progress, and guests may not "
        "create one of this name here; ask whoever invited you for the "
        "right room name.");
    return FALSE;
  }
  if (created_in_progress () >= config->token_max_rooms) {
    hq_http_reply_error (msg, 429, "too many rooms",
        "Guests have created as many rooms as this server allows at once; "
        "try again when one has ended.");
    return FALSE;
  }
  if (token_limits
      && !hq_http_rate_limit (msg, token_limits->room_create, "new rooms"))
    return FALSE;
  made = hq_rooms_create (token_rooms, &params, &error);
  if (made == NULL) {
    hq_http_reply_error (msg, error->code == HQ_ROOM_ERROR_STORE ? 500 : 400,
        "room not created", error->message);
    return FALSE;
  }
  g_ptr_array_add (token_created, g_strdup (hq_room_get_record (made)->sid));
  return TRUE;
}

/* A guest's identity is the server's, never what the guest typed: nobody
 * can take over or pose as another participant's identity.  @prefix is
 * "guest-", or "host-" for a clinician's invite link. */
static gchar *
identity_new (const gchar *prefix)
{
  guint8 bytes[8];
  GString *id = g_string_new (prefix);

  hq_random_bytes (bytes, sizeof bytes);
  for (gsize i = 0; i < sizeof bytes; i++)
    g_string_append_printf (id, "%02x", bytes[i]);
  return g_string_free (id, FALSE);
}

/* Creates @room when asked and allowed, then answers with a token for
 * @identity (shown as @name) in it. */
static void
reply_token (SoupServerMessage *msg, HqConfig *config, const gchar *identity,
    const gchar *name, const gchar *room, gboolean create, HqRole role)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *token = NULL;
  HqTokenGrant grant = { 0 };
  JsonObject *reply;

  if (create && token_rooms && !hq_rooms_lookup (token_rooms, room)
      && !create_room (msg, config, room))
    return;
  grant.identity = identity;
  grant.name = name;
  grant.room = room;
  grant.role = role;
  grant.ttl = config->token_ttl;
  /* Video and chat, as the reference app's token server grants. */
  grant.chat = TRUE;
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
  json_object_set_string_member (reply, "identity", identity);
  json_object_set_string_member (reply, "name", name);
  json_object_set_string_member (reply, "role", hq_role_to_string (role));
  json_object_set_string_member (reply, "room_name", room);
  json_object_set_array_member (
      reply, "ice_servers", hq_turn_ice_servers (config, identity));
  hq_http_reply_object (msg, 200, reply);
}

/* "Authorization: Bearer <ID token>" of a user signed in at the identity
 * provider, or no Authorization at all; anything else is answered here. */
static gboolean
bearer_token (SoupServerMessage *msg, const gchar **token)
{
  const gchar *auth = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Authorization");

  *token = NULL;
  if (auth == NULL)
    return TRUE;
  if (g_ascii_strncasecmp (auth, "Bearer ", 7) != 0 || auth[7] == '\0') {
    hq_http_reply_error (msg, 401, "sign-in token required",
        "Send the identity provider's ID token as \"Authorization: Bearer "
        "<token>\", or no Authorization header and the passcode.");
    return FALSE;
  }
  if (token_oidc == NULL) {
    hq_http_reply_error (msg, 401, "no identity provider",
        "This server does not sign people in with an identity provider; "
        "ask whoever invited you for the passcode or a link.");
    return FALSE;
  }
  *token = auth + 7;
  return TRUE;
}

/* {"invite": code, "user_identity": name}: the code of an invite link
 * (hqinvites.c) names the room and the role; what the person typed is
 * the display name, as for any guest. */
static void
reply_invite (SoupServerMessage *msg, HqConfig *config, JsonObject *body,
    const gchar *name)
{
  static const struct
  {
    guint status;
    const gchar *message;
  } refusals[] = {
    [HQ_INVITE_ERROR_INVALID] = { 400, "invalid invite" },
    [HQ_INVITE_ERROR_UNKNOWN] = { 404, "invite unknown" },
    [HQ_INVITE_ERROR_EXPIRED] = { 410, "invite expired" },
    [HQ_INVITE_ERROR_USED] = { 410, "invite used" },
    [HQ_INVITE_ERROR_NOT_STARTED] = { 409, "visit not started" },
    [HQ_INVITE_ERROR_ENDED] = { 410, "visit ended" },
    [HQ_INVITE_ERROR_STORE] = { 500, "invite not checked" },
  };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *room = NULL, *identity = NULL;
  const gchar *code = NULL;
  HqRole role = HQ_ROLE_GUEST;

  if (!hq_http_field_string (body, "invite", &code, &error) || code == NULL
      || *code == '\0') {
    hq_http_reply_error (msg, 400, "invalid invite",
        "The invite field must be the code of an invite link (a string).");
    return;
  }
  if (name == NULL || *name == '\0') {
    hq_http_reply_error (msg, 400, "missing user_identity",
        "The user_identity parameter is missing: the name to show the "
        "others.");
    return;
  }
  if (token_rooms == NULL
      || !hq_invite_redeem (token_rooms, code, &room, &role, &error)) {
    guint i = error ? (guint)error->code : HQ_INVITE_ERROR_STORE;
    if (i >= G_N_ELEMENTS (refusals))
      i = HQ_INVITE_ERROR_STORE;
    hq_http_reply_error (msg, refusals[i].status, refusals[i].message,
        error ? error->message : "No rooms on this server.");
    return;
  }
  identity = identity_new (role == HQ_ROLE_HOST ? "host-" : "guest-");
  hq_log_message (HQ_LOG_INFO, "token", "invite code for %s gave %s (%s)", room,
      identity, hq_role_to_string (role));
  reply_token (msg, config, identity, name, room, FALSE, role);
}

typedef struct
{
  SoupServerMessage *msg;
  HqConfig *config;
  gchar *name, *room;
  gboolean create;
} TokenRequest;

static void
signed_in_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  TokenRequest *req = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (HqOidcUser) user = hq_oidc_verify_finish (token_oidc, res, &error);

  if (user == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    hq_http_reply_error (req->msg, 503, "server stopping",
        "The server is stopping; try again in a moment.");
  else if (user == NULL)
    hq_http_reply_error (req->msg,
        error->code == HQ_OIDC_ERROR_PROVIDER ? 503 : 401,
        error->code == HQ_OIDC_ERROR_PROVIDER ? "identity provider unavailable"
                                              : "sign-in refused",
        error->message);
  else {
    const gchar *identity = user->email ? user->email : user->subject;
    const gchar *name = req->name && *req->name ? req->name
        : user->name                            ? user->name
                                                : identity;
    if (!name_ok (identity) || !name_ok (name))
      hq_http_reply_error (req->msg, 401, "sign-in refused",
          "The identity provider's user name or email is over 128 "
          "characters.");
    else {
      hq_log_message (HQ_LOG_INFO, "token", "%s signed in as %s", identity,
          user->host ? "host" : "guest");
      reply_token (req->msg, req->config, identity, name, req->room,
          req->create, user->host ? HQ_ROLE_HOST : HQ_ROLE_GUEST);
    }
  }
  soup_server_message_unpause (req->msg);
  g_object_unref (req->msg);
  g_free (req->name);
  g_free (req->room);
  g_free (req);
}

static void
handle_token (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer user_data)
{
  static const gchar *const methods[] = { "POST", NULL };
  HqConfig *config = user_data;
  g_autoptr (JsonObject) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *identity = NULL;
  const gchar *name = NULL, *room = NULL, *bearer = NULL;
  gboolean create = TRUE, conversation = FALSE;

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
  if (!bearer_token (msg, &bearer))
    return;

  if (!hq_http_field_string (body, "user_identity", &name, &error)) {
    hq_http_reply_error (msg, 400, "invalid user_identity", error->message);
    return;
  }
  if ((name == NULL || *name == '\0') && bearer == NULL) {
    hq_http_reply_error (msg, 400, "missing user_identity",
        "The user_identity parameter is missing: the name to show the "
        "others.");
    return;
  }
  if (name && !name_ok (name)) {
    hq_http_reply_error (msg, 400, "invalid user_identity",
        "The user_identity parameter must be at most 128 characters.");
    return;
  }
  /* An invite link's code names its room: nothing else is asked. */
  if (json_object_has_member (body, "invite")) {
    reply_invite (msg, config, body, name);
    return;
  }
  if (!hq_http_field_bool (body, "create_room", &create, &error)) {
    hq_http_reply_error (msg, 400, "invalid parameter",
        "A boolean value must be provided for the create_room parameter.");
    return;
  }
  /* The reference app asks for the room's conversation; here every room
   * has its chat, and every token below grants it, so the field is only
   * checked. */
  if (!hq_http_field_bool (
          body, "create_conversation", &conversation, &error)) {
    hq_http_reply_error (msg, 400, "invalid parameter",
        "A boolean value must be provided for the create_conversation "
        "parameter.");
    return;
  }
  if (!hq_http_field_string (body, "room_name", &room, &error)) {
    hq_http_reply_error (msg, 400, "invalid room_name", error->message);
    return;
  }
  /* A token for any room is never handed out here. */
  if (room == NULL || *room == '\0') {
    hq_http_reply_error (msg, 400, "missing room_name",
        "The room_name parameter is missing: a guest token admits to one "
        "named room.");
    return;
  }
  if (!name_ok (room)) {
    hq_http_reply_error (msg, 400, "invalid room_name",
        "The room_name parameter must be at most 128 characters.");
    return;
  }
  if (bearer) {
    TokenRequest *req = g_new0 (TokenRequest, 1);
    req->msg = g_object_ref (msg);
    req->config = config;
    req->name = g_strdup (name);
    req->room = g_strdup (room);
    req->create = create;
    soup_server_message_pause (msg);
    hq_oidc_verify_async (token_oidc, bearer, signed_in_cb, req);
    return;
  }
  if (!check_access (msg, config, body, room))
    return;
  identity = identity_new ("guest-");
  reply_token (msg, config, identity, name, room, create, HQ_ROLE_GUEST);
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
  const gchar *identity = NULL, *room = NULL, *role = NULL, *name = NULL;
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
      || !hq_http_rest_string (body, "Name", &name, &error)
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
  if (name != NULL && *name == '\0')
    name = NULL;
  if (name != NULL && !name_ok (name)) {
    hq_http_reply_error (msg, 400, "invalid Name",
        "The Name parameter must be at most 128 characters.");
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
  grant.name = name;
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
  if (name)
    json_object_set_string_member (reply, "name", name);
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
  if (token_created == NULL)
    token_created = g_ptr_array_new_with_free_func (g_free);
  if (token_oidc == NULL && config->oidc_issuer) {
    HqOidcConfig oidc = {
      .issuer = config->oidc_issuer,
      .audience = config->oidc_audience,
      .jwks_url = config->oidc_jwks_url,
      .allowed_emails = (const gchar *const *)config->oidc_allowed_emails,
      .host_claim = config->oidc_host_claim,
      .host_value = config->oidc_host_value,
      .refresh_min_s = (guint)config->oidc_refresh_min,
    };
    token_oidc = hq_oidc_new (&oidc);
  }
  soup_server_add_handler (server, "/token", handle_token, config, NULL);
  soup_server_add_handler (
      server, "/v1/AccessTokens", handle_access_tokens, config, NULL);
}
