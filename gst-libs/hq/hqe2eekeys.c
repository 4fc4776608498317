/* Key epochs of an end-to-end encrypted room: see hqe2eekeys.h and
 * docs/e2ee.md ("Key distribution").  P-256 ECDH, AES-128-GCM and the
 * random epoch secrets are OpenSSL's; HMAC-SHA256 is GLib's. */
#include "hqe2eekeys.h"
#include "hqprotocol.h"

#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define POINT_LEN 65 /* an uncompressed P-256 point */
#define SECRET_BYTES 32
#define NONCE_LEN 12
#define TAG_LEN 16
/* an epoch message's secret (base64 of 32 bytes) and then some */
#define MAX_SEALED 256

typedef struct
{
  gchar *sid, *identity;
  EVP_PKEY *pub;
} Peer;

struct _HqE2eeKeys
{
  HqFrameCrypt *fc;
  guint8 announce_key[32];
  EVP_PKEY *own; /* our key pair */
  gchar *own_pub; /* its public point, base64 */
  gchar *sid, *identity; /* ours, once joined */
  guint epoch;
  gchar *epoch_secret; /* the current epoch's secret (epoch 0: the room's) */
  gchar *distributor; /* who sent the current epoch (NULL: epoch 0) */
  GHashTable *peers; /* sid -> Peer: key holders whose key verified */
  GHashTable *members; /* sid -> identity: who is in the room */
  HqE2eeSendFunc send;
  HqE2eeEpochFunc on_epoch;
  gpointer user_data;
  GDestroyNotify notify;
  HqRoomClient *client; /* attached to: it owns us */
};

static void
peer_free (gpointer p)
{
  Peer *peer = p;

  g_free (peer->sid);
  g_free (peer->identity);
  EVP_PKEY_free (peer->pub);
  g_free (peer);
}

static void
free_secret (gchar *s)
{
  if (s) {
    OPENSSL_cleanse (s, strlen (s));
    g_free (s);
  }
}

HqE2eeKeys *
hq_e2ee_keys_new (HqFrameCrypt *fc, const gchar *room_secret)
{
  HqE2eeKeys *keys = g_new0 (HqE2eeKeys, 1);
  guint8 point[POINT_LEN];
  size_t len = 0;

  g_return_val_if_fail (room_secret && *room_secret, NULL);
  keys->fc = hq_frame_crypt_ref (fc);
  hq_frame_crypt_kdf ((const guint8 *)room_secret, strlen (room_secret),
      "hqrooms announce", keys->announce_key, sizeof keys->announce_key);
  keys->own = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  if (keys->own == NULL
      || !EVP_PKEY_get_octet_string_param (keys->own,
          OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof point, &len)
      || len != POINT_LEN)
    g_error ("hq: OpenSSL cannot make a P-256 key pair");
  keys->own_pub = g_base64_encode (point, len);
  keys->epoch_secret = g_strdup (room_secret);
  keys->peers =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, peer_free);
  keys->members =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return keys;
}

void
hq_e2ee_keys_free (HqE2eeKeys *keys)
{
  if (keys == NULL)
    return;
  if (keys->client)
    g_signal_handlers_disconnect_by_data (keys->client, keys);
  if (keys->notify)
    keys->notify (keys->user_data);
  hq_frame_crypt_unref (keys->fc);
  OPENSSL_cleanse (keys->announce_key, sizeof keys->announce_key);
  EVP_PKEY_free (keys->own);
  g_free (keys->own_pub);
  g_free (keys->sid);
  g_free (keys->identity);
  free_secret (keys->epoch_secret);
  g_free (keys->distributor);
  g_hash_table_unref (keys->peers);
  g_hash_table_unref (keys->members);
  g_free (keys);
}

void
hq_e2ee_keys_set_funcs (HqE2eeKeys *keys, HqE2eeSendFunc send,
    HqE2eeEpochFunc epoch, gpointer user_data, GDestroyNotify notify)
{
  keys->send = send;
  keys->on_epoch = epoch;
  keys->user_data = user_data;
  keys->notify = notify;
}

HqFrameCrypt *
hq_e2ee_keys_get_crypt (HqE2eeKeys *keys)
{
  return keys->fc;
}

guint
hq_e2ee_keys_get_epoch (HqE2eeKeys *keys)
{
  return keys->epoch;
}

static void client_send (
    HqE2eeKeys *keys, const gchar *to_sid, const gchar *data);

static void
send (HqE2eeKeys *keys, const gchar *to_sid, const gchar *data)
{
  if (keys->client)
    client_send (keys, to_sid, data);
  else if (keys->send)
    keys->send (to_sid, data, keys->user_data);
}

/* --- announcing keys --- */

static gchar *
announce_mac (HqE2eeKeys *keys, const gchar *identity, const gchar *pub)
{
  g_autofree gchar *text = g_strdup_printf ("key1 %s %s", identity, pub);

  return g_compute_hmac_for_string (G_CHECKSUM_SHA256, keys->announce_key,
      sizeof keys->announce_key, text, -1);
}

static void
announce (HqE2eeKeys *keys, const gchar *to_sid, const gchar *kind)
{
  g_autofree gchar *mac = announce_mac (keys, keys->identity, keys->own_pub);
  g_autofree gchar *data =
      g_strdup_printf ("key1 %s %s %s", keys->own_pub, mac, kind);

  send (keys, to_sid, data);
}

static EVP_PKEY *
import_point (const guint8 *point, gsize len)
{
  OSSL_PARAM params[] = {
    OSSL_PARAM_utf8_string (
        OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
    OSSL_PARAM_octet_string (OSSL_PKEY_PARAM_PUB_KEY, (void *)point, len),
    OSSL_PARAM_END,
  };
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name (NULL, "EC", NULL);
  EVP_PKEY *pkey = NULL;

  if (ctx == NULL || EVP_PKEY_fromdata_init (ctx) <= 0
      || EVP_PKEY_fromdata (ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
    pkey = NULL;
  EVP_PKEY_CTX_free (ctx);
  return pkey;
}

/* --- who draws a new epoch --- */

/* The identity that sorts first among us and the key holders in the room,
 * @except left out; TRUE when it is ours. */
static gboolean
we_distribute (HqE2eeKeys *keys, const gchar *except)
{
  GHashTableIter it;
  Peer *peer;

  if (keys->identity == NULL)
    return FALSE;
  g_hash_table_iter_init (&it, keys->peers);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *)&peer)) {
    if ((except && g_str_equal (peer->sid, except))
        || !g_hash_table_contains (keys->members, peer->sid))
      continue;
    if (strcmp (peer->identity, keys->identity) < 0)
      return FALSE;
  }
  return TRUE;
}

/* --- sealing an epoch secret for one peer --- */

static gboolean
shared_key (HqE2eeKeys *keys, EVP_PKEY *peer, guint8 out[16])
{
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey (NULL, keys->own, NULL);
  guint8 z[32];
  size_t len = sizeof z;
  gboolean ok = ctx && EVP_PKEY_derive_init (ctx) > 0
      && EVP_PKEY_derive_set_peer (ctx, peer) > 0
      && EVP_PKEY_derive (ctx, z, &len) > 0 && len == sizeof z;

  EVP_PKEY_CTX_free (ctx);
  if (ok)
    hq_frame_crypt_kdf (z, sizeof z, "hqrooms epoch key", out, 16);
  OPENSSL_cleanse (z, sizeof z);
  return ok;
}

/* AES-128-GCM of @in (@len bytes) into @out (@len + TAG_LEN bytes), or
 * the reverse (@seal FALSE: @len counts the tag).  FALSE when the tag does
 * not verify. */
static gboolean
gcm (gboolean seal, const guint8 key[16], const guint8 nonce[NONCE_LEN],
    const gchar *aad, const guint8 *in, gsize len, guint8 *out)
{
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  gsize body = seal ? len : len - TAG_LEN;
  int n = 0, fin = 0;
  gboolean ok;

  if (!seal && len < TAG_LEN) {
    EVP_CIPHER_CTX_free (ctx);
    return FALSE;
  }
  ok = ctx
      && EVP_CipherInit_ex (ctx, EVP_aes_128_gcm (), NULL, key, nonce, seal)
      && EVP_CipherUpdate (
          ctx, NULL, &n, (const guint8 *)aad, (int)strlen (aad))
      && EVP_CipherUpdate (ctx, out, &n, in, (int)body)
      && (seal
          || EVP_CIPHER_CTX_ctrl (
              ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, (void *)(in + body)))
      && EVP_CipherFinal_ex (ctx, out + n, &fin) > 0
      && (!seal
          || EVP_CIPHER_CTX_ctrl (
              ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, out + body));
  EVP_CIPHER_CTX_free (ctx);
  return ok;
}

static void
send_epoch (HqE2eeKeys *keys, Peer *peer)
{
  g_autofree gchar *aad = g_strdup_printf (
      "epoch1 %u %s %s", keys->epoch, keys->identity, peer->identity);
  gsize len = strlen (keys->epoch_secret);
  g_autofree guint8 *sealed = g_malloc (len + TAG_LEN);
  g_autofree gchar *nonce64 = NULL, *sealed64 = NULL, *data = NULL;
  guint8 key[16], nonce[NONCE_LEN];

  if (!shared_key (keys, peer->pub, key) || RAND_bytes (nonce, NONCE_LEN) != 1
      || !gcm (TRUE, key, nonce, aad, (const guint8 *)keys->epoch_secret, len,
          sealed)) {
    g_warning (
        "hq e2ee: cannot seal epoch %u for %s", keys->epoch, peer->identity);
    OPENSSL_cleanse (key, sizeof key);
    return;
  }
  OPENSSL_cleanse (key, sizeof key);
  nonce64 = g_base64_encode (nonce, NONCE_LEN);
  sealed64 = g_base64_encode (sealed, len + TAG_LEN);
  data = g_strdup_printf (
      "epoch1 %u %s %s %s", keys->epoch, peer->identity, nonce64, sealed64);
  send (keys, peer->sid, data);
}

static void
use_epoch (HqE2eeKeys *keys, guint epoch, gchar *secret, const gchar *from)
{
  gchar code[7];

  hq_frame_crypt_set_secret (
      keys->fc, epoch, secret, HQ_FRAME_CRYPT_DEFAULT_OVERLAP_US);
  keys->epoch = epoch;
  free_secret (keys->epoch_secret);
  keys->epoch_secret = secret;
  g_free (keys->distributor);
  keys->distributor = g_strdup (from);
  if (keys->on_epoch && hq_frame_crypt_get_code (keys->fc, NULL, code))
    keys->on_epoch (epoch, code, from, keys->user_data);
}

/* A holder left and we draw: a fresh random secret for the next epoch,
 * sent to every other holder we know. */
static void
new_epoch (HqE2eeKeys *keys)
{
  guint8 raw[SECRET_BYTES];
  GHashTableIter it;
  Peer *peer;

  if (keys->epoch >= G_MAXUINT16) {
    g_warning ("hq e2ee: the room ran out of key epochs");
    return;
  }
  if (RAND_bytes (raw, sizeof raw) != 1)
    g_error ("hq: OpenSSL's random generator failed");
  use_epoch (
      keys, keys->epoch + 1, g_base64_encode (raw, sizeof raw), keys->identity);
  OPENSSL_cleanse (raw, sizeof raw);
  g_hash_table_iter_init (&it, keys->peers);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *)&peer))
    send_epoch (keys, peer);
}

/* --- room events --- */

void
hq_e2ee_keys_joined (HqE2eeKeys *keys, const gchar *sid, const gchar *identity,
    GHashTable *others)
{
  GHashTableIter it;
  gpointer k, v;

  g_free (keys->sid);
  keys->sid = g_strdup (sid);
  g_free (keys->identity);
  keys->identity = g_strdup (identity);
  g_hash_table_remove_all (keys->members);
  g_hash_table_remove_all (keys->peers);
  if (others) {
    g_hash_table_iter_init (&it, others);
    while (g_hash_table_iter_next (&it, &k, &v))
      g_hash_table_insert (keys->members, g_strdup (k), g_strdup (v));
  }
  announce (keys, NULL, "hello");
}

void
hq_e2ee_keys_participant (
    HqE2eeKeys *keys, const gchar *sid, const gchar *identity)
{
  gboolean holder;

  if (identity) {
    g_hash_table_insert (keys->members, g_strdup (sid), g_strdup (identity));
    return;
  }
  g_hash_table_remove (keys->members, sid);
  holder = g_hash_table_remove (keys->peers, sid);
  if (holder && we_distribute (keys, NULL))
    new_epoch (keys);
}

static gboolean
refuse (GError **error, const gchar *from, const gchar *why)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
      "end-to-end key message from %s refused: %s", from, why);
  return FALSE;
}

static gboolean
receive_key (HqE2eeKeys *keys, const gchar *from_sid,
    const gchar *from_identity, gchar **f, GError **error)
{
  g_autofree gchar *mac = NULL;
  g_autofree guint8 *point = NULL;
  gsize len = 0;
  EVP_PKEY *pub;
  Peer *peer;

  if (g_strv_length (f) != 4)
    return refuse (error, from_identity, "not a key announcement");
  mac = announce_mac (keys, from_identity, f[1]);
  if (strlen (mac) != strlen (f[2])
      || CRYPTO_memcmp (mac, f[2], strlen (mac)) != 0)
    return refuse (
        error, from_identity, "its key is not signed with this room's secret");
  point = g_base64_decode (f[1], &len);
  pub = len == POINT_LEN ? import_point (point, len) : NULL;
  if (pub == NULL)
    return refuse (error, from_identity, "not a P-256 public key");
  peer = g_new0 (Peer, 1);
  peer->sid = g_strdup (from_sid);
  peer->identity = g_strdup (from_identity);
  peer->pub = pub;
  g_hash_table_replace (keys->peers, peer->sid, peer);
  if (g_str_equal (f[3], "hello")) {
    announce (keys, from_sid, "reply");
    /* a newcomer holds the room secret, not a later epoch */
    if (keys->epoch > 0 && we_distribute (keys, from_sid))
      send_epoch (keys, peer);
  }
  return TRUE;
}

static gboolean
receive_epoch (HqE2eeKeys *keys, const gchar *from_sid,
    const gchar *from_identity, gchar **f, GError **error)
{
  Peer *peer = g_hash_table_lookup (keys->peers, from_sid);
  g_autofree guint8 *nonce = NULL, *sealed = NULL;
  g_autofree gchar *aad = NULL;
  gsize nonce_len = 0, len = 0;
  guint64 epoch = 0;
  gchar *secret;
  guint8 key[16];
  gboolean ok;

  if (g_strv_length (f) != 5
      || !g_ascii_string_to_unsigned (f[1], 10, 1, G_MAXUINT16, &epoch, NULL))
    return refuse (error, from_identity, "not an epoch message");
  if (peer == NULL || !g_str_equal (peer->identity, from_identity))
    return refuse (error, from_identity, "its key was never announced");
  if (keys->identity == NULL || !g_str_equal (f[2], keys->identity))
    return refuse (error, from_identity, "sent to someone else");
  if (epoch < keys->epoch
      || (epoch == keys->epoch
          && (keys->distributor == NULL
              || strcmp (from_identity, keys->distributor) >= 0)))
    return refuse (error, from_identity, "an epoch we are past");
  nonce = g_base64_decode (f[3], &nonce_len);
  sealed = g_base64_decode (f[4], &len);
  if (nonce_len != NONCE_LEN || len <= TAG_LEN || len > MAX_SEALED)
    return refuse (error, from_identity, "not an epoch message");
  aad = g_strdup_printf (
      "epoch1 %u %s %s", (guint)epoch, from_identity, keys->identity);
  secret = g_malloc0 (len - TAG_LEN + 1);
  ok = shared_key (keys, peer->pub, key)
      && gcm (FALSE, key, nonce, aad, sealed, len, (guint8 *)secret);
  OPENSSL_cleanse (key, sizeof key);
  if (!ok || strlen (secret) != len - TAG_LEN) {
    free_secret (secret);
    return refuse (error, from_identity, "it does not decrypt");
  }
  use_epoch (keys, (guint)epoch, secret, from_identity);
  return TRUE;
}

gboolean
hq_e2ee_keys_receive (HqE2eeKeys *keys, const gchar *from_sid,
    const gchar *from_identity, const gchar *data, GError **error)
{
  g_auto (GStrv) f = NULL;

  if (from_sid == NULL || from_identity == NULL || data == NULL)
    return refuse (error, "?", "no sender");
  f = g_strsplit (data, " ", 6);
  if (g_str_equal (f[0] ? f[0] : "", "key1"))
    return receive_key (keys, from_sid, from_identity, f, error);
  if (g_str_equal (f[0] ? f[0] : "", "epoch1"))
    return receive_epoch (keys, from_sid, from_identity, f, error);
  return refuse (error, from_identity, "unknown message");
}

/* --- on an HqRoomClient --- */

static void
client_send (HqE2eeKeys *keys, const gchar *to_sid, const gchar *data)
{
  g_autoptr (JsonObject) msg =
      hq_protocol_message_new (HQ_MESSAGE_E2EE_SEND, NULL);

  if (to_sid)
    json_object_set_string_member (msg, "to", to_sid);
  json_object_set_string_member (msg, "data", data);
  hq_room_client_send (keys->client, msg);
}

static const gchar *
member_string (JsonObject *o, const gchar *obj, const gchar *name)
{
  JsonObject *p = o && obj ? json_object_get_object_member (o, obj) : o;

  return p && json_object_has_member (p, name)
      ? json_object_get_string_member_with_default (p, name, NULL)
      : NULL;
}

static void
on_joined (HqRoomClient *client, JsonObject *joined, gboolean resumed,
    gpointer user_data)
{
  HqE2eeKeys *keys = user_data;
  g_autoptr (GHashTable) others = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *list = json_object_has_member (joined, "participants")
      ? json_object_get_array_member (joined, "participants")
      : NULL;

  (void)client;
  if (resumed)
    return;
  for (guint i = 0; list && i < json_array_get_length (list); i++) {
    JsonObject *p = json_array_get_object_element (list, i);
    const gchar *sid = member_string (p, NULL, "sid");
    const gchar *identity = member_string (p, NULL, "identity");
    if (sid && identity)
      g_hash_table_insert (others, (gpointer)sid, (gpointer)identity);
  }
  hq_e2ee_keys_joined (keys, member_string (joined, "participant", "sid"),
      member_string (joined, "participant", "identity"), others);
}

static void
on_message (HqRoomClient *client, const gchar *type, JsonObject *msg,
    gpointer user_data)
{
  HqE2eeKeys *keys = user_data;
  g_autoptr (GError) error = NULL;
  HqMessageType t = hq_protocol_message_type (type);

  (void)client;
  if (t == HQ_MESSAGE_E2EE_MESSAGE) {
    if (!hq_e2ee_keys_receive (keys, member_string (msg, NULL, "from"),
            member_string (msg, NULL, "identity"),
            member_string (msg, NULL, "data"), &error))
      g_message ("hq e2ee: %s", error->message);
  } else if (t == HQ_MESSAGE_PARTICIPANT_CONNECTED) {
    const gchar *sid = member_string (msg, "participant", "sid");
    const gchar *identity = member_string (msg, "participant", "identity");
    if (sid && identity)
      hq_e2ee_keys_participant (keys, sid, identity);
  } else if (t == HQ_MESSAGE_PARTICIPANT_DISCONNECTED) {
    const gchar *sid = member_string (msg, "participant", "sid");
    if (sid)
      hq_e2ee_keys_participant (keys, sid, NULL);
  }
}

#define CLIENT_KEY "hq-e2ee-keys"

/* The client is going: its handlers are gone already. */
static void
free_with_client (gpointer p)
{
  HqE2eeKeys *keys = p;

  keys->client = NULL;
  hq_e2ee_keys_free (keys);
}

void
hq_e2ee_keys_attach (HqE2eeKeys *keys, HqRoomClient *client)
{
  g_return_if_fail (keys->client == NULL);
  keys->client = client;
  g_signal_connect (client, "joined", G_CALLBACK (on_joined), keys);
  g_signal_connect (client, "message", G_CALLBACK (on_message), keys);
  g_object_set_data_full (
      G_OBJECT (client), CLIENT_KEY, keys, free_with_client);
}

HqE2eeKeys *
hq_e2ee_keys_from_client (HqRoomClient *client)
{
  return g_object_get_data (G_OBJECT (client), CLIENT_KEY);
}
