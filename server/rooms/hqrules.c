/* Track rules; see hqrules.h. */
#include "hqrules.h"
#include "hqroomerror.h"

#include <hq/hqprotocol.h>

/* Every filter a rule may name (hqprotocol.h has their names). */
static const HqRuleFilter filters[] = { HQ_RULE_FILTER_ALL, HQ_RULE_FILTER_KIND,
  HQ_RULE_FILTER_PUBLISHER, HQ_RULE_FILTER_TRACK };

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

/* Checks the one @filter of rule @i. */
static gboolean
check_filter (HqRuleFilter filter, JsonNode *v, const gchar *field, guint i,
    const gchar *const *kinds, GError **error)
{
  if (filter == HQ_RULE_FILTER_ALL) {
    if (!JSON_NODE_HOLDS_VALUE (v)
        || json_node_get_value_type (v) != G_TYPE_BOOLEAN
        || !json_node_get_boolean (v))
      return rule_invalid (error, field, i, "all must be true.");
    return TRUE;
  }
  if (!is_string (v))
    return rule_invalid (
        error, field, i, "kind, publisher and track take a non-empty string.");
  if (filter == HQ_RULE_FILTER_KIND
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
  HqRuleType rule_type;
  HqRuleFilter filter;
  guint nfilters = 0;

  if (r == NULL)
    return rule_invalid (error, field, i, "a rule is an object.");
  if (!hq_protocol_read_string (r, "type", &type, NULL)
      || !hq_protocol_rule_type_from_name (type, &rule_type))
    return rule_invalid (error, field, i, "type must be include or exclude.");
  for (guint f = 0; f < G_N_ELEMENTS (filters); f++) {
    JsonNode *v =
        json_object_get_member (r, hq_protocol_rule_filter_name (filters[f]));
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
    if (!g_str_equal (m->data, "type")
        && !hq_protocol_rule_filter_from_name (m->data, &filter)) {
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

/* The string value of checked rule @r's @filter, or NULL. */
static const gchar *
filter_value (JsonObject *r, HqRuleFilter filter)
{
  return json_object_get_string_member_with_default (
      r, hq_protocol_rule_filter_name (filter), NULL);
}

static gboolean
rule_matches (JsonObject *r, const gchar *kind, const gchar *publisher,
    const gchar *track_name)
{
  const gchar *v;

  if (json_object_has_member (
          r, hq_protocol_rule_filter_name (HQ_RULE_FILTER_ALL)))
    return TRUE;
  if ((v = filter_value (r, HQ_RULE_FILTER_KIND)))
    return g_strcmp0 (v, kind) == 0;
  if ((v = filter_value (r, HQ_RULE_FILTER_PUBLISHER)))
    return g_strcmp0 (v, publisher) == 0;
  if ((v = filter_value (r, HQ_RULE_FILTER_TRACK)))
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
    HqRuleType type = HQ_RULE_INCLUDE;
    gboolean exclude;

    hq_protocol_rule_type_from_name (
        json_object_get_string_member_with_default (r, "type", NULL), &type);
    exclude = type == HQ_RULE_EXCLUDE;
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

  hq_protocol_rule_add (rules, HQ_RULE_INCLUDE, HQ_RULE_FILTER_ALL, NULL);
  return rules;
}
