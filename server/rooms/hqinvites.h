/* Visits and their invite links (docs/invites.md).
 *
 * A visit is a room name with two links: a host link for the clinician
 * and a patient link.  Each link carries a short code that the page at
 * `/` exchanges for an access token at POST /token ({"invite": code}), so
 * no token ever sits in a URL or the browser's history.  Codes are kept
 * in the store (only their SHA-256), so they survive a restart; every code
 * expires, and a patient code is single-use unless the visit says
 * otherwise.
 *
 *   POST /v1/Visits   API key (HTTP Basic) or a host's access token
 *                     (Bearer): UniqueName?, WaitingRoom?, Ttl?, MaxUses?
 *                     -> 201 {visit, host: {code, url}, patient: {...}}
 *   hq-server invite ROOM   the same from the command line (main.c)
 */
#ifndef __HQ_INVITES_H__
#define __HQ_INVITES_H__

#include <libsoup/soup.h>
#include <hq/hqtoken.h>
#include "hqconfig.h"
#include "hqroom.h"
#include "hqstore.h"

G_BEGIN_DECLS

#define HQ_INVITE_ERROR (hq_invite_error_quark ())
GQuark hq_invite_error_quark (void);

/* Why a code gives no token; each is a sentence for the page to show. */
typedef enum
{
  HQ_INVITE_ERROR_INVALID, /* a new visit's name cannot name a room */
  HQ_INVITE_ERROR_UNKNOWN, /* no such code */
  HQ_INVITE_ERROR_EXPIRED, /* the code's time is over */
  HQ_INVITE_ERROR_USED, /* a single-use code was used */
  HQ_INVITE_ERROR_NOT_STARTED, /* patient code, the room is not in progress */
  HQ_INVITE_ERROR_ENDED, /* patient code, the visit's room has completed */
  HQ_INVITE_ERROR_STORE, /* the store failed; nothing changed */
  HQ_INVITE_ERROR_INVALID_TTL, /* a new visit's ttl is out of range */
  HQ_INVITE_ERROR_INVALID_USES, /* a new visit's max_uses is out of range */
} HqInviteError;

#define HQ_INVITE_DEFAULT_TTL 86400 /* seconds */
#define HQ_INVITE_MAX_TTL (30 * 86400)
#define HQ_INVITE_MAX_USES 100

/* What a new visit asks for. */
typedef struct
{
  const gchar *visit; /* the room's unique name; NULL: a new name */
  gboolean no_waiting_room; /* the room a host link creates has none */
  gint64 ttl; /* seconds both links work, 60..HQ_INVITE_MAX_TTL */
  gint64 max_uses; /* of the patient link: 1..100, or 0: any number */
} HqVisitParams;

typedef struct
{
  gchar *visit;
  gchar *host_code;
  gchar *patient_code;
  gboolean waiting_room;
  gint max_uses; /* of the patient link; 0: any number */
  gint64 expires; /* unix ms */
} HqVisit;

void hq_visit_free (HqVisit *visit);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqVisit, hq_visit_free)

/* Stores the two codes of a new visit; a parameter out of range is an
 * HQ_INVITE_ERROR_INVALID* error whose message says the range. */
HqVisit *hq_visit_create (
    HqStore *store, const HqVisitParams *params, GError **error);

/* The page's link for @code under @base ("http://host:port"). */
gchar *hq_invite_url (const gchar *base, const gchar *code);

/* Checks @code and counts one use: a host code creates the visit's room
 * when none of that name is in progress; a patient code needs the room in
 * progress.  *@room (free it) and *@role say what the token grants.  A
 * code is only counted when it gives a token. */
gboolean hq_invite_redeem (HqRooms *rooms, const gchar *code, gchar **room,
    HqRole *role, GError **error);

void hq_invites_api_register (
    SoupServer *server, HqConfig *config, HqRooms *rooms);

G_END_DECLS

#endif /* __HQ_INVITES_H__ */
