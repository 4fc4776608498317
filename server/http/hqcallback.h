/* Status callbacks: room events POSTed form-encoded to a room's
 * StatusCallback URL, signed so the receiver can tell they are ours.
 *
 * Each room's events go out one at a time in sequence order from a queue
 * of their own, so a slow or failing receiver delays only its own room's
 * callbacks and never the room itself.  A failed delivery (network error
 * or a non-2xx status) is retried after 1, 2, 4, ... times the configured
 * retry delay, HQ_CALLBACK_ATTEMPTS attempts in all, then dropped with a
 * warning in the log.  See docs/rooms.md for the fields and the signature.
 */
#ifndef __HQ_CALLBACK_H__
#define __HQ_CALLBACK_H__

#include <glib.h>

G_BEGIN_DECLS

#define HQ_CALLBACK_ATTEMPTS 6
/* The signature header: "sha256=" + hex HMAC-SHA256 of the body keyed with
 * the API key secret. */
#define HQ_CALLBACK_SIGNATURE_HEADER "X-Hq-Signature"
/* Twilio's: base64 HMAC-SHA1 with the auth token over the URL and the
 * sorted parameters, what twilio.validateRequest() checks. */
#define HQ_CALLBACK_TWILIO_SIGNATURE_HEADER "X-Twilio-Signature"

typedef struct _HqCallbacks HqCallbacks;

/* @auth_token: NULL sends no X-Twilio-Signature. */
HqCallbacks *hq_callbacks_new (const gchar *key_sid, const gchar *key_secret,
    const gchar *auth_token, gint64 retry_ms);
/* Cancels what is still queued (and logs it) and frees everything. */
void hq_callbacks_free (HqCallbacks *callbacks);

/* Queues @fields (string -> string; borrowed) for @url under @room_sid. */
void hq_callbacks_post (HqCallbacks *callbacks, const gchar *room_sid,
    const gchar *url, GHashTable *fields);

G_END_DECLS

#endif /* __HQ_CALLBACK_H__ */
