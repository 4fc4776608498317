/* hq-server's TLS certificate; see hqtls.h.
 *
 * OpenSSL (which libhq's DTLS already needs) reads and checks the PEM
 * files and makes the development certificate: GLib's GnuTLS backend can
 * neither make a certificate nor tell why a pair will not work until a
 * client handshakes.  GLib's GTlsCertificate, made from the same files,
 * is what the connections use. */
#include "hqtls.h"
#include "hqlog.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <glib/gstdio.h>
#include <hq/hqutil.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* The development certificate: renewed when it has less left than this. */
#define HQ_TLS_DEV_DAYS 365
#define HQ_TLS_DEV_RENEW_DAYS 30

/* What OpenSSL said last, for an error message. */
static const gchar *
ssl_reason (void)
{
  unsigned long e = ERR_peek_last_error ();
  const char *r = e ? ERR_reason_error_string (e) : NULL;

  ERR_clear_error ();
  return r ? r : "unknown reason";
}

static gchar *
hex_pairs (const guint8 *data, gsize len)
{
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%s%02X", i ? ":" : "", data[i]);
  return g_string_free (s, FALSE);
}

static gchar *
asn1_time_text (const ASN1_TIME *t)
{
  struct tm tm = { 0 };
  gchar buf[64];

  if (ASN1_TIME_to_tm (t, &tm) != 1)
    return g_strdup ("(unreadable date)");
  strftime (buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return g_strdup (buf);
}

/* @path opened for reading, or NULL with an error that names @what. */
static FILE *
open_pem (const gchar *path, const gchar *what, GError **error)
{
  FILE *f = g_fopen (path, "rb");

  if (f == NULL) {
    int err = errno;
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_IO,
        "cannot read the TLS %s %s: %s", what, path, g_strerror (err));
  }
  return f;
}

/* The first certificate of a PEM file. */
static X509 *
read_cert (const gchar *path, GError **error)
{
  FILE *f = open_pem (path, "certificate", error);
  X509 *x;

  if (f == NULL)
    return NULL;
  x = PEM_read_X509 (f, NULL, NULL, NULL);
  fclose (f);
  if (x == NULL)
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "the TLS certificate file %s holds no PEM certificate (%s); it "
        "should start with -----BEGIN CERTIFICATE-----",
        path, ssl_reason ());
  return x;
}

static EVP_PKEY *
read_key (const gchar *path, GError **error)
{
  FILE *f = open_pem (path, "key", error);
  EVP_PKEY *key;

  if (f == NULL)
    return NULL;
  /* No passphrase callback: a server that starts alone cannot ask. */
  key = PEM_read_PrivateKey (f, NULL, NULL, (void *)"");
  fclose (f);
  if (key == NULL)
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "the TLS key file %s holds no unencrypted PEM private key (%s)", path,
        ssl_reason ());
  return key;
}

typedef struct
{
  GTlsCertificate *cert;
  gchar *fingerprint, *spki, *serial, *subject, *not_after;
} Loaded;

struct _HqTls
{
  gchar *cert_path, *key_path;
  gboolean dev; /* the development pair: remade when it runs out */
  const HqConfig *config;
  Loaded cur; /* what new connections get */
  gboolean dev_created;
};

static void
loaded_clear (Loaded *l)
{
  g_clear_object (&l->cert);
  g_clear_pointer (&l->fingerprint, g_free);
  g_clear_pointer (&l->spki, g_free);
  g_clear_pointer (&l->serial, g_free);
  g_clear_pointer (&l->subject, g_free);
  g_clear_pointer (&l->not_after, g_free);
}

/* Reads and checks the pair; fills @out. */
static gboolean
load_pair (
    const gchar *cert_path, const gchar *key_path, Loaded *out, GError **error)
{
  X509 *x = NULL;
  EVP_PKEY *key = NULL;
  guint8 md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  guint8 *der = NULL;
  int der_len;
  gboolean ok = FALSE;
  BIGNUM *bn = NULL;
  char *hex = NULL, *name = NULL;

  memset (out, 0, sizeof *out);
  if ((x = read_cert (cert_path, error)) == NULL)
    goto done;
  if ((key = read_key (key_path, error)) == NULL)
    goto done;
  out->not_after = asn1_time_text (X509_get0_notAfter (x));
  if (X509_check_private_key (x, key) != 1) {
    ERR_clear_error ();
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "the TLS key %s does not belong to the certificate %s (its public "
        "key is another one); give the key the certificate was made for",
        key_path, cert_path);
    goto done;
  }
  if (X509_cmp_current_time (X509_get0_notAfter (x)) <= 0) {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "the TLS certificate %s expired on %s; browsers and the room "
        "elements refuse it: renew it",
        cert_path, out->not_after);
    goto done;
  }
  if (X509_cmp_current_time (X509_get0_notBefore (x)) >= 0) {
    g_autofree gchar *from = asn1_time_text (X509_get0_notBefore (x));
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "the TLS certificate %s is not valid before %s (is this machine's "
        "clock right?)",
        cert_path, from);
    goto done;
  }
  out->cert = g_tls_certificate_new_from_files (cert_path, key_path, error);
  if (out->cert == NULL) {
    g_prefix_error (
        error, "TLS certificate %s with key %s: ", cert_path, key_path);
    goto done;
  }
  X509_digest (x, EVP_sha256 (), md, &md_len);
  out->fingerprint = hex_pairs (md, md_len);
  der_len = i2d_PUBKEY (X509_get0_pubkey (x), &der);
  if (der_len > 0) {
    EVP_Digest (der, der_len, md, &md_len, EVP_sha256 (), NULL);
    out->spki = g_base64_encode (md, md_len);
  }
  OPENSSL_free (der);
  bn = ASN1_INTEGER_to_BN (X509_get0_serialNumber (x), NULL);
  hex = bn ? BN_bn2hex (bn) : NULL;
  out->serial = g_strdup (hex ? hex : "?");
  name = X509_NAME_oneline (X509_get_subject_name (x), NULL, 0);
  out->subject = g_strdup (name ? name : "?");
  ok = TRUE;

done:
  if (!ok)
    loaded_clear (out);
  OPENSSL_free (hex);
  OPENSSL_free (name);
  BN_free (bn);
  EVP_PKEY_free (key);
  X509_free (x);
  return ok;
}

/* --- the development certificate --- */

static gboolean
add_ext (X509 *x, int nid, const gchar *value)
{
  X509V3_CTX ctx;
  X509_EXTENSION *ext;
  gboolean ok;

  X509V3_set_ctx_nodb (&ctx);
  X509V3_set_ctx (&ctx, x, x, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid (NULL, &ctx, nid, value);
  if (ext == NULL)
    return FALSE;
  ok = X509_add_ext (x, ext, -1) == 1;
  X509_EXTENSION_free (ext);
  return ok;
}

/* The names the development certificate is for: this machine by every
 * name a browser on it may use, and the listen address when it is a
 * specific one. */
static gchar *
dev_names (const HqConfig *config)
{
  GString *s = g_string_new ("DNS:localhost,IP:127.0.0.1,IP:::1");
  const gchar *host = g_get_host_name ();
  g_autoptr (GInetAddress) listen =
      g_inet_address_new_from_string (config->listen_host);

  if (host && *host && g_hostname_is_non_ascii (host) == FALSE
      && strcmp (host, "localhost") != 0 && strchr (host, ',') == NULL)
    g_string_append_printf (s, ",DNS:%s", host);
  if (listen && !g_inet_address_get_is_any (listen)
      && !g_inet_address_get_is_loopback (listen))
    g_string_append_printf (s, ",IP:%s", config->listen_host);
  return g_string_free (s, FALSE);
}

static gboolean
write_pem (
    const gchar *path, gboolean is_key, X509 *x, EVP_PKEY *key, GError **error)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data;
  long len;
  gboolean ok;

  if (is_key)
    PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL);
  else
    PEM_write_bio_X509 (bio, x);
  len = BIO_get_mem_data (bio, &data);
  ok = g_file_set_contents_full (path, data, len,
      G_FILE_SET_CONTENTS_CONSISTENT, is_key ? 0600 : 0644, error);
  BIO_free (bio);
  return ok;
}

/* A new self-signed P-256 certificate and key at the given paths. */
static gboolean
make_dev_pair (const HqConfig *config, const gchar *cert_path,
    const gchar *key_path, GError **error)
{
  g_autofree gchar *names = dev_names (config);
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  X509 *x = X509_new ();
  X509_NAME *name;
  guint8 serial[16];
  BIGNUM *bn = NULL;
  gboolean ok = FALSE;

  if (key == NULL || x == NULL)
    goto fail;
  hq_random_bytes (serial, sizeof serial);
  serial[0] &= 0x7f; /* a positive number */
  bn = BN_bin2bn (serial, sizeof serial, NULL);
  X509_set_version (x, 2);
  BN_to_ASN1_INTEGER (bn, X509_get_serialNumber (x));
  /* An hour back: a client whose clock is a little behind still accepts. */
  X509_gmtime_adj (X509_getm_notBefore (x), -3600);
  X509_gmtime_adj (X509_getm_notAfter (x), (long)HQ_TLS_DEV_DAYS * 86400);
  X509_set_pubkey (x, key);
  name = X509_get_subject_name (x);
  X509_NAME_add_entry_by_txt (name, "O", MBSTRING_UTF8,
      (const guchar *)"hqrooms development", -1, -1, 0);
  X509_NAME_add_entry_by_txt (
      name, "CN", MBSTRING_UTF8, (const guchar *)"localhost", -1, -1, 0);
  X509_set_issuer_name (x, name);
  if (!add_ext (x, NID_subject_alt_name, names)
      || !add_ext (x, NID_basic_constraints, "critical,CA:FALSE")
      || !add_ext (x, NID_key_usage, "critical,digitalSignature")
      || !add_ext (x, NID_ext_key_usage, "serverAuth"))
    goto fail;
  if (X509_sign (x, key, EVP_sha256 ()) == 0)
    goto fail;
  if (!write_pem (key_path, TRUE, x, key, error)
      || !write_pem (cert_path, FALSE, x, key, error))
    goto out;
  ok = TRUE;
  goto out;

fail:
  g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
      "cannot make the development TLS certificate: %s", ssl_reason ());
out:
  BN_free (bn);
  X509_free (x);
  EVP_PKEY_free (key);
  return ok;
}

/* TRUE when the development certificate at @path should be made anew:
 * missing, unreadable, or running out within HQ_TLS_DEV_RENEW_DAYS. */
static gboolean
dev_needs_new (const gchar *path)
{
  g_autoptr (GError) ignored = NULL;
  X509 *x = read_cert (path, &ignored);
  gboolean renew;

  if (x == NULL)
    return TRUE;
  renew = X509_cmp_time (X509_get0_notAfter (x),
              &(time_t){ time (NULL) + HQ_TLS_DEV_RENEW_DAYS * 86400 })
      <= 0;
  X509_free (x);
  return renew;
}

static gboolean
ensure_dev_pair (HqTls *tls, GError **error)
{
  g_autofree gchar *dir = g_path_get_dirname (tls->cert_path);

  if (!dev_needs_new (tls->cert_path))
    return TRUE;
  if (g_mkdir_with_parents (dir, 0700) != 0) {
    int err = errno;
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_IO,
        "cannot create %s: %s", dir, g_strerror (err));
    return FALSE;
  }
  if (!make_dev_pair (tls->config, tls->cert_path, tls->key_path, error))
    return FALSE;
  tls->dev_created = TRUE;
  return TRUE;
}

/* --- loading --- */

static void
log_loaded (HqTls *tls, const gchar *event)
{
  JsonObject *line = hq_log_begin (HQ_LOG_INFO, event);

  json_object_set_string_member (line, "certificate", tls->cert_path);
  json_object_set_string_member (line, "subject", tls->cur.subject);
  json_object_set_string_member (line, "serial", tls->cur.serial);
  json_object_set_string_member (line, "not_after", tls->cur.not_after);
  json_object_set_string_member (line, "sha256", tls->cur.fingerprint);
  json_object_set_boolean_member (line, "development", tls->dev);
  hq_log_end (line);
}

static gboolean
load (HqTls *tls, GError **error)
{
  Loaded l;

  if (tls->dev && !ensure_dev_pair (tls, error))
    return FALSE;
  if (!load_pair (tls->cert_path, tls->key_path, &l, error))
    return FALSE;
  loaded_clear (&tls->cur);
  tls->cur = l;
  return TRUE;
}

HqTls *
hq_tls_new (const HqConfig *config, GError **error)
{
  g_autoptr (HqTls) tls = g_new0 (HqTls, 1);

  tls->config = config;
  tls->dev = config->tls_dev;
  if (tls->dev) {
    tls->cert_path =
        g_build_filename (config->data_dir, "tls", "dev-cert.pem", NULL);
    tls->key_path =
        g_build_filename (config->data_dir, "tls", "dev-key.pem", NULL);
  } else {
    tls->cert_path = g_strdup (config->tls_certificate);
    tls->key_path = g_strdup (config->tls_key);
  }
  if (!load (tls, error))
    return NULL;
  log_loaded (tls, "tls_certificate");
  return g_steal_pointer (&tls);
}

gboolean
hq_tls_reload (HqTls *tls, GError **error)
{
  g_autofree gchar *before = g_strdup (tls->cur.fingerprint);

  if (!load (tls, error)) {
    JsonObject *line = hq_log_begin (HQ_LOG_WARN, "tls_reload_failed");
    json_object_set_string_member (line, "error", (*error)->message);
    json_object_set_string_member (line, "kept_sha256", tls->cur.fingerprint);
    json_object_set_string_member (line, "action",
        "new connections keep getting the certificate loaded before; fix "
        "the files and send SIGHUP again");
    hq_log_end (line);
    return FALSE;
  }
  log_loaded (tls, "tls_reloaded");
  if (g_strcmp0 (before, tls->cur.fingerprint) == 0)
    hq_log_message (HQ_LOG_INFO, "tls_reloaded",
        "the certificate files hold the same certificate as before");
  return TRUE;
}

void
hq_tls_free (HqTls *tls)
{
  if (tls == NULL)
    return;
  loaded_clear (&tls->cur);
  g_free (tls->cert_path);
  g_free (tls->key_path);
  g_free (tls);
}

GTlsCertificate *
hq_tls_get_certificate (HqTls *tls)
{
  return tls->cur.cert;
}

const gchar *
hq_tls_get_fingerprint (HqTls *tls)
{
  return tls->cur.fingerprint;
}

const gchar *
hq_tls_get_spki_hash (HqTls *tls)
{
  return tls->cur.spki;
}

const gchar *
hq_tls_get_certificate_path (HqTls *tls)
{
  return tls->cert_path;
}

gboolean
hq_tls_dev_created (HqTls *tls)
{
  return tls->dev_created;
}
