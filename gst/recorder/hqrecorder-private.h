/* What the files of hqrecorder (gsthqrecorder.c, hqrecorder-branch.c,
 * hqrecorder-mix.c, hqrecorder-manifest.c) share: the instance
 * structures of the element, its pads, periods and branches, and the
 * functions one file calls in another.  Private to the plugin.
 */
#pragma once

#include "gsthqrecorder.h"
#include <hq/hqcodec.h>
#include <hq/hqlayout.h>

#include <gst/gst.h>

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (hq_recorder_debug);

#define MANIFEST "recording.json"
#define CLUSTER_MAX (1 * GST_SECOND)
#define CLUSTER_MIN (GST_SECOND / 2)
#define MANIFEST_EVERY GST_SECOND
#define MIX_LATENCY (300 * GST_MSECOND)
#define COMPOSED_FPS 30

typedef enum
{
  KIND_AUDIO,
  KIND_VIDEO,
} Kind;

typedef enum
{
  STATUS_RECORDING,
  STATUS_COMPLETED,
  STATUS_INTERRUPTED,
  STATUS_FAILED,
} Status;

typedef struct _Period Period;
typedef struct _Branch Branch;

/* One stream into a branch: from a tee request pad through a queue and a
 * chain of converters/encoders to a muxer pad. */
typedef struct
{
  Branch *branch;
  GstElement *tee;
  GstPad *tee_pad;
  GstElement *queue;
  GPtrArray *elements; /* everything this input added to the bin */
  GstSegment segment;
  gboolean need_keyframe;
  gboolean asked_keyframe;
} Input;

/* One output file. */
struct _Branch
{
  GstHqRecorder *rec;
  Period *period;
  gchar *file; /* name in the directory */
  gchar *path;
  gchar *participant, *track; /* track files */
  const gchar *kind; /* "audio", "video"; NULL: composed */
  const HqCodec *codec, *audio_codec; /* what the file holds */
  GstElement *mux, *sink;
  Input inputs[2];
  guint n_inputs;
  GstClockTime base_rt, end_rt, written_rt;
  Status status;
  gboolean stopping, removed;
};

struct _Period
{
  guint index;
  GstClockTime start_rt; /* NONE until known */
  gchar *started_at;
  GPtrArray *branches;
  Branch *composed;
  gboolean active;
};

struct _GstHqRecorderPad
{
  GstGhostPad parent;

  gchar *participant, *track_name; /* properties */
  gchar *tag_participant, *tag_track, *tag_title;
  Kind kind;
  gboolean caps_known; /* raw or a room codec: codec is set */
  const HqCodec *codec; /* NULL: raw */
  GstElement *tee;
  guint seq;
  gboolean gone;
  GPtrArray *mix_elements; /* composed input: queue, decoder... */
  GstPad *mixer_pad;
  Branch *branch; /* track branch of the current period */
};

/* The manifest writer (hqrecorder-manifest.c): a thread of the element's
 * own, from NULL -> READY to READY -> NULL, writes the snapshots
 * manifest_update() takes, so that no streaming thread waits for
 * recording.json to reach the disk.  Its lock is taken under the
 * element's, never the other way round. */
typedef struct
{
  GMutex lock;
  GCond cond;
  GThread *thread;
  gchar *path, *text; /* the newest snapshot not yet written, or NULL */
  gboolean writing; /* the thread is writing one */
  gboolean quit;
  gboolean failed; /* a write failed; the error was posted */
} ManifestWriter;

struct _GstHqRecorder
{
  GstBin parent;

  GRecMutex lock;
  gchar *location;
  GstHqRecorderMode mode;
  gint width, height;
  GstHqRecorderFormat format;
  gchar *layout_json;
  HqLayout *layout;
  gboolean recording;

  GPtrArray *periods;
  Period *current;
  GList *pads;
  guint next_audio, next_video, next_seq;
  GstElement *compositor, *video_tee, *audiomixer, *audio_tee;
  ManifestWriter manifest;
};

#define LOCK(r) g_rec_mutex_lock (&(r)->lock)
#define UNLOCK(r) g_rec_mutex_unlock (&(r)->lock)

/* gsthqrecorder.c */
G_GNUC_INTERNAL gchar *pad_participant (GstHqRecorderPad *pad);
G_GNUC_INTERNAL gchar *pad_track (GstHqRecorderPad *pad);

/* hqrecorder-branch.c */
G_GNUC_INTERNAL gboolean input_format (GstCaps *caps, const HqCodec **codec);
G_GNUC_INTERNAL GstElement *make (const gchar *factory);
G_GNUC_INTERNAL GstElement *make_chain (
    const gchar *description, GError **error);
G_GNUC_INTERNAL gboolean link_chain (GstElement *a, GstElement *b);
G_GNUC_INTERNAL GstPad *tee_link (GstElement *tee, GstPad *sink);
G_GNUC_INTERNAL void inputs_link (GstHqRecorder *self, GstElement *tee);
G_GNUC_INTERNAL void track_branch_create (
    GstHqRecorder *self, GstHqRecorderPad *pad);
G_GNUC_INTERNAL void composed_branch_create (GstHqRecorder *self);
G_GNUC_INTERNAL void branch_remove (GstHqRecorder *self, Branch *br);
G_GNUC_INTERNAL void branch_stop (GstHqRecorder *self, Branch *br);
G_GNUC_INTERNAL void period_begin (GstHqRecorder *self, GstClockTime start_rt);
G_GNUC_INTERNAL void period_end (GstHqRecorder *self);
G_GNUC_INTERNAL void period_free (Period *p);

/* hqrecorder-mix.c */
G_GNUC_INTERNAL void reflow (GstHqRecorder *self);
G_GNUC_INTERNAL void mixer_ensure (GstHqRecorder *self, Kind kind);
G_GNUC_INTERNAL void mixer_input_create (
    GstHqRecorder *self, GstHqRecorderPad *pad);

/* hqrecorder-manifest.c */
G_GNUC_INTERNAL gboolean manifest_write (GstHqRecorder *self, GError **error);
G_GNUC_INTERNAL void manifest_update (GstHqRecorder *self);
G_GNUC_INTERNAL void manifest_writer_init (GstHqRecorder *self);
G_GNUC_INTERNAL void manifest_writer_clear (GstHqRecorder *self);
G_GNUC_INTERNAL void manifest_writer_start (GstHqRecorder *self);
G_GNUC_INTERNAL void manifest_writer_flush (GstHqRecorder *self);
G_GNUC_INTERNAL void manifest_writer_stop (GstHqRecorder *self);

G_END_DECLS
