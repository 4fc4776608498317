/* Key epochs of an end-to-end encrypted room (docs/e2ee.md, "Key
 * distribution"): when a key holder leaves, the remaining holder whose
 * identity sorts first draws a fresh random epoch secret and sends it to
 * each other holder, encrypted to that holder's P-256 public key, through
 * the server's opaque relay (`e2ee_send`, docs/protocol.md).  The server
 * only forwards; one who left holds the room secret and older epochs but
 * not the new one.
 *
 * Each participant makes a P-256 key pair when it starts and announces
 * its public key with an HMAC under a key derived from the room secret,
 * so a key the server slips in (it holds no room secret) is ignored.  The
 * messages (all text, opaque to the server):
 *
 *   key1 <public key, base64 of the 65-byte point> <HMAC, hex> hello|reply
 *   epoch1 <epoch> <to identity> <nonce, base64> <ciphertext+tag, base64>
 *
 * The HMAC-SHA256 key is hq_frame_crypt_kdf (room secret, "hqrooms
 * announce", 32) over "key1 <identity> <public key base64>".  The epoch
 * secret (base64 of 32 random bytes) is sealed with AES-128-GCM under
 * hq_frame_crypt_kdf (ECDH x-coordinate, "hqrooms epoch key", 16), the
 * additional data "epoch1 <epoch> <from identity> <to identity>".
 *
 * Not thread-safe: use it on one context (the room client's).  The
 * HqFrameCrypt it rotates is, and may be used by streaming threads. */
#ifndef __HQ_E2EE_KEYS_H__
#define __HQ_E2EE_KEYS_H__

#include <glib.h>
#include <hq/hqframecrypt.h>
#include <hq/hqroomclient.h>

G_BEGIN_DECLS

typedef struct _HqE2eeKeys HqE2eeKeys;

/* Sends @data to the participant @to_sid, or to everyone when NULL. */
typedef void (*HqE2eeSendFunc) (
    const gchar *to_sid, const gchar *data, gpointer user_data);
/* A new epoch is in use: its number, verification code and who sent it
 * (our own identity when we drew it). */
typedef void (*HqE2eeEpochFunc) (guint epoch, const gchar *code,
    const gchar *from_identity, gpointer user_data);

/* Rotates @fc (referenced), which holds @room_secret as epoch 0. */
HqE2eeKeys *hq_e2ee_keys_new (HqFrameCrypt *fc, const gchar *room_secret);
void hq_e2ee_keys_free (HqE2eeKeys *keys);
/* @notify frees @user_data with @keys. */
void hq_e2ee_keys_set_funcs (HqE2eeKeys *keys, HqE2eeSendFunc send,
    HqE2eeEpochFunc epoch, gpointer user_data, GDestroyNotify notify);

/* We joined as @sid/@identity with @others (sid -> identity) in the
 * room: announces our key to everyone. */
void hq_e2ee_keys_joined (HqE2eeKeys *keys, const gchar *sid,
    const gchar *identity, GHashTable *others);
/* Room membership: @sid joined (@identity) or left (@identity NULL).  A
 * key holder leaving starts a new epoch when we are the one to draw it. */
void hq_e2ee_keys_participant (
    HqE2eeKeys *keys, const gchar *sid, const gchar *identity);
/* A message another participant sent; FALSE with @error when it is
 * refused (forged, not for us, an old epoch). */
gboolean hq_e2ee_keys_receive (HqE2eeKeys *keys, const gchar *from_sid,
    const gchar *from_identity, const gchar *data, GError **error);

guint hq_e2ee_keys_get_epoch (HqE2eeKeys *keys);

/* Wires @keys to @client, which takes them (they are freed with it): its
 * "joined" and "message" signals, and e2ee_send to send. */
void hq_e2ee_keys_attach (HqE2eeKeys *keys, HqRoomClient *client);
/* The keys attached to @client, or NULL. */
HqE2eeKeys *hq_e2ee_keys_from_client (HqRoomClient *client);
/* The key store @keys rotates (not referenced). */
HqFrameCrypt *hq_e2ee_keys_get_crypt (HqE2eeKeys *keys);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqE2eeKeys, hq_e2ee_keys_free)

G_END_DECLS

#endif /* __HQ_E2EE_KEYS_H__ */
