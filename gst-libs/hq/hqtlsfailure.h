/* Why a TLS certificate was refused, in words a person can act on: the
 * room client's error when hq-server's certificate is not trusted, is
 * for another host, or has expired (docs/tls.md). */
#ifndef __HQ_TLS_FAILURE_H__
#define __HQ_TLS_FAILURE_H__

#include <gio/gio.h>

G_BEGIN_DECLS

/* A sentence saying why @peer (may be NULL) was refused with @errors when
 * connecting to @url; @ca_file is the CA file the client trusts, or NULL
 * for the system's CAs. */
gchar *hq_tls_failure_describe (GTlsCertificate *peer,
    GTlsCertificateFlags errors, const gchar *url, const gchar *ca_file);

G_END_DECLS

#endif /* __HQ_TLS_FAILURE_H__ */
