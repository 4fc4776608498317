/* Track rules: which of a room's tracks something gets.  One language for
 * two uses, shaped like Twilio's: the room's recording rules (what the
 * recorder records, docs/recordings.md) and each participant's subscribe
 * rules (what the SFU sends it, docs/protocol.md).
 *
 * Rules are a JSON array of {"type": "include"|"exclude"} objects with
 * exactly one filter: "all": true, "kind": <kind>, "publisher": <identity>
 * or "track": <track name>.  A track is selected when some include rule
 * matches it and no exclude rule does.  Plain strings in, so the control
 * plane and the SFU's workers call the same code.
 */
#ifndef __HQ_RULES_H__
#define __HQ_RULES_H__

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Checks every rule of @rules.  @field names the array in messages
 * ("Rules[1]: kind must be audio or video."); @kinds lists the kinds a
 * "kind" filter may name.  On a bad rule sets HQ_ROOM_ERROR_INVALID and
 * returns FALSE. */
gboolean hq_rules_check (JsonArray *rules, const gchar *field,
    const gchar *const *kinds, GError **error);

/* Whether @rules (checked; NULL selects nothing) select a track of @kind
 * named @track_name that @publisher (an identity) publishes. */
gboolean hq_rules_select (JsonArray *rules, const gchar *kind,
    const gchar *publisher, const gchar *track_name);

/* [{"type": "include", "all": true}]: everything (new, owned). */
JsonArray *hq_rules_include_all (void);

G_END_DECLS

#endif /* __HQ_RULES_H__ */
