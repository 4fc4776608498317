/* Where a composed video puts each participant's video: one VideoLayout
 * implementation for hqrecorder's composed recordings, hq-server's
 * checks of a composition's VideoLayout and hq-compose.
 *
 * A layout is a list of regions in the shape of Twilio's Compositions
 * VideoLayout: each region is a rectangle of the output frame (x_pos,
 * y_pos, width, height, z_pos) that shows the sources matching its
 * video_sources patterns (and none of video_sources_excluded) as a grid of
 * at most max_rows x max_columns cells, minus cells_excluded.  When more
 * sources match than fit, reuse picks which are shown: show_oldest (and
 * none, which is treated the same) keep the first to come, show_newest the
 * last.  The default layout is one region over the whole frame showing
 * every source: a grid that reflows as participants come and go. */
#ifndef __HQ_LAYOUT_H__
#define __HQ_LAYOUT_H__

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _HqLayout HqLayout;

#define HQ_LAYOUT_SOURCE_NAMES 3

/* One video source, in the order sources joined: the names a region's
 * patterns (with `*` and `?` wildcards) are matched against, NULL where it
 * has fewer.  hqrecorder gives the participant, the track name and the pad
 * name; hq-server the track name, the track sid and the recording sid. */
typedef struct
{
  const gchar *names[HQ_LAYOUT_SOURCE_NAMES];
} HqLayoutSource;

/* Where one source goes; @visible is FALSE when no region shows it. */
typedef struct
{
  gboolean visible;
  gint x, y, width, height;
  guint zorder;
} HqLayoutPlacement;

/* The default layout: one grid over the whole frame. */
HqLayout *hq_layout_new_grid (void);

/* Parses a VideoLayout JSON object ({"name": {region}, ...}).  On bad
 * input returns NULL and sets @error with what is wrong and where. */
HqLayout *hq_layout_parse (const gchar *json, GError **error);

/* The same from the parsed VideoLayout object. */
HqLayout *hq_layout_new_from_object (JsonObject *regions, GError **error);

void hq_layout_free (HqLayout *layout);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqLayout, hq_layout_free)

/* Places @n_sources sources on a @width x @height frame; @out holds
 * @n_sources placements.  A source shown in several regions takes the
 * topmost (highest z_pos) one. */
void hq_layout_place (const HqLayout *layout, gint width, gint height,
    const HqLayoutSource *sources, guint n_sources, HqLayoutPlacement *out);

/* Whether some region of @layout takes @source (its patterns match it),
 * whether or not a cell is left for it. */
gboolean hq_layout_takes (const HqLayout *layout, const HqLayoutSource *source);

G_END_DECLS

#endif /* __HQ_LAYOUT_H__ */
