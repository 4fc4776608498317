/* Where hqrecorder's composed recording puts each participant's video.
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
#ifndef __HQ_RECORDER_LAYOUT_H__
#define __HQ_RECORDER_LAYOUT_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct _HqRecorderLayout HqRecorderLayout;

/* One video source, in the order sources joined. Patterns (with `*` and
 * `?` wildcards) match the participant, the track name or the pad name. */
typedef struct
{
  const gchar *participant;
  const gchar *track;
  const gchar *pad_name;
} HqRecorderSource;

/* Where one source goes; @visible is FALSE when no region shows it. */
typedef struct
{
  gboolean visible;
  gint x, y, width, height;
  guint zorder;
} HqRecorderPlacement;

/* The default layout: one grid over the whole frame. */
HqRecorderLayout *hq_recorder_layout_new_grid (void);

/* Parses a VideoLayout JSON object ({"name": {region}, ...}).  On bad
 * input returns NULL and sets @error with what is wrong and where. */
HqRecorderLayout *hq_recorder_layout_parse (const gchar *json, GError **error);

void hq_recorder_layout_free (HqRecorderLayout *layout);

/* Places @n_sources sources on a @width x @height frame; @out holds
 * @n_sources placements.  A source shown in several regions takes the
 * topmost (highest z_pos) one. */
void hq_recorder_layout_place (const HqRecorderLayout *layout, gint width,
    gint height, const HqRecorderSource *sources, guint n_sources,
    HqRecorderPlacement *out);

G_END_DECLS

#endif /* __HQ_RECORDER_LAYOUT_H__ */
