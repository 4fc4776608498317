/* Structured log lines.  Written with a single write(2)-sized fputs under a
 * lock so lines from different threads never interleave. */
#include "hqlog.h"

#include <stdio.h>

static GMutex log_lock;

static const gchar *
level_name (HqLogLevel level)
{
  switch (level) {
    case HQ_LOG_DEBUG:
      return "debug";
    case HQ_LOG_INFO:
      return "info";
    case HQ_LOG_WARN:
      return "warn";
    case HQ_LOG_ERROR:
    default:
      return "error";
  }
}

JsonObject *
hq_log_begin (HqLogLevel level, const gchar *event)
{
  JsonObject *line = json_object_new ();
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *ts = g_date_time_format_iso8601 (now);

  json_object_set_string_member (line, "ts", ts);
  json_object_set_string_member (line, "level", level_name (level));
  json_object_set_string_member (line, "event", event);
  return line;
}

void
hq_log_end (JsonObject *line)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree gchar *json = NULL, *text = NULL;

  json_node_take_object (node, line);
  json = json_to_string (node, FALSE);
  /* The newline goes in the same write: anything else writing to stderr
   * (a library's warning, a child process) lands between lines, never in
   * the middle of one. */
  text = g_strconcat (json, "\n", NULL);
  g_mutex_lock (&log_lock);
  fputs (text, stderr);
  fflush (stderr);
  g_mutex_unlock (&log_lock);
}

void
hq_log_message (HqLogLevel level, const gchar *event, const gchar *format, ...)
{
  JsonObject *line = hq_log_begin (level, event);
  g_autofree gchar *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  json_object_set_string_member (line, "message", message);
  hq_log_end (line);
}
