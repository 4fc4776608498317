/* Our side of the session in the SDP tests, the fuzz target and the
 * benchmark: fixed ICE credentials, a fixed DTLS fingerprint (no real
 * certificate is needed to build or check descriptions), passive setup. */
#ifndef __HQ_TEST_SDP_LOCAL_H__
#define __HQ_TEST_SDP_LOCAL_H__

#include <hq/hqsdp.h>

#define FP_OURS                                                                \
  "0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0:"                           \
  "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"

static const HqSdpLocal local = {
  .ice_ufrag = "hqU1",
  .ice_pwd = "hqPasswordOf24Characters",
  .fingerprint = FP_OURS,
  .setup = HQ_SDP_SETUP_PASSIVE,
  .session_id = 42,
  .cname = "hq-cname",
};

#endif /* __HQ_TEST_SDP_LOCAL_H__ */
