/* DTLS-SRTP on OpenSSL; see hqdtls.h.
 *
 * The SSL object reads from a memory BIO that hq_dtls_receive() fills, and
 * writes through a BIO of our own whose write hands each record flight to
 * the send callback as one datagram and which reports a 1200-byte MTU, so
 * no record is ever fragmented below ICE.  OpenSSL's DTLS timer is polled
 * after every step and mirrored by one GSource on the caller's context.
 *
 * Certificates are accepted during the handshake whatever they are (WebRTC
 * certificates are self-signed); what authenticates the peer is that its
 * certificate's SHA-256 matches the fingerprint in its SDP, checked once the
 * handshake is done and before any key leaves this file.
 */
#include "hqdtls.h"
#include "hqdebug.h"

#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define GST_CAT_DEFAULT hq_dtls_debug

#define HQ_DTLS_MTU 1200
#define HQ_DTLS_EXPORTER_LABEL "EXTRACTOR-dtls_srtp"
#define HQ_DTLS_CIPHERS                                                        \
  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"               \
  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"                 \
  "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"                   \
  "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA"

/* --- certificates --- */

struct _HqCertificate
{
  gint refcount;
  X509 *x509;
  EVP_PKEY *pkey;
  gchar *fingerprint;
};

static gchar *
x509_fingerprint (X509 *x509)
{
  guint8 md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  GString *s;

  if (!X509_digest (x509, EVP_sha256 (), md, &n))
    return NULL;
  s = g_string_sized_new (n * 3);
  for (unsigned int i = 0; i < n; i++)
    g_string_append_printf (s, i ? ":%02X" : "%02X", md[i]);
  return g_string_free (s, FALSE);
}

static void
set_openssl_error (GError **error, gint code, const gchar *what)
{
  unsigned long e = ERR_get_error ();
  gchar buf[256] = "unknown error";

  if (e != 0)
    ERR_error_string_n (e, buf, sizeof buf);
  ERR_clear_error ();
  g_set_error (error, HQ_TRANSPORT_ERROR, code, "%s: %s", what, buf);
}

static HqCertificate *
certificate_wrap (X509 *x509, EVP_PKEY *pkey, GError **error)
{
  HqCertificate *cert = g_new0 (HqCertificate, 1);

  cert->refcount = 1;
  cert->x509 = x509;
  cert->pkey = pkey;
  cert->fingerprint = x509_fingerprint (x509);
  if (cert->fingerprint == NULL) {
    set_openssl_error (error, HQ_TRANSPORT_ERROR_CERTIFICATE,
        "cannot compute the certificate fingerprint");
    hq_certificate_unref (cert);
    return NULL;
  }
  return cert;
}

HqCertificate *
hq_certificate_new (GError **error)
{
  EVP_PKEY *pkey = EVP_EC_gen ("P-256");
  X509 *x509 = NULL;
  X509_NAME *name;
  guint32 serial;

  if (pkey == NULL)
    goto fail;
  x509 = X509_new ();
  RAND_bytes ((unsigned char *)&serial, sizeof serial);
  if (x509 == NULL || !X509_set_version (x509, 2)
      || !ASN1_INTEGER_set (X509_get_serialNumber (x509), serial & 0x7fffffff)
      || !X509_gmtime_adj (X509_getm_notBefore (x509), -24 * 3600)
      || !X509_gmtime_adj (X509_getm_notAfter (x509), 30 * 24 * 3600)
      || !X509_set_pubkey (x509, pkey))
    goto fail;
  name = X509_get_subject_name (x509);
  if (!X509_NAME_add_entry_by_txt (
          name, "CN", MBSTRING_ASC, (const unsigned char *)"hqrooms", -1, -1, 0)
      || !X509_set_issuer_name (x509, name)
      || !X509_sign (x509, pkey, EVP_sha256 ()))
    goto fail;
  return certificate_wrap (x509, pkey, error);

fail:
  set_openssl_error (
      error, HQ_TRANSPORT_ERROR_CERTIFICATE, "cannot make a DTLS certificate");
  X509_free (x509);
  EVP_PKEY_free (pkey);
  return NULL;
}

HqCertificate *
hq_certificate_new_from_files (
    const gchar *cert_path, const gchar *key_path, GError **error)
{
  BIO *bio;
  X509 *x509 = NULL;
  EVP_PKEY *pkey = NULL;

  bio = BIO_new_file (cert_path, "r");
  if (bio != NULL) {
    x509 = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
    BIO_free (bio);
  }
  if (x509 == NULL) {
    g_autofree gchar *what =
        g_strdup_printf ("cannot read a PEM certificate from %s", cert_path);
    set_openssl_error (error, HQ_TRANSPORT_ERROR_CERTIFICATE, what);
    return NULL;
  }
  bio = BIO_new_file (key_path, "r");
  if (bio != NULL) {
    pkey = PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL);
    BIO_free (bio);
  }
  if (pkey == NULL || !X509_check_private_key (x509, pkey)) {
    g_autofree gchar *what = g_strdup_printf ("cannot read the private key "
                                              "of %s from %s",
        cert_path, key_path);
    set_openssl_error (error, HQ_TRANSPORT_ERROR_CERTIFICATE, what);
    X509_free (x509);
    EVP_PKEY_free (pkey);
    return NULL;
  }
  return certificate_wrap (x509, pkey, error);
}

HqCertificate *
hq_certificate_ref (HqCertificate *cert)
{
  g_atomic_int_inc (&cert->refcount);
  return cert;
}

void
hq_certificate_unref (HqCertificate *cert)
{
  if (cert == NULL || !g_atomic_int_dec_and_test (&cert->refcount))
    return;
  X509_free (cert->x509);
  EVP_PKEY_free (cert->pkey);
  g_free (cert->fingerprint);
  g_free (cert);
}

const gchar *
hq_certificate_get_fingerprint (HqCertificate *cert)
{
  return cert->fingerprint;
}

/* --- the write BIO --- */

struct _HqDtls
{
  HqCertificate *cert;
  HqDtlsRole role;
  SSL_CTX *ctx;
  SSL *ssl;
  BIO *rbio;
  GMainContext *context;
  GSource *timer;
  HqDtlsSendFunc send;
  HqDtlsDoneFunc done;
  gpointer user_data;

  gchar *remote_fingerprint;
  gboolean started;
  gboolean handshake_done;
  gboolean finished; /* done callback called, success or not */
  HqSrtpProfile profile;
  guint8 local_key_salt[HQ_SRTP_MAX_KEY_SALT];
  guint8 remote_key_salt[HQ_SRTP_MAX_KEY_SALT];
};

static int
bio_write (BIO *bio, const char *data, int len)
{
  HqDtls *dtls = BIO_get_data (bio);

  if (len > 0)
    dtls->send ((const guint8 *)data, (gsize)len, dtls->user_data);
  return len;
}

static long
bio_ctrl (BIO *bio, int cmd, long num, void *ptr)
{
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
      return HQ_DTLS_MTU;
    default:
      return 0;
  }
}

static int
bio_create (BIO *bio)
{
  BIO_set_init (bio, 1);
  return 1;
}

static gpointer
make_bio_method (gpointer data)
{
  BIO_METHOD *m = BIO_meth_new (
      BIO_get_new_index () | BIO_TYPE_SOURCE_SINK, "hq-dtls-send");

  BIO_meth_set_write (m, bio_write);
  BIO_meth_set_ctrl (m, bio_ctrl);
  BIO_meth_set_create (m, bio_create);
  return m;
}

static BIO_METHOD *
bio_method (void)
{
  static GOnce once = G_ONCE_INIT;

  return g_once (&once, make_bio_method, NULL);
}

/* --- the handshake --- */

static void drive (HqDtls *dtls);

static void
finish (HqDtls *dtls, GError *error)
{
  if (dtls->finished) {
    g_clear_error (&error);
    return;
  }
  dtls->finished = TRUE;
  if (dtls->timer) {
    g_source_destroy (dtls->timer);
    g_clear_pointer (&dtls->timer, g_source_unref);
  }
  if (error)
    GST_WARNING ("%p: handshake as %s failed: %s", dtls,
        dtls->role == HQ_DTLS_ROLE_CLIENT ? "client" : "server",
        error->message);
  else
    GST_INFO ("%p: handshake as %s done: %s, SRTP %s, the peer's "
              "certificate matches its fingerprint",
        dtls, dtls->role == HQ_DTLS_ROLE_CLIENT ? "client" : "server",
        SSL_get_cipher_name (dtls->ssl), hq_srtp_profile_name (dtls->profile));
  dtls->done (dtls, error, dtls->user_data);
  g_clear_error (&error);
}

static void
fail (HqDtls *dtls, gint code, const gchar *what)
{
  GError *error = NULL;

  set_openssl_error (&error, code, what);
  finish (dtls, error);
}

/* The DTLS retransmission timer: 100 ms, doubling on each loss up to
 * OpenSSL's own 60 s ceiling (RFC 6347 4.2.4.1 allows a shorter start). */
static unsigned int
retransmit_after_us (SSL *ssl, unsigned int previous_us)
{
  if (previous_us == 0)
    return 100 * 1000;
  return MIN (previous_us * 2, 60u * 1000 * 1000);
}

static gboolean
on_timer (gpointer user_data)
{
  HqDtls *dtls = user_data;

  g_clear_pointer (&dtls->timer, g_source_unref);
  GST_DEBUG ("%p: no answer in time: retransmitting the last flight", dtls);
  if (DTLSv1_handle_timeout (dtls->ssl) < 0) {
    fail (dtls, HQ_TRANSPORT_ERROR_DTLS,
        "the DTLS handshake timed out: the peer stopped answering");
    return G_SOURCE_REMOVE;
  }
  drive (dtls);
  return G_SOURCE_REMOVE;
}

static void
schedule_timer (HqDtls *dtls)
{
  struct timeval tv;
  guint ms;

  if (dtls->timer) {
    g_source_destroy (dtls->timer);
    g_clear_pointer (&dtls->timer, g_source_unref);
  }
  if (dtls->finished || !DTLSv1_get_timeout (dtls->ssl, &tv))
    return;
  ms = (guint)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
  dtls->timer = g_timeout_source_new (MAX (ms, 1));
  g_source_set_callback (dtls->timer, on_timer, dtls, NULL);
  g_source_attach (dtls->timer, dtls->context);
}

/* Normalises "ab:cd" / "AB:CD" to upper case for comparison. */
static gchar *
normalise_fingerprint (const gchar *fp)
{
  gchar *up = g_ascii_strup (fp, -1);

  return g_strstrip (up);
}

static void
verify_and_release (HqDtls *dtls)
{
  X509 *peer;
  g_autofree gchar *actual = NULL;
  GError *error = NULL;

  if (dtls->finished || !dtls->handshake_done
      || dtls->remote_fingerprint == NULL)
    return;
  peer = SSL_get1_peer_certificate (dtls->ssl);
  if (peer == NULL) {
    g_set_error (&error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_FINGERPRINT,
        "the peer sent no DTLS certificate");
    finish (dtls, error);
    return;
  }
  actual = x509_fingerprint (peer);
  X509_free (peer);
  if (actual == NULL || strcmp (actual, dtls->remote_fingerprint) != 0) {
    g_set_error (&error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_FINGERPRINT,
        "the peer's DTLS certificate has fingerprint %s, but its SDP "
        "announced %s: refusing the connection",
        actual ? actual : "(none)", dtls->remote_fingerprint);
    /* Nothing derived from this handshake may be used. */
    memset (dtls->local_key_salt, 0, sizeof dtls->local_key_salt);
    memset (dtls->remote_key_salt, 0, sizeof dtls->remote_key_salt);
    dtls->profile = HQ_SRTP_PROFILE_NONE;
    finish (dtls, error);
    return;
  }
  finish (dtls, NULL);
}

static void
handshake_done (HqDtls *dtls)
{
  SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile (dtls->ssl);
  guint8 material[2 * HQ_SRTP_MAX_KEY_SALT];
  gsize key_len, salt_len;
  const guint8 *client_key, *server_key, *client_salt, *server_salt;
  guint8 *local, *remote;
  GError *error = NULL;

  dtls->handshake_done = TRUE;
  if (p == NULL
      || !hq_srtp_profile_lengths ((HqSrtpProfile)p->id, &key_len, &salt_len)) {
    g_set_error (&error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_NO_SRTP_PROFILE,
        "the DTLS peer agreed on no SRTP profile we support");
    finish (dtls, error);
    return;
  }
  if (!SSL_export_keying_material (dtls->ssl, material,
          2 * (key_len + salt_len), HQ_DTLS_EXPORTER_LABEL,
          strlen (HQ_DTLS_EXPORTER_LABEL), NULL, 0, 0)) {
    fail (dtls, HQ_TRANSPORT_ERROR_DTLS, "cannot export SRTP keys");
    return;
  }
  /* RFC 5764 4.2: client key, server key, client salt, server salt. */
  client_key = material;
  server_key = client_key + key_len;
  client_salt = server_key + key_len;
  server_salt = client_salt + salt_len;
  local = dtls->local_key_salt;
  remote = dtls->remote_key_salt;
  if (dtls->role == HQ_DTLS_ROLE_CLIENT) {
    memcpy (local, client_key, key_len);
    memcpy (local + key_len, client_salt, salt_len);
    memcpy (remote, server_key, key_len);
    memcpy (remote + key_len, server_salt, salt_len);
  } else {
    memcpy (local, server_key, key_len);
    memcpy (local + key_len, server_salt, salt_len);
    memcpy (remote, client_key, key_len);
    memcpy (remote + key_len, client_salt, salt_len);
  }
  memset (material, 0, sizeof material);
  dtls->profile = (HqSrtpProfile)p->id;
  verify_and_release (dtls);
}

static void
drive (HqDtls *dtls)
{
  int r, err;

  if (dtls->finished && !dtls->handshake_done)
    return;
  if (!dtls->handshake_done) {
    r = SSL_do_handshake (dtls->ssl);
    if (r == 1) {
      handshake_done (dtls);
    } else {
      err = SSL_get_error (dtls->ssl, r);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        fail (dtls, HQ_TRANSPORT_ERROR_DTLS, "the DTLS handshake failed");
        return;
      }
    }
  } else {
    /* After the handshake only alerts and retransmitted handshake records
     * arrive (media is SRTP, not DTLS application data): let OpenSSL answer
     * them, and discard anything else. */
    guint8 buf[2048];
    while (SSL_read (dtls->ssl, buf, sizeof buf) > 0)
      ;
    ERR_clear_error ();
  }
  schedule_timer (dtls);
}

static int
accept_any_certificate (int preverify_ok, X509_STORE_CTX *ctx)
{
  /* Authenticity comes from the SDP fingerprint, checked afterwards. */
  return 1;
}

static gboolean
make_profile_list (const HqSrtpProfile *profiles, GString *out, GError **error)
{
  static const HqSrtpProfile defaults[] = { HQ_SRTP_PROFILE_AEAD_AES_128_GCM,
    HQ_SRTP_PROFILE_AES128_CM_SHA1_80, HQ_SRTP_PROFILE_NONE };
  gsize k, s;

  for (const HqSrtpProfile *p = profiles ? profiles : defaults; *p; p++) {
    if (!hq_srtp_profile_lengths (*p, &k, &s)) {
      g_set_error (error, HQ_TRANSPORT_ERROR,
          HQ_TRANSPORT_ERROR_INVALID_ARGUMENT,
          "SRTP profile 0x%04x is not supported", *p);
      return FALSE;
    }
    g_string_append_printf (
        out, "%s%s", out->len ? ":" : "", hq_srtp_profile_name (*p));
  }
  if (out->len == 0) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_INVALID_ARGUMENT,
        "no SRTP profile allowed");
    return FALSE;
  }
  return TRUE;
}

HqDtls *
hq_dtls_new (HqCertificate *cert, HqDtlsRole role,
    const HqSrtpProfile *profiles, GMainContext *context, HqDtlsSendFunc send,
    HqDtlsDoneFunc done, gpointer user_data, GError **error)
{
  g_autoptr (HqDtls) dtls = g_new0 (HqDtls, 1);
  g_autoptr (GString) srtp = g_string_new (NULL);

  hq_debug_init ();
  BIO *wbio;

  if (!make_profile_list (profiles, srtp, error))
    return NULL;
  dtls->cert = hq_certificate_ref (cert);
  dtls->role = role;
  dtls->context = context ? g_main_context_ref (context)
                          : g_main_context_ref_thread_default ();
  dtls->send = send;
  dtls->done = done;
  dtls->user_data = user_data;

  dtls->ctx = SSL_CTX_new (DTLS_method ());
  if (dtls->ctx == NULL
      || !SSL_CTX_set_min_proto_version (dtls->ctx, DTLS1_2_VERSION)
      || !SSL_CTX_set_max_proto_version (dtls->ctx, DTLS1_2_VERSION)
      || !SSL_CTX_use_certificate (dtls->ctx, cert->x509)
      || !SSL_CTX_use_PrivateKey (dtls->ctx, cert->pkey)
      || !SSL_CTX_set_cipher_list (dtls->ctx, HQ_DTLS_CIPHERS)
      /* Returns 0 on success, unlike everything around it. */
      || SSL_CTX_set_tlsext_use_srtp (dtls->ctx, srtp->str) != 0) {
    set_openssl_error (error, HQ_TRANSPORT_ERROR_DTLS, "cannot set up DTLS");
    return NULL;
  }
  SSL_CTX_set_verify (dtls->ctx,
      SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
      accept_any_certificate);

  dtls->ssl = SSL_new (dtls->ctx);
  dtls->rbio = BIO_new (BIO_s_mem ());
  wbio = BIO_new (bio_method ());
  if (dtls->ssl == NULL || dtls->rbio == NULL || wbio == NULL) {
    BIO_free (wbio);
    set_openssl_error (error, HQ_TRANSPORT_ERROR_DTLS, "cannot set up DTLS");
    return NULL;
  }
  /* OpenSSL waits 1 s before resending a lost handshake flight; the
   * first one is often lost on purpose here (it can reach the peer
   * before the peer's ICE accepts data), so start at 100 ms. */
  DTLS_set_timer_cb (dtls->ssl, retransmit_after_us);
  BIO_set_mem_eof_return (dtls->rbio, -1);
  BIO_set_data (wbio, dtls);
  SSL_set_bio (dtls->ssl, dtls->rbio, wbio);
  SSL_set_options (dtls->ssl, SSL_OP_NO_QUERY_MTU);
  DTLS_set_link_mtu (dtls->ssl, HQ_DTLS_MTU);
  if (role == HQ_DTLS_ROLE_CLIENT)
    SSL_set_connect_state (dtls->ssl);
  else
    SSL_set_accept_state (dtls->ssl);
  return g_steal_pointer (&dtls);
}

void
hq_dtls_free (HqDtls *dtls)
{
  if (dtls == NULL)
    return;
  if (dtls->timer) {
    g_source_destroy (dtls->timer);
    g_source_unref (dtls->timer);
  }
  SSL_free (dtls->ssl); /* frees both BIOs */
  SSL_CTX_free (dtls->ctx);
  if (dtls->context)
    g_main_context_unref (dtls->context);
  if (dtls->cert)
    hq_certificate_unref (dtls->cert);
  memset (dtls->local_key_salt, 0, sizeof dtls->local_key_salt);
  memset (dtls->remote_key_salt, 0, sizeof dtls->remote_key_salt);
  g_free (dtls->remote_fingerprint);
  g_free (dtls);
}

gboolean
hq_dtls_set_remote_fingerprint (HqDtls *dtls, const gchar *algorithm,
    const gchar *fingerprint, GError **error)
{
  if (g_ascii_strcasecmp (algorithm, "sha-256") != 0) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_FINGERPRINT,
        "fingerprint algorithm %s is not supported; use sha-256", algorithm);
    return FALSE;
  }
  g_free (dtls->remote_fingerprint);
  dtls->remote_fingerprint = normalise_fingerprint (fingerprint);
  verify_and_release (dtls);
  return TRUE;
}

void
hq_dtls_start (HqDtls *dtls)
{
  if (dtls->started)
    return;
  dtls->started = TRUE;
  GST_DEBUG ("%p: handshake starts as %s", dtls,
      dtls->role == HQ_DTLS_ROLE_CLIENT ? "client (sends the ClientHello)"
                                        : "server (waits for the ClientHello)");
  if (dtls->role == HQ_DTLS_ROLE_CLIENT)
    drive (dtls);
}

void
hq_dtls_receive (HqDtls *dtls, const guint8 *data, gsize len)
{
  if (dtls->finished && !dtls->handshake_done)
    return;
  if (len == 0 || len > G_MAXINT)
    return;
  /* A server may hear the ClientHello before its own ICE says connected. */
  dtls->started = TRUE;
  BIO_write (dtls->rbio, data, (int)len);
  drive (dtls);
  /* Leftovers of a bad record must not poison the next datagram. */
  (void)BIO_reset (dtls->rbio);
}

HqDtlsRole
hq_dtls_get_role (HqDtls *dtls)
{
  return dtls->role;
}

gboolean
hq_dtls_is_done (HqDtls *dtls)
{
  return dtls->finished && dtls->profile != HQ_SRTP_PROFILE_NONE;
}

HqSrtpProfile
hq_dtls_get_srtp_keys (
    HqDtls *dtls, guint8 *local_key_salt, guint8 *remote_key_salt)
{
  if (!hq_dtls_is_done (dtls))
    return HQ_SRTP_PROFILE_NONE;
  memcpy (local_key_salt, dtls->local_key_salt, HQ_SRTP_MAX_KEY_SALT);
  memcpy (remote_key_salt, dtls->remote_key_salt, HQ_SRTP_MAX_KEY_SALT);
  return dtls->profile;
}
