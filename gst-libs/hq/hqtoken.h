/* hqrooms access tokens: JWT HS256 with Twilio-compatible claims.
 *
 * A token is three base64url segments, header.payload.signature, where the
 * signature is HMAC-SHA256 over "header.payload" keyed with an API key
 * secret.  The header is {"typ":"JWT","alg":"HS256","cty":"twilio-fpa;v=1"}
 * and the payload carries:
 *
 *   jti   "<api key sid>-<unix time>"
 *   iss   the API key sid (SK...): picks the secret that signed the token
 *   sub   the account sid (AC...)
 *   iat   issued at, nbf not before (optional), exp expiry (unix seconds)
 *   grants.identity      who the holder is (1..128 characters)
 *   grants.video.room    the one room the token admits to (absent: any)
 *   grants.video.role    "host" or "guest" (hqrooms extension; absent: guest)
 *
 * So tokens minted by existing Twilio helper libraries against one of our
 * API keys verify here, and ours verify with any JWT library.
 */
#ifndef __HQ_TOKEN_H__
#define __HQ_TOKEN_H__

#include <glib.h>

G_BEGIN_DECLS

/* Longest lifetime a token may have, in seconds (24 h, as Twilio). */
#define HQ_TOKEN_MAX_LIFETIME (24 * 60 * 60)
/* How far the clocks of minting and verifying hosts may drift, seconds. */
#define HQ_TOKEN_CLOCK_SKEW 60
/* Longest identity and room name, in characters. */
#define HQ_TOKEN_MAX_NAME 128

#define HQ_TOKEN_ERROR (hq_token_error_quark ())
GQuark hq_token_error_quark (void);

/**
 * HqTokenError:
 * @HQ_TOKEN_ERROR_MALFORMED: not a JWT: wrong number of segments, bad
 *   base64url, or a header or payload that is not a JSON object.
 * @HQ_TOKEN_ERROR_UNSUPPORTED_ALG: the header names an algorithm other than
 *   HS256 (including "none"), or a type other than JWT.
 * @HQ_TOKEN_ERROR_MISSING_CLAIM: a required claim (iss, exp, grants) is
 *   absent or of the wrong JSON type.
 * @HQ_TOKEN_ERROR_UNKNOWN_KEY: iss names an API key this server does not
 *   have.
 * @HQ_TOKEN_ERROR_BAD_SIGNATURE: the signature does not match: the token
 *   was altered or signed with another secret.
 * @HQ_TOKEN_ERROR_WRONG_ACCOUNT: sub is not the account the key belongs to.
 * @HQ_TOKEN_ERROR_EXPIRED: exp is in the past (beyond the clock skew).
 * @HQ_TOKEN_ERROR_NOT_YET_VALID: nbf or iat is in the future (beyond the
 *   clock skew).
 * @HQ_TOKEN_ERROR_LIFETIME_TOO_LONG: exp is more than 24 h after iat.
 * @HQ_TOKEN_ERROR_NO_IDENTITY: grants.identity is absent or empty.
 * @HQ_TOKEN_ERROR_IDENTITY_TOO_LONG: grants.identity has more than 128
 *   characters (or is not UTF-8).
 * @HQ_TOKEN_ERROR_NO_VIDEO_GRANT: the token grants no video access.
 * @HQ_TOKEN_ERROR_ROOM_NOT_GRANTED: the token is for another room.
 * @HQ_TOKEN_ERROR_BAD_ROLE: grants.video.role is neither host nor guest.
 * @HQ_TOKEN_ERROR_INVALID_ARGUMENT: minting was asked for something that
 *   would not verify (no identity, lifetime out of range, ...).
 */
typedef enum
{
  HQ_TOKEN_ERROR_MALFORMED,
  HQ_TOKEN_ERROR_UNSUPPORTED_ALG,
  HQ_TOKEN_ERROR_MISSING_CLAIM,
  HQ_TOKEN_ERROR_UNKNOWN_KEY,
  HQ_TOKEN_ERROR_BAD_SIGNATURE,
  HQ_TOKEN_ERROR_WRONG_ACCOUNT,
  HQ_TOKEN_ERROR_EXPIRED,
  HQ_TOKEN_ERROR_NOT_YET_VALID,
  HQ_TOKEN_ERROR_LIFETIME_TOO_LONG,
  HQ_TOKEN_ERROR_NO_IDENTITY,
  HQ_TOKEN_ERROR_IDENTITY_TOO_LONG,
  HQ_TOKEN_ERROR_NO_VIDEO_GRANT,
  HQ_TOKEN_ERROR_ROOM_NOT_GRANTED,
  HQ_TOKEN_ERROR_BAD_ROLE,
  HQ_TOKEN_ERROR_INVALID_ARGUMENT,
} HqTokenError;

/* A stable short name for an HQ_TOKEN_ERROR code ("expired", "bad_signature",
 * ...), for protocol error codes and logs. */
const gchar *hq_token_error_name (gint code);

typedef enum
{
  HQ_ROLE_GUEST,
  HQ_ROLE_HOST,
} HqRole;

const gchar *hq_role_to_string (HqRole role);
gboolean hq_role_from_string (const gchar *str, HqRole *role);

/**
 * HqKeyring:
 *
 * The API keys a server accepts: key sid -> (secret, account sid).  More
 * than one key lets a deployment rotate secrets without refusing tokens
 * minted with the previous one.
 */
typedef struct _HqKeyring HqKeyring;

HqKeyring *hq_keyring_new (void);
void hq_keyring_free (HqKeyring *keyring);
void hq_keyring_add (HqKeyring *keyring, const gchar *key_sid,
    const gchar *secret, const gchar *account_sid);
/* Returns the secret of @key_sid and its account in @account_sid, or NULL. */
const gchar *hq_keyring_lookup (
    const HqKeyring *keyring, const gchar *key_sid, const gchar **account_sid);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqKeyring, hq_keyring_free)

/**
 * HqTokenGrant:
 * @identity: the participant identity (required)
 * @room: the room name, or NULL for any room
 * @role: host or guest
 * @ttl: lifetime in seconds, 1 .. %HQ_TOKEN_MAX_LIFETIME
 * @not_before: unix time before which it is refused, or 0 for none
 * @name: the display name (grants.video.name, an hqrooms extension), or
 *   NULL: the participant is shown by its identity
 * @chat: also grant chat (grants.chat, Twilio's ChatGrant), as the
 *   reference app's token server does: the token then opens a room's chat
 *   without media too (docs/protocol.md, "Chat-only connections")
 *
 * What a token grants.  Used to ask for a token.
 */
typedef struct
{
  const gchar *identity;
  const gchar *room;
  HqRole role;
  gint64 ttl;
  gint64 not_before;
  const gchar *name;
  gboolean chat;
} HqTokenGrant;

/**
 * HqTokenClaims:
 *
 * What a verified token says.  All strings owned by the struct.
 */
typedef struct
{
  gchar *jti;
  gchar *key_sid;
  gchar *account_sid;
  gchar *identity;
  gchar *room; /* NULL: any room */
  gchar *name; /* display name; NULL: none (show the identity) */
  gboolean chat; /* grants.chat is present (an object) */
  HqRole role;
  gint64 issued_at; /* 0 when the token has no iat */
  gint64 not_before; /* 0 when the token has no nbf */
  gint64 expires_at;
} HqTokenClaims;

void hq_token_claims_free (HqTokenClaims *claims);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqTokenClaims, hq_token_claims_free)

/* Mints a token signed with @secret for the key @key_sid of @account_sid.
 * @now is the unix time to stamp (0: the current time). */
gchar *hq_token_mint (const gchar *key_sid, const gchar *secret,
    const gchar *account_sid, const HqTokenGrant *grant, gint64 now,
    GError **error);

/* Verifies @token against @keyring at unix time @now (0: current time).
 * When @room is not NULL the token must grant that room.  Returns the claims
 * or NULL with @error set to one HQ_TOKEN_ERROR code. */
HqTokenClaims *hq_token_verify (const HqKeyring *keyring, const gchar *token,
    const gchar *room, gint64 now, GError **error);

G_END_DECLS

#endif /* __HQ_TOKEN_H__ */
