/* hq-server's own TLS certificate (docs/tls.md): https and wss on the
 * listening port without a proxy in front.
 *
 * The certificate and key come from PEM files ([server] tls_certificate
 * and tls_key) or, in the development mode ([server] tls=dev), from a
 * self-signed pair made under <data dir>/tls on first start.  Each load
 * checks what GLib's TLS backend would only find out at a client's
 * handshake (the key belongs to the certificate, the certificate is valid
 * today) and says so in words; hq_tls_reload() (SIGHUP) loads the files
 * again and keeps the certificate it had when the new one is bad.  New
 * connections take the current certificate; connections already open keep
 * the one they were made with.  Main context only. */
#ifndef __HQ_TLS_H__
#define __HQ_TLS_H__

#include <gio/gio.h>
#include "hqconfig.h"

G_BEGIN_DECLS

typedef struct _HqTls HqTls;

/* Loads the certificate @config names (making the development one when
 * asked); NULL with @error when it cannot be used. */
HqTls *hq_tls_new (const HqConfig *config, GError **error);
void hq_tls_free (HqTls *tls);

/* Loads the files again; on failure the current certificate stays. */
gboolean hq_tls_reload (HqTls *tls, GError **error);

/* The certificate (with its key and chain) new connections get; borrowed. */
GTlsCertificate *hq_tls_get_certificate (HqTls *tls);
/* SHA-256 of the current certificate, hex pairs joined by ':'. */
const gchar *hq_tls_get_fingerprint (HqTls *tls);
/* base64 SHA-256 of its public key (SubjectPublicKeyInfo), as Chromium's
 * --ignore-certificate-errors-spki-list and HPKP name a key. */
const gchar *hq_tls_get_spki_hash (HqTls *tls);
/* The certificate file in use (the development one's path in dev mode). */
const gchar *hq_tls_get_certificate_path (HqTls *tls);
/* TRUE on the start that made the development certificate. */
gboolean hq_tls_dev_created (HqTls *tls);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqTls, hq_tls_free)

G_END_DECLS

#endif /* __HQ_TLS_H__ */
