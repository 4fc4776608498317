/* Visits and invite links; see hqinvites.h and docs/invites.md.
 *
 * A code is ten characters of an alphabet without look-alikes (no 0/O,
 * 1/I): 50 random bits, short enough to read out on the phone, and with
 * POST /token's per-address rate limit far out of reach of guessing.  The
 * store keeps only its SHA-256, so a copy of the database opens no visit.
 * A code is counted as used only when it gives a token: a patient who
 * comes before the clinician, or whose link has the wrong visit's name
 * in it, may try again. */
#include "hqinvites.h"
#include "hqhttp.h"
#include "hqlog.h"

#include <string.h>
#include <hq/hqutil.h>

G_DEFINE_QUARK (hq - invite - error - quark, hq_invite_error);

#define CODE_LENGTH 10
/* Seconds an expired code is still known as expired. */
#define HQ_INVITE_KEEP_EXPIRED G_GINT64_CONSTANT (30 * 86400)
static const gchar code_alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

void
hq_visit_free (HqVisit *visit)
{
  if (visit == NULL)
    return;
  g_free (visit->visit);
  g_free (visit->host_code);
  g_free (visit->patient_code);
  g_free (visit);
}

static gchar *
code_new (void)
{
  guint8 bytes[CODE_LENGTH];
  gchar *code = g_new0 (gchar, CODE_LENGTH + 1);

  hq_random_bytes (bytes, sizeof bytes);
  /* 32 letters: the low five bits of each byte are uniform. */
  for (gsize i = 0; i < CODE_LENGTH; i++)
    code[i] = code_alphabet[bytes[i] & 31];
  return code;
}

/* The stored form of @code, or NULL when it cannot be one of ours. Codes
 * are read case-insensitively (a person may type one). */
static gchar *
code_hash (const gchar *code)
{
  g_autofree gchar *upper = NULL;

  if (code == NULL || strlen (code) != CODE_LENGTH)
    return NULL;
  upper = g_ascii_strup (code, -1);
  for (const gchar *c = upper; *c; c++)
    if (strchr (code_alphabet, *c) == NULL)
      return NULL;
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, upper, -1);
}

static gboolean
visit_name_ok (const gchar *name, GError **error)
{
  if (*name == '\0' || !g_utf8_validate (name, -1, NULL)
      || g_utf8_strlen (name, -1) > HQ_TOKEN_MAX_NAME
      || strchr (name, '/') != NULL || hq_sid_is_valid (name, "RM")) {
    g_set_error (error, HQ_INVITE_ERROR, HQ_INVITE_ERROR_INVALID,
        "A visit's name must be 1 to 128 characters, without \"/\", and not "
        "look like a room sid.");
    return FALSE;
  }
  return TRUE;
}

static gboolean
put_code (HqStore *store, const gchar *code, const HqVisit *visit, HqRole role,
    gint64 now, GError **error)
{
  g_autofree gchar *hash = code_hash (code);
  HqInviteRecord rec = {
    .code_hash = hash,
    .visit = visit->visit,
    .role = (gchar *)hq_role_to_string (role),
    .waiting_room = visit->waiting_room,
    .max_uses = role == HQ_ROLE_HOST ? 0 : visit->max_uses,
    .created = now,
    .expires = visit->expires,
  };

  return hq_store_put_invite (store, &rec, error);
}

HqVisit *
hq_visit_create (HqStore *store, const HqVisitParams *params, GError **error)
{
  g_autoptr (HqVisit) visit = g_new0 (HqVisit, 1);
  g_autoptr (GError) store_error = NULL;
  gint64 now = g_get_real_time () / 1000;

  if (params->visit && !visit_name_ok (params->visit, error))
    return NULL;
  if (params->ttl < 60 || params->ttl > HQ_INVITE_MAX_TTL) {
    g_set_error (error, HQ_INVITE_ERROR, HQ_INVITE_ERROR_INVALID_TTL,
        "The links' lifetime (Ttl) must be 60 to %d seconds (30 days).",
        HQ_INVITE_MAX_TTL);
    return NULL;
  }
  if (params->max_uses < 0 || params->max_uses > HQ_INVITE_MAX_USES) {
    g_set_error (error, HQ_INVITE_ERROR, HQ_INVITE_ERROR_INVALID_USES,
        "The patient link's uses (MaxUses) must be 0 (any number until it "
        "expires) to %d.",
        HQ_INVITE_MAX_USES);
    return NULL;
  }
  if (params->visit)
    visit->visit = g_strdup (params->visit);
  else {
    g_autofree gchar *code = code_new ();
    visit->visit = g_strdup_printf ("visit-%s", code);
    /* Room names read better in lower case. */
    for (gchar *c = visit->visit; *c; c++)
      *c = g_ascii_tolower (*c);
  }
  visit->waiting_room = !params->no_waiting_room;
  visit->max_uses = (gint)params->max_uses;
  visit->expires = now + params->ttl * 1000;
  /* Codes long expired go: a late patient still hears "expired" for a
   * month, then "not valid". */
  if (!hq_store_prune_invites (
          store, now - HQ_INVITE_KEEP_EXPIRED * 1000, &store_error))
    g_clear_error (&store_error);
  visit->host_code = code_new ();
  visit->patient_code = code_new ();
  if (!put_code (
          store, visit->host_code, visit, HQ_ROLE_HOST, now, &store_error)
      || !put_code (store, visit->patient_code, visit, HQ_ROLE_GUEST, now,
          &store_error)) {
    g_set_error (error, HQ_INVITE_ERROR, HQ_INVITE_ERROR_STORE,
        "The visit's links could not be stored: %s", store_error->message);
    return NULL;
  }
  return g_steal_pointer (&visit);
}

gchar *
hq_invite_url (const gchar *base, const gchar *code)
{
  /* In the fragment: browsers never send it, so the code stays out of
   * request lines and access logs; the page reads it and takes it out of
   * the address bar once it has a token. */
  return g_strdup_printf ("%s/#invite=%s", base, code);
}

static gboolean
invite_failed (GError **error, HqInviteError code, const gchar *message)
{
  g_set_error_literal (error, HQ_INVITE_ERROR, code, message);
  return FALSE;
}

/* A patient's code for a room not in progress: the visit has ended when a
 * room of its name completed after the code was made, else it has not
 * started yet (an older visit of the same name does not count). */
static gboolean
not_in_progress (HqStore *store, const HqInviteRecord *invite, GError **error)
{
  g_autoptr (GPtrArray) done =
      hq_store_list_rooms (store, "completed", invite->visit, 1, 0, NULL);

  if (done && done->len > 0
      && ((HqRoomRecord *)g_ptr_array_index (done, 0))->ended
          >= invite->created)
    return invite_failed (error, HQ_INVITE_ERROR_ENDED,
        "This visit has ended; ask your clinic for a new link if you need "
        "another one.");
  return invite_failed (error, HQ_INVITE_ERROR_NOT_STARTED,
      "This visit has not started yet: the link works once your clinician "
      "has started it.");
}

gboolean
hq_invite_redeem (HqRooms *rooms, const gchar *code, gchar **room, HqRole *role,
    GError **error)
{
  HqStore *store = hq_rooms_get_store (rooms);
  g_autofree gchar *hash = code_hash (code);
  g_autoptr (HqInviteRecord) invite = NULL;
  g_autoptr (GError) store_error = NULL;
  gboolean counted = FALSE;

  if (hash)
    invite = hq_store_get_invite (store, hash, &store_error);
  if (invite == NULL && store_error
      && store_error->code != HQ_STORE_ERROR_NOT_FOUND)
    return invite_failed (error, HQ_INVITE_ERROR_STORE, store_error->message);
  if (invite == NULL)
    return invite_failed (error, HQ_INVITE_ERROR_UNKNOWN,
        "This link is not one of this server's: check that the whole link "
        "was opened, or ask your clinic for a new one.");
  if (g_get_real_time () / 1000 >= invite->expires)
    return invite_failed (error, HQ_INVITE_ERROR_EXPIRED,
        "This link has expired; ask your clinic for a new one.");
  if (invite->max_uses > 0 && invite->uses >= invite->max_uses)
    return invite_failed (error, HQ_INVITE_ERROR_USED,
        "This link has already been used; ask your clinic for a new one.");
  if (!hq_role_from_string (invite->role, role))
    *role = HQ_ROLE_GUEST;

  if (hq_rooms_lookup (rooms, invite->visit) == NULL) {
    HqRoomParams params = {
      .unique_name = invite->visit,
      .waiting_room = invite->waiting_room,
    };
    g_autoptr (GError) room_error = NULL;

    if (*role != HQ_ROLE_HOST)
      return not_in_progress (store, invite, error);
    /* The clinician's link starts the visit. */
    if (hq_rooms_create (rooms, &params, &room_error) == NULL)
      return invite_failed (error, HQ_INVITE_ERROR_STORE, room_error->message);
    hq_log_message (
        HQ_LOG_INFO, "invite", "a host link started visit %s", invite->visit);
  }
  if (!hq_store_use_invite (store, hash, &counted, &store_error))
    return invite_failed (error, HQ_INVITE_ERROR_STORE, store_error->message);
  if (!counted)
    return invite_failed (error, HQ_INVITE_ERROR_USED,
        "This link has already been used; ask your clinic for a new one.");
  *room = g_strdup (invite->visit);
  return TRUE;
}

/* --- POST /v1/Visits --- */

/* The API key (HTTP Basic), or a host's access token (Bearer), for its
 * own room or a new visit.  Answers and returns FALSE otherwise. */
static gboolean
authorize (SoupServerMessage *msg, HqConfig *config, const gchar *visit)
{
  const gchar *auth = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Authorization");
  g_autoptr (HqTokenClaims) claims = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *key_sid = NULL;

  if (auth == NULL || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0) {
    key_sid = hq_http_basic_auth (msg, config->keyring);
    return key_sid != NULL;
  }
  claims = hq_token_verify (config->keyring, auth + 7, NULL, 0, &error);
  if (claims == NULL) {
    hq_http_reply_error (msg, 401, "authentication failed", error->message);
    return FALSE;
  }
  if (claims->role != HQ_ROLE_HOST) {
    hq_http_reply_error (msg, 403, "not a host",
        "Only a host (a clinician) may make visits and their links.");
    return FALSE;
  }
  if (visit && claims->room && strcmp (visit, claims->room) != 0) {
    hq_http_reply_error (msg, 403, "not your visit",
        "A host's token makes links for its own room or for a new visit; "
        "leave UniqueName out for a new one.");
    return FALSE;
  }
  return TRUE;
}

static JsonObject *
link_object (const gchar *base, const gchar *code, HqRole role, gint max_uses)
{
  JsonObject *link = json_object_new ();
  g_autofree gchar *url = hq_invite_url (base, code);

  json_object_set_string_member (link, "code", code);
  json_object_set_string_member (link, "url", url);
  json_object_set_string_member (link, "role", hq_role_to_string (role));
  json_object_set_int_member (link, "max_uses", max_uses);
  return link;
}

typedef struct
{
  HqConfig *config;
  HqRooms *rooms;
} VisitsApi;

static void
handle_visits (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer user_data)
{
  static const gchar *const methods[] = { "POST", NULL };
  VisitsApi *api = user_data;
  g_autoptr (JsonObject) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (HqVisit) visit = NULL;
  g_autofree gchar *base = NULL, *expires_iso = NULL;
  HqVisitParams params = { .ttl = HQ_INVITE_DEFAULT_TTL, .max_uses = 1 };
  gboolean waiting_room = TRUE;
  JsonObject *reply;

  if (!hq_http_exact_path (msg, path, "/v1/Visits")
      || !hq_http_allow_methods (msg, methods))
    return;
  body = hq_http_read_body (msg, TRUE, &error);
  if (body == NULL) {
    hq_http_reply_gerror (msg, error);
    return;
  }
  if (!hq_http_rest_string (body, "UniqueName", &params.visit, &error)
      || !hq_http_rest_bool (body, "WaitingRoom", &waiting_room, &error)
      || !hq_http_rest_int (body, "Ttl", &params.ttl, &error)
      || !hq_http_rest_int (body, "MaxUses", &params.max_uses, &error)) {
    hq_http_reply_error (msg, 400, "invalid parameter", error->message);
    return;
  }
  if (params.visit && *params.visit == '\0')
    params.visit = NULL;
  if (!authorize (msg, api->config, params.visit))
    return;
  params.no_waiting_room = !waiting_room;
  visit = hq_visit_create (hq_rooms_get_store (api->rooms), &params, &error);
  if (visit == NULL) {
    const gchar *what = error->code == HQ_INVITE_ERROR_INVALID
        ? "invalid UniqueName"
        : error->code == HQ_INVITE_ERROR_INVALID_TTL  ? "invalid Ttl"
        : error->code == HQ_INVITE_ERROR_INVALID_USES ? "invalid MaxUses"
                                                      : NULL;
    hq_http_reply_error (msg, what ? 400 : 500,
        what ? what : "visit not created", error->message);
    return;
  }
  hq_log_message (HQ_LOG_INFO, "invite", "visit %s: links made", visit->visit);
  base = hq_http_base_url (msg);
  expires_iso = hq_time_iso (visit->expires);
  reply = json_object_new ();
  json_object_set_string_member (reply, "visit", visit->visit);
  json_object_set_boolean_member (reply, "waiting_room", visit->waiting_room);
  json_object_set_string_member (reply, "expires_at", expires_iso);
  json_object_set_object_member (
      reply, "host", link_object (base, visit->host_code, HQ_ROLE_HOST, 0));
  json_object_set_object_member (reply, "patient",
      link_object (base, visit->patient_code, HQ_ROLE_GUEST, visit->max_uses));
  hq_http_reply_object (msg, 201, reply);
}

void
hq_invites_api_register (SoupServer *server, HqConfig *config, HqRooms *rooms)
{
  VisitsApi *api = g_new0 (VisitsApi, 1);

  api->config = config;
  api->rooms = rooms;
  soup_server_add_handler (server, "/v1/Visits", handle_visits, api, g_free);
}
