/* Grid and region placement for composed videos (hqrecorder, hq-compose)
 * and the VideoLayout checks of hq-server; see hqlayout.h for the model
 * (Twilio's VideoLayout). */
#include "hqlayout.h"

#include <math.h>
#include <string.h>
#include <json-glib/json-glib.h>

typedef enum
{
  REUSE_NONE,
  REUSE_SHOW_OLDEST,
  REUSE_SHOW_NEWEST,
} Reuse;

typedef struct
{
  gchar *name;
  /* -1 where the JSON gives nothing: then the region spans the frame */
  gint x, y, width, height;
  guint z;
  guint max_rows, max_columns; /* 0: no limit */
  GArray *cells_excluded; /* of guint */
  Reuse reuse;
  GStrv sources; /* NULL: every source */
  GStrv excluded;
} Region;

struct _HqLayout
{
  GPtrArray *regions; /* of Region */
};

static void
region_free (gpointer data)
{
  Region *r = data;

  g_free (r->name);
  g_array_unref (r->cells_excluded);
  g_strfreev (r->sources);
  g_strfreev (r->excluded);
  g_free (r);
}

static Region *
region_new (const gchar *name)
{
  Region *r = g_new0 (Region, 1);

  r->name = g_strdup (name);
  r->x = r->y = 0;
  r->width = r->height = -1;
  r->cells_excluded = g_array_new (FALSE, FALSE, sizeof (guint));
  r->reuse = REUSE_SHOW_OLDEST;
  return r;
}

HqLayout *
hq_layout_new_grid (void)
{
  HqLayout *layout = g_new0 (HqLayout, 1);

  layout->regions = g_ptr_array_new_with_free_func (region_free);
  g_ptr_array_add (layout->regions, region_new ("grid"));
  return layout;
}

void
hq_layout_free (HqLayout *layout)
{
  if (!layout)
    return;
  g_ptr_array_unref (layout->regions);
  g_free (layout);
}

/* Reads member @key of @o as a non-negative integer into @out; FALSE with
 * @error set when it is there but is not one. */
static gboolean
get_uint (JsonObject *o, const gchar *region, const gchar *key, gint *out,
    GError **error)
{
  JsonNode *n = json_object_get_member (o, key);

  if (!n)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64
      || json_node_get_int (n) < 0 || json_node_get_int (n) > G_MAXINT) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "layout region \"%s\": %s must be a non-negative integer", region, key);
    return FALSE;
  }
  *out = (gint)json_node_get_int (n);
  return TRUE;
}

static gboolean
get_strings (JsonObject *o, const gchar *region, const gchar *key, GStrv *out,
    GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  JsonArray *a;
  GPtrArray *v;

  if (!n)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (n))
    goto bad;
  a = json_node_get_array (n);
  v = g_ptr_array_new ();
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);

    if (!JSON_NODE_HOLDS_VALUE (e)
        || json_node_get_value_type (e) != G_TYPE_STRING) {
      g_ptr_array_free (v, TRUE);
      goto bad;
    }
    g_ptr_array_add (v, g_strdup (json_node_get_string (e)));
  }
  g_ptr_array_add (v, NULL);
  *out = (GStrv)g_ptr_array_free (v, FALSE);
  return TRUE;
bad:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
      "layout region \"%s\": %s must be an array of strings", region, key);
  return FALSE;
}

static Region *
region_parse (const gchar *name, JsonNode *node, GError **error)
{
  Region *r = region_new (name);
  JsonObject *o;
  JsonNode *n;
  gint z = 0, rows = 0, cols = 0;

  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "layout region \"%s\" must be an object", name);
    goto fail;
  }
  o = json_node_get_object (node);
  if (!get_uint (o, name, "x_pos", &r->x, error)
      || !get_uint (o, name, "y_pos", &r->y, error)
      || !get_uint (o, name, "z_pos", &z, error)
      || !get_uint (o, name, "width", &r->width, error)
      || !get_uint (o, name, "height", &r->height, error)
      || !get_uint (o, name, "max_rows", &rows, error)
      || !get_uint (o, name, "max_columns", &cols, error)
      || !get_strings (o, name, "video_sources", &r->sources, error)
      || !get_strings (o, name, "video_sources_excluded", &r->excluded, error))
    goto fail;
  r->z = z;
  r->max_rows = rows;
  r->max_columns = cols;
  n = json_object_get_member (o, "cells_excluded");
  if (n) {
    JsonArray *a = JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;

    for (guint i = 0; a && i < json_array_get_length (a); i++) {
      JsonNode *e = json_array_get_element (a, i);
      guint cell;

      if (!JSON_NODE_HOLDS_VALUE (e)
          || json_node_get_value_type (e) != G_TYPE_INT64
          || json_node_get_int (e) < 0) {
        a = NULL;
        break;
      }
      cell = (guint)json_node_get_int (e);
      g_array_append_val (r->cells_excluded, cell);
    }
    if (!a) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "layout region \"%s\": cells_excluded must be an array of "
          "non-negative integers",
          name);
      goto fail;
    }
  }
  n = json_object_get_member (o, "reuse");
  if (n) {
    const gchar *s = JSON_NODE_HOLDS_VALUE (n)
            && json_node_get_value_type (n) == G_TYPE_STRING
        ? json_node_get_string (n)
        : "";

    if (!strcmp (s, "none"))
      r->reuse = REUSE_NONE;
    else if (!strcmp (s, "show_oldest"))
      r->reuse = REUSE_SHOW_OLDEST;
    else if (!strcmp (s, "show_newest"))
      r->reuse = REUSE_SHOW_NEWEST;
    else {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "layout region \"%s\": reuse must be none, show_oldest or "
          "show_newest",
          name);
      goto fail;
    }
  }
  return r;
fail:
  region_free (r);
  return NULL;
}

HqLayout *
hq_layout_new_from_object (JsonObject *regions, GError **error)
{
  HqLayout *layout = g_new0 (HqLayout, 1);
  GList *names = json_object_get_members (regions);

  layout->regions = g_ptr_array_new_with_free_func (region_free);
  for (GList *l = names; l; l = l->next) {
    Region *r = region_parse (
        l->data, json_object_get_member (regions, l->data), error);

    if (!r) {
      hq_layout_free (layout);
      layout = NULL;
      goto out;
    }
    g_ptr_array_add (layout->regions, r);
  }
  if (layout->regions->len == 0) {
    g_set_error (
        error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "layout has no region");
    hq_layout_free (layout);
    layout = NULL;
  }
out:
  g_list_free (names);
  return layout;
}

HqLayout *
hq_layout_parse (const gchar *json, GError **error)
{
  JsonParser *parser = json_parser_new ();
  HqLayout *layout = NULL;

  if (!json_parser_load_from_data (parser, json, -1, error))
    goto out;
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "layout must be a JSON object of regions");
    goto out;
  }
  layout = hq_layout_new_from_object (
      json_node_get_object (json_parser_get_root (parser)), error);
out:
  g_object_unref (parser);
  return layout;
}

static gboolean
matches_any (GStrv patterns, const HqLayoutSource *s)
{
  for (guint i = 0; patterns && patterns[i]; i++) {
    const gchar *p = patterns[i];

    for (guint k = 0; k < HQ_LAYOUT_SOURCE_NAMES; k++)
      if (s->names[k] && g_pattern_match_simple (p, s->names[k]))
        return TRUE;
  }
  return FALSE;
}

static gboolean
region_takes (const Region *r, const HqLayoutSource *s)
{
  return (!r->sources || matches_any (r->sources, s))
      && !matches_any (r->excluded, s);
}

gboolean
hq_layout_takes (const HqLayout *layout, const HqLayoutSource *source)
{
  for (guint i = 0; i < layout->regions->len; i++)
    if (region_takes (g_ptr_array_index (layout->regions, i), source))
      return TRUE;
  return FALSE;
}

static gboolean
cell_excluded (const Region *r, guint cell)
{
  for (guint i = 0; i < r->cells_excluded->len; i++)
    if (g_array_index (r->cells_excluded, guint, i) == cell)
      return TRUE;
  return FALSE;
}

/* Rows and columns for @n cells: as square as the limits allow, wider
 * than tall when not square (frames are landscape). */
static void
grid_shape (const Region *r, guint n, guint *rows, guint *cols)
{
  guint c = MAX (1, (guint)ceil (sqrt ((double)n)));
  guint rw;

  if (r->max_columns && c > r->max_columns)
    c = r->max_columns;
  rw = MAX (1, (n + c - 1) / c);
  if (r->max_rows && rw > r->max_rows) {
    rw = r->max_rows;
    c = MAX (1, (n + rw - 1) / rw);
    if (r->max_columns && c > r->max_columns)
      c = r->max_columns;
  }
  *rows = rw;
  *cols = c;
}

static void
place_region (const Region *r, gint width, gint height,
    const HqLayoutSource *sources, guint n_sources, HqLayoutPlacement *out)
{
  gint rx = MIN (r->x, width), ry = MIN (r->y, height);
  gint rw = r->width < 0 ? width - rx : MIN (r->width, width - rx);
  gint rh = r->height < 0 ? height - ry : MIN (r->height, height - ry);
  guint *shown = g_new (guint, n_sources);
  guint n = 0, rows, cols, capacity, first = 0, cell = 0;

  for (guint i = 0; i < n_sources; i++)
    if (region_takes (r, &sources[i]))
      shown[n++] = i;
  if (n == 0 || rw <= 0 || rh <= 0)
    goto out;
  /* Grow the grid until the cells left after exclusions hold everyone
   * or the limits stop it. */
  for (guint want = n;; want++) {
    guint excluded = 0;

    grid_shape (r, want, &rows, &cols);
    for (guint c = 0; c < rows * cols; c++)
      excluded += cell_excluded (r, c);
    capacity = rows * cols - excluded;
    if (capacity >= n || want > 4 * n
        || (r->max_rows && r->max_columns
            && rows * cols >= r->max_rows * r->max_columns))
      break;
  }
  if (n > capacity && r->reuse == REUSE_SHOW_NEWEST)
    first = n - capacity;
  for (guint k = first; k < n && k < first + capacity; k++) {
    HqLayoutPlacement *p = &out[shown[k]];
    guint row, col;

    while (cell_excluded (r, cell))
      cell++;
    row = cell / cols;
    col = cell % cols;
    cell++;
    if (p->visible && p->zorder > r->z)
      continue;
    p->visible = TRUE;
    p->x = rx + (gint)(col * rw / cols);
    p->y = ry + (gint)(row * rh / rows);
    p->width = rx + (gint)((col + 1) * rw / cols) - p->x;
    p->height = ry + (gint)((row + 1) * rh / rows) - p->y;
    p->zorder = r->z;
  }
out:
  g_free (shown);
}

void
hq_layout_place (const HqLayout *layout, gint width, gint height,
    const HqLayoutSource *sources, guint n_sources, HqLayoutPlacement *out)
{
  if (n_sources == 0)
    return;
  memset (out, 0, n_sources * sizeof (*out));
  for (guint i = 0; i < layout->regions->len; i++)
    place_region (g_ptr_array_index (layout->regions, i), width, height,
        sources, n_sources, out);
}
