/* A participant's transports with the SFU (hqsfutransport.c). */
#ifndef __HQSFUTRANSPORT_H__
#define __HQSFUTRANSPORT_H__

#include "hqsfustate.h"

G_BEGIN_DECLS

/* A new transport of @p on the room's worker (subscribe: @controlling),
 * with our candidates and ICE and DTLS steps reported; the caller
 * connects "state-changed". */
HqTransport *hq_sfu_make_transport (
    HqSfuParticipant *p, gboolean controlling, GError **error);
/* Starts gathering; tells the participant at once when no port is free. */
void hq_sfu_gather (HqSfuParticipant *p, HqTransport *t);
/* Tells the participant and the log a transport's state, with the error
 * that failed it. */
void hq_sfu_report_state (HqSfuParticipant *p, HqTransport *t,
    HqTransportState state, const GError *error);
/* The same for transport @which (0 publish, 1 subscribe), whose selected
 * pair (when CONNECTED) is @local, @remote, @pair (or NULL). */
void hq_sfu_report_state_of (HqSfuParticipant *p, guint which,
    HqTransportState state, const GError *error, const gchar *local,
    const gchar *remote, const gchar *pair);
/* Tells the participant our candidate (NULL: end_of_candidates) for
 * transport @which, and keeps it for a resume. */
void hq_sfu_announce_candidate (
    HqSfuParticipant *p, guint which, const gchar *candidate);
/* Transport @which restarted ICE: the candidates sent so far are stale;
 * a log line says @why. */
void hq_sfu_note_ice_restart (
    HqSfuParticipant *p, guint which, const gchar *why);
/* Restarts ICE on @t: new credentials, and our candidates again. */
gboolean hq_sfu_restart_ice (
    HqSfuParticipant *p, HqTransport *t, const gchar *why, GError **error);
/* Whether @sdp, from the participant for its transport @which (0
 * publish, 1 subscribe), has other ICE credentials than we applied. */
gboolean hq_sfu_new_remote_ufrag (
    HqSfuParticipant *p, guint which, const HqSdp *sdp);
gboolean hq_sfu_apply_remote (
    HqSfuParticipant *p, guint which, const HqSdp *sdp, GError **error);

G_END_DECLS

#endif /* __HQSFUTRANSPORT_H__ */
