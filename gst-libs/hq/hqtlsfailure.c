/* Turning GTlsCertificateFlags into sentences; see hqtlsfailure.h. */
#include "hqtlsfailure.h"

/* "localhost, 127.0.0.1": the names @cert is for (subject alternative
 * names, else its subject). */
static gchar *
cert_names (GTlsCertificate *cert)
{
  g_autoptr (GPtrArray) dns = g_tls_certificate_get_dns_names (cert);
  g_autoptr (GPtrArray) ips = g_tls_certificate_get_ip_addresses (cert);
  GString *s = g_string_new (NULL);

  for (guint i = 0; dns && i < dns->len; i++) {
    gsize len;
    const gchar *name = g_bytes_get_data (dns->pdata[i], &len);
    g_string_append_printf (s, "%s%.*s", s->len ? ", " : "", (int)len, name);
  }
  for (guint i = 0; ips && i < ips->len; i++) {
    g_autofree gchar *ip = g_inet_address_to_string (ips->pdata[i]);
    g_string_append_printf (s, "%s%s", s->len ? ", " : "", ip);
  }
  if (s->len == 0) {
    g_autofree gchar *subject = g_tls_certificate_get_subject_name (cert);
    g_string_append (s, subject ? subject : "no name");
  }
  return g_string_free (s, FALSE);
}

static gchar *
date_text (GDateTime *t)
{
  return t ? g_date_time_format (t, "%Y-%m-%d %H:%M UTC")
           : g_strdup ("an unreadable date");
}

gchar *
hq_tls_failure_describe (GTlsCertificate *peer, GTlsCertificateFlags errors,
    const gchar *url, const gchar *ca_file)
{
  GString *s = g_string_new (NULL);
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  const gchar *host = uri ? g_uri_get_host (uri) : "?";
  g_autofree gchar *names = peer ? cert_names (peer) : g_strdup ("?");
  g_autofree gchar *issuer =
      peer ? g_tls_certificate_get_issuer_name (peer) : NULL;

  g_string_append_printf (s,
      "cannot connect securely to %s: the server's TLS certificate (for %s)",
      url, names);
  if (errors & G_TLS_CERTIFICATE_UNKNOWN_CA) {
    if (ca_file)
      g_string_append_printf (s,
          " is not signed by the certificate authority in tls-ca-file %s "
          "(it was issued by %s)",
          ca_file, issuer ? issuer : "an unnamed authority");
    else
      g_string_append_printf (s,
          " is not signed by a certificate authority this system trusts (it "
          "was issued by %s); set the tls-ca-file property (or "
          "HQ_TLS_CA_FILE) to that authority's certificate",
          issuer ? issuer : "an unnamed authority");
  }
  if (errors & G_TLS_CERTIFICATE_BAD_IDENTITY)
    g_string_append_printf (s,
        "%s is not for %s, the host in the server URL; use a name the "
        "certificate lists, or give the server a certificate for %s",
        errors & G_TLS_CERTIFICATE_UNKNOWN_CA ? ", and" : "", host, host);
  if (errors & G_TLS_CERTIFICATE_EXPIRED) {
    g_autoptr (GDateTime) after =
        peer ? g_tls_certificate_get_not_valid_after (peer) : NULL;
    g_autofree gchar *when = date_text (after);
    g_string_append_printf (s,
        "%s has expired (on %s): the server needs a renewed certificate",
        errors & (G_TLS_CERTIFICATE_UNKNOWN_CA | G_TLS_CERTIFICATE_BAD_IDENTITY)
            ? ", and"
            : "",
        when);
  }
  if (errors & G_TLS_CERTIFICATE_NOT_ACTIVATED)
    g_string_append (s, " is not valid yet (check this machine's clock)");
  if (errors & G_TLS_CERTIFICATE_REVOKED)
    g_string_append (s, " has been revoked");
  if (errors & G_TLS_CERTIFICATE_INSECURE)
    g_string_append (s, " uses an algorithm considered insecure");
  if (errors & G_TLS_CERTIFICATE_GENERIC_ERROR)
    g_string_append (s, " could not be checked");
  if (errors == 0)
    g_string_append (s, " was refused");
  return g_string_free (s, FALSE);
}
