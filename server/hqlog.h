/* Structured logging for hq-server: one JSON object per line on stderr,
 * {"ts":"...","level":"info","event":"http",...}, so that a log shipper or
 * `jq` can read it without parsing prose. */
#ifndef __HQ_LOG_H__
#define __HQ_LOG_H__

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum
{
  HQ_LOG_DEBUG,
  HQ_LOG_INFO,
  HQ_LOG_WARN,
  HQ_LOG_ERROR,
} HqLogLevel;

/* Starts a log line for @event; add members to the returned object, then
 * hand it to hq_log_end(), which writes and frees it. */
JsonObject *hq_log_begin (HqLogLevel level, const gchar *event);
void hq_log_end (JsonObject *line);

/* A line with only an event and a message. */
void hq_log_message (HqLogLevel level, const gchar *event, const gchar *format,
    ...) G_GNUC_PRINTF (3, 4);

G_END_DECLS

#endif /* __HQ_LOG_H__ */
