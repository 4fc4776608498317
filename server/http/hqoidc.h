/* Sign-in through an OpenID Connect identity provider for POST /token
 * (docs/tokens.md, "Signing in with an identity provider").
 *
 * A client sends the ID token its provider gave it (Firebase
 * Authentication, Keycloak, Entra ID, Google, ...).  The token is checked
 * here against the provider's published keys (its JWKS, found by OpenID
 * discovery or configured): RS256 or ES256 only, the configured issuer and
 * audience, expiry and not-before with a minute's leeway, then the email
 * allowlist; a configured claim value makes the user a host (clinicians).
 * Keys are cached, refreshed as the provider's Cache-Control says (at most
 * hourly), and fetched again at once when a token names a key id the cache
 * does not hold (a rotation), at most once per refresh interval.
 *
 * Everything runs on the main context. */
#ifndef __HQ_OIDC_H__
#define __HQ_OIDC_H__

#include <gio/gio.h>

G_BEGIN_DECLS

#define HQ_OIDC_ERROR (hq_oidc_error_quark ())
GQuark hq_oidc_error_quark (void);

typedef enum
{
  HQ_OIDC_ERROR_INVALID, /* not a well-formed ID token */
  HQ_OIDC_ERROR_REFUSED, /* well-formed, but not accepted: the message says why */
  HQ_OIDC_ERROR_PROVIDER, /* the provider's keys could not be had */
} HqOidcError;

typedef struct
{
  const gchar *issuer; /* required */
  const gchar *audience; /* required: the client id (Firebase: project id) */
  const gchar
      *jwks_url; /* NULL: from <issuer>/.well-known/openid-configuration */
  const gchar *const *allowed_emails; /* glob patterns; NULL or empty: any */
  const gchar *host_claim; /* NULL: nobody is a host by sign-in */
  const gchar *host_value; /* the value (or one element) that makes a host */
  guint refresh_min_s; /* an unknown key id refetches at most this often */
} HqOidcConfig;

typedef struct
{
  gchar *subject; /* sub */
  gchar *email; /* NULL when the token has none */
  gchar *name; /* name claim, or NULL */
  gboolean host;
} HqOidcUser;

void hq_oidc_user_free (HqOidcUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqOidcUser, hq_oidc_user_free)

typedef struct _HqOidc HqOidc;

/* Copies @config. */
HqOidc *hq_oidc_new (const HqOidcConfig *config);
void hq_oidc_free (HqOidc *oidc);

void hq_oidc_verify_async (HqOidc *oidc, const gchar *id_token,
    GAsyncReadyCallback callback, gpointer user_data);
HqOidcUser *hq_oidc_verify_finish (
    HqOidc *oidc, GAsyncResult *result, GError **error);

G_END_DECLS

#endif /* __HQ_OIDC_H__ */
