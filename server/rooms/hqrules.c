/* Track rules; see hqrules.h. */
#include "hqrules.h"
#include "hqroomerror.h"

#include <hq/hqprotocol.h>
#include <hq/hqroomclient.h>

static const gchar *const filters[] = { "all", "kind", "publisher", "track",
  NULL };

static gboolean
rule_invalid (GError **error, const gchar *field, guint i, const gchar *why)
{
  g_set_error (
      error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_INVALID, "%s[%u]: %s", field, i, why);
  return FALSE;
}

static gboolean
is_string (JsonNode *v)
{
  return JSON_NODE_HOLDS_VALUE (v)
      && json_node_get_value_type (v) == G_TYPE_STRING
      && *json_node_get_string (v) != '\0';
}

/* Checks the one filter @name of rule @i. */
static gboolean
check_filter (const gchar *name, JsonNode *v, const gchar *field, guint i,
    const gchar *const *kinds, GError **error)
{
  if (g_str_equal (name, "all")) {
    if (!JSON_NODE_HOLDS_VALUE (v)
        || json_node_get_value_type (v) != G_TYPE_BOOLEAN
        || !json_node_get_boolean (v))
      return rule_invalid (error, field, i, "all must be true.");
    return TRUE;
  }
  if (!is_string (v))
    return rule_invalid (
        error, field, i, "kind, publisher and track take a non-empty string.");
  if (g_str_equal (name, "kind")
      && !g_strv_contains (kinds, json_node_get_string (v))) {
    /* "audio or video", "audio, video or data" */
    g_autoptr (GString) why = g_string_new ("kind must be ");
    for (guint k = 0; kinds[k]; k++)
      g_string_append_printf (why, "%s%s",
          k == 0             ? ""
              : kinds[k + 1] ? ", "
                             : " or ",
          kinds[k]);
    g_string_append_c (why, '.');
    return rule_invalid (error, field, i, why->str);
  }
  return TRUE;
}

static gboolean
check_rule (JsonNode *n, const gchar *field, guint i, const gchar *const *kinds,
    GError **error)
{
  JsonObject *r = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
  g_autoptr (GList) members = NULL;
  const gchar *type = NULL;
  guint nfilters = 0;

  if (r == NULL)
    return rule_invalid (error, field, i, "a rule is an object.");
  if (!hq_protocol_read_string (r, "type", &type, NULL)
      || (g_strcmp0 (type, "include") != 0 && g_strcmp0 (type, "exclude") != 0))
    return rule_invalid (error, field, i, "type must be include or exclude.");
  for (guint f = 0; filters[f]; f++) {
    JsonNode *v = json_object_get_member (r, filters[f]);
    if (v == NULL)
      continue;
    nfilters++;
    if (!check_filter (filters[f], v, field, i, kinds, error))
      return FALSE;
  }
  if (nfilters != 1)
    return rule_invalid (error, field, i,
        "a rule names exactly one of all, kind, publisher or track.");
  members = json_object_get_members (r);
  for (GList *m = members; m; m = m->next) {
    if (!g_str_equal (m->data, "type") && !g_strv_contains (filters, m->data)) {
      g_autofree gchar *why =
          g_strdup_printf ("unknown member \"%.64s\".", (gchar *)m->data);
      return rule_invalid (error, field, i, why);
    }
  }
  return TRUE;
}

gboolean
hq_rules_check (JsonArray *rules, const gchar *field, const gchar *const *kinds,
    GError **error)
{
  for (guint i = 0; i < json_array_get_length (rules); i++)
    if (!check_rule (json_array_get_element (rules, i), field, i, kinds, error))
      return FALSE;
  return TRUE;
}

static gboolean
rule_matches (JsonObject *r, const gchar *kind, const gchar *publisher,
    const gchar *track_name)
{
  const gchar *v;

  if (json_object_has_member (r, "all"))
    return TRUE;
  if ((v = json_object_get_string_member_with_default (r, "kind", NULL)))
    return g_strcmp0 (v, kind) == 0;
  if ((v = json_object_get_string_member_with_default (r, "publisher", NULL)))
    return g_strcmp0 (v, publisher) == 0;
  if ((v = json_object_get_string_member_with_default (r, "track", NULL)))
    return g_strcmp0 (v, track_name) == 0;
  return FALSE;
}

gboolean
hq_rules_select (JsonArray *rules, const gchar *kind, const gchar *publisher,
    const gchar *track_name)
{
  gboolean included = FALSE;

  for (guint i = 0; rules && i < json_array_get_length (rules); i++) {
    JsonObject *r = json_array_get_object_element (rules, i);
    gboolean exclude = g_str_equal (
        json_object_get_string_member_with_default (r, "type", ""), "exclude");
    if (!rule_matches (r, kind, publisher, track_name))
      continue;
    if (exclude)
      return FALSE;
    included = TRUE;
  }
  return included;
}

JsonArray *
hq_rules_include_all (void)
{
  JsonArray *rules = json_array_new ();

  hq_room_rule_add (rules, "include", "all", NULL);
  return rules;
}
