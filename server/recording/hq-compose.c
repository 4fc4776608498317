/* hq-compose: the composition child process hq-server runs for each
 * composition job (server/recording/hqcompositions.c).
 *
 *   hq-compose --output FILE --format webm|mp4 --resolution WxH
 *              [--layout VIDEOLAYOUT_JSON]
 *              [--video FILE@OFFSET_MS]... [--video-names JSON_ARRAY]...
 *              [--audio FILE@OFFSET_MS]...
 *
 * Decodes every input (the per-track .mkv/.mka recordings: parsebin finds
 * the stream, the codec table, libhq's hqcodec, the decoder, as hqrecorder
 * decodes what it composes), shifts each by
 * its offset so the tracks line up as they happened in the room, places
 * the videos on a black canvas of the requested resolution as the
 * composition's VideoLayout says (libhq hqlayout, the same as hqrecorder;
 * without --layout one grid of everyone, columns = ceil(sqrt(n))), each
 * scaled into its tile with its aspect kept, mixes the audio, and encodes
 * with the codec table's encoders (video at 1 Mbit/s, a key frame every 2
 * s; Opus at 64 kbit/s): webm = VP8 + Opus, mp4 = H.264 + Opus.  The
 * output is created with mode
 * 0600 (umask 077).  The n-th --video-names gives the names of the n-th
 * --video that the layout's video_sources patterns match (["track name",
 * "track sid", "recording sid"]); a video no region shows is not decoded.  On success it prints "duration_ms=N" and exits 0;
 * on any pipeline error it prints the error and exits 1 (2: bad usage).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <gst/gst.h>
#include <hq/hqcodec.h>
#include <hq/hqlayout.h>

typedef struct
{
  gchar *file;
  GstClockTime offset;
  gboolean video;
  gchar **names; /* video: what layout patterns match, or NULL */
  HqLayoutPlacement place; /* video: its tile */
  GstPad *sink; /* its converters' input, linked to its decoder */
} Input;

typedef struct
{
  GstElement *pipeline;
  GstElement *compositor; /* NULL without video */
  GstElement *mixer; /* NULL without audio */
  GMainLoop *loop;
  gint width, height;
  gint status;
} Composer;

static gboolean
parse_input (const gchar *arg, gboolean video, Input *in, GError **error)
{
  const gchar *at = strrchr (arg, '@');
  gchar *end = NULL;
  gint64 ms;

  if (at == NULL || at == arg) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "input \"%s\" is not FILE@OFFSET_MS", arg);
    return FALSE;
  }
  ms = g_ascii_strtoll (at + 1, &end, 10);
  if (end == at + 1 || *end != '\0' || ms < 0) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "input \"%s\": the offset must be whole milliseconds from 0", arg);
    return FALSE;
  }
  in->file = g_strndup (arg, at - arg);
  in->offset = (GstClockTime)ms * GST_MSECOND;
  in->video = video;
  return TRUE;
}

/* Adds "a ! b ! ..." to the pipeline; returns its first element's sink pad
 * and sets *src to its last element's src pad. */
static GstPad *
add_chain (Composer *c, const gchar *desc, GstPad **src, GError **error)
{
  GstElement *bin = gst_parse_bin_from_description (desc, TRUE, error);

  if (bin == NULL)
    return NULL;
  gst_bin_add (GST_BIN (c->pipeline), bin);
  gst_element_sync_state_with_parent (bin);
  *src = gst_element_get_static_pad (bin, "src");
  return gst_element_get_static_pad (bin, "sink");
}

/* Stops the composition with @error, as an element's error would. */
static void
post_error (GstElement *from, GError *error)
{
  gst_element_post_message (
      from, gst_message_new_error (GST_OBJECT (from), error, NULL));
}

/* A stream of @in, parsed: its codec's decoder from the table goes in
 * front of @in's converters. */
static void
on_parsed_pad (GstElement *parsebin, GstPad *pad, Input *in)
{
  Composer *c = g_object_get_data (G_OBJECT (parsebin), "composer");
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  const gchar *media =
      caps ? gst_structure_get_name (gst_caps_get_structure (caps, 0)) : "";
  const HqCodec *codec = hq_codec_find_by_media_type (media);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *decoder = NULL;
  GstPad *sink, *src = NULL;

  /* the other kind's streams of a file are not this input's, nor a
   * second one of its kind */
  if (!g_str_has_prefix (media, in->video ? "video/" : "audio/")
      || gst_pad_is_linked (in->sink))
    return;
  if (codec == NULL) {
    error = g_error_new (GST_STREAM_ERROR, GST_STREAM_ERROR_CODEC_NOT_FOUND,
        "%s holds %s, not a codec of the rooms' recordings", in->file, media);
    post_error (parsebin, error);
    return;
  }
  if ((decoder = hq_codec_decoder_description (codec, &error)) == NULL
      || (sink = add_chain (c, decoder, &src, &error)) == NULL) {
    post_error (parsebin, error);
    return;
  }
  gst_pad_link (src, in->sink);
  gst_pad_link (pad, sink);
  gst_object_unref (src);
  gst_object_unref (sink);
}

/* Every stream of @in is exposed: one of its kind must have been. */
static void
on_no_more_pads (GstElement *parsebin, Input *in)
{
  g_autoptr (GError) error = NULL;

  if (gst_pad_is_linked (in->sink))
    return;
  error = g_error_new (GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE,
      "%s has no %s stream", in->file, in->video ? "video" : "audio");
  post_error (parsebin, error);
}

/* @in's way into the compositor or the mixer, scaled into its tile or
 * resampled, and shifted by its offset.  Made with its mixer pad before
 * the pipeline starts, so that the mixer waits for every input's first
 * frame: a pad requested only when parsebin finds the stream joined after
 * the mixer had gone on without it, and its first frames (all of them,
 * for a short H.264 track) were dropped as late. */
static gboolean
add_mixer_input (Composer *c, Input *in, GError **error)
{
  g_autofree gchar *desc = NULL;
  GstPad *src = NULL, *mix;

  if (in->video)
    desc = g_strdup_printf ("videoconvert ! videoscale add-borders=true "
                            "! capsfilter caps=\"video/x-raw,width=%d,"
                            "height=%d,pixel-aspect-ratio=1/1\"",
        in->place.width, in->place.height);
  else
    desc = g_strdup ("audioconvert ! audioresample ! capsfilter "
                     "caps=\"audio/x-raw,rate=48000,channels=2\"");
  if ((in->sink = add_chain (c, desc, &src, error)) == NULL)
    return FALSE;
  mix = gst_element_request_pad_simple (
      in->video ? c->compositor : c->mixer, "sink_%u");
  if (in->video)
    g_object_set (mix, "xpos", in->place.x, "ypos", in->place.y, "zorder",
        in->place.zorder, NULL);
  /* Each track starts where it started in the room. */
  gst_pad_set_offset (src, (gint64)in->offset);
  gst_pad_link (src, mix);
  gst_object_unref (mix);
  gst_object_unref (src);
  return TRUE;
}

static gboolean
add_input (Composer *c, Input *in, GError **error)
{
  GstElement *src = gst_element_factory_make ("filesrc", NULL);
  GstElement *parse = gst_element_factory_make ("parsebin", NULL);

  if (src == NULL || parse == NULL) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "filesrc or parsebin is missing");
    return FALSE;
  }
  g_object_set (src, "location", in->file, NULL);
  g_object_set_data (G_OBJECT (parse), "composer", c);
  g_signal_connect (parse, "pad-added", G_CALLBACK (on_parsed_pad), in);
  g_signal_connect (parse, "no-more-pads", G_CALLBACK (on_no_more_pads), in);
  gst_bin_add_many (GST_BIN (c->pipeline), src, parse, NULL);
  return add_mixer_input (c, in, error) && gst_element_link (src, parse);
}

/* The codec table's encoder of @codec behind @convert, the composed file's
 * settings: "videoconvert ! ... ! vp8enc ... target-bitrate=1000000". */
static gchar *
encoder_chain (const gchar *convert, const gchar *codec, guint bitrate,
    guint keyframe_interval, GError **error)
{
  HqCodecEncoderConfig config = {
    .bitrate = bitrate,
    .keyframe_interval = keyframe_interval,
  };
  g_autofree gchar *encoder =
      hq_codec_encoder_description (hq_codec_find (codec), &config, error);
  const gchar *parser = hq_codec_parser (hq_codec_find (codec));

  if (encoder == NULL)
    return NULL;
  return g_strdup_printf ("%s ! %s%s%s", convert, encoder, parser ? " ! " : "",
      parser ? parser : "");
}

static gboolean
build (Composer *c, const gchar *output, const gchar *format, GPtrArray *inputs,
    guint n_video, guint n_audio, GError **error)
{
  g_autofree gchar *desc = NULL;
  GstElement *tail;
  g_autoptr (GstElement) mux = NULL;
  GstPad *src = NULL, *sink;

  desc = g_strdup_printf ("%s name=mux ! filesink location=\"%s\"",
      g_str_equal (format, "webm") ? "webmmux" : "mp4mux faststart=true",
      output);
  tail = gst_parse_bin_from_description (desc, FALSE, error);
  if (tail == NULL)
    return FALSE;
  gst_bin_add (GST_BIN (c->pipeline), tail);
  mux = gst_bin_get_by_name (GST_BIN (tail), "mux");
  if (n_video > 0) {
    g_autofree gchar *convert = g_strdup_printf (
        "videoconvert ! video/x-raw,format=I420,width=%d,height=%d,"
        "framerate=30/1",
        c->width, c->height);
    g_autofree gchar *vdesc = encoder_chain (convert,
        g_str_equal (format, "webm") ? "VP8" : "H264", 1000000, 60, error);
    c->compositor = gst_element_factory_make ("compositor", "compositor");
    if (vdesc == NULL || c->compositor == NULL)
      return FALSE;
    g_object_set (c->compositor, "background", 1 /* black */, NULL);
    gst_bin_add (GST_BIN (c->pipeline), c->compositor);
    if ((sink = add_chain (c, vdesc, &src, error)) == NULL)
      return FALSE;
    gst_element_link_pads (c->compositor, "src", GST_PAD_PARENT (sink), NULL);
    gst_object_unref (sink);
    gst_element_link_pads (GST_PAD_PARENT (src), NULL, mux, "video_%u");
    gst_object_unref (src);
  }
  if (n_audio > 0) {
    g_autofree gchar *adesc =
        encoder_chain ("audioconvert", "opus", 64000, 0, error);
    c->mixer = gst_element_factory_make ("audiomixer", "mixer");
    if (adesc == NULL || c->mixer == NULL)
      return FALSE;
    gst_bin_add (GST_BIN (c->pipeline), c->mixer);
    if ((sink = add_chain (c, adesc, &src, error)) == NULL)
      return FALSE;
    gst_element_link_pads (c->mixer, "src", GST_PAD_PARENT (sink), NULL);
    gst_object_unref (sink);
    gst_element_link_pads (GST_PAD_PARENT (src), NULL, mux, "audio_%u");
    gst_object_unref (src);
  }
  for (guint i = 0; i < inputs->len; i++) {
    Input *in = g_ptr_array_index (inputs, i);

    if (in->video && !in->place.visible)
      continue;
    if (!add_input (c, in, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
on_bus (GstBus *bus, GstMessage *msg, gpointer data)
{
  Composer *c = data;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *debug = NULL;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
    g_main_loop_quit (c->loop);
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &error, &debug);
    g_print ("error: %s: %s\n", GST_MESSAGE_SRC_NAME (msg), error->message);
    g_printerr ("hq-compose: %s\n%s\n", error->message, debug ? debug : "");
    c->status = 1;
    g_main_loop_quit (c->loop);
  }
  return G_SOURCE_CONTINUE;
}

static void
input_free (Input *in)
{
  gst_clear_object (&in->sink);
  g_free (in->file);
  g_strfreev (in->names);
  g_free (in);
}

/* --video-names: a JSON array of strings. */
static gchar **
parse_names (const gchar *json, GError **error)
{
  g_autoptr (JsonNode) node = json_from_string (json, NULL);
  JsonArray *a =
      node && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  GPtrArray *names;

  if (a == NULL || json_array_get_length (a) > HQ_LAYOUT_SOURCE_NAMES) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--video-names \"%s\" is not a JSON array of at most %d names", json,
        HQ_LAYOUT_SOURCE_NAMES);
    return NULL;
  }
  names = g_ptr_array_new ();
  for (guint i = 0; i < json_array_get_length (a); i++) {
    const gchar *name = json_array_get_string_element (a, i);
    if (name != NULL)
      g_ptr_array_add (names, g_strdup (name));
  }
  g_ptr_array_add (names, NULL);
  return (gchar **)g_ptr_array_free (names, FALSE);
}

/* Places the videos per @layout_json (NULL: one grid); FALSE with @error
 * when the layout is not one. */
static gboolean
place_videos (
    Composer *c, const gchar *layout_json, GPtrArray *inputs, GError **error)
{
  HqLayout *layout = layout_json ? hq_layout_parse (layout_json, error)
                                 : hq_layout_new_grid ();
  g_autofree HqLayoutSource *sources = NULL;
  g_autofree HqLayoutPlacement *placed = NULL;
  g_autoptr (GPtrArray) videos = g_ptr_array_new ();

  if (layout == NULL)
    return FALSE;
  for (guint i = 0; i < inputs->len; i++) {
    Input *in = g_ptr_array_index (inputs, i);
    if (in->video)
      g_ptr_array_add (videos, in);
  }
  sources = g_new0 (HqLayoutSource, videos->len + 1);
  placed = g_new0 (HqLayoutPlacement, videos->len + 1);
  for (guint i = 0; i < videos->len; i++) {
    Input *in = g_ptr_array_index (videos, i);
    for (guint k = 0; in->names && in->names[k]; k++)
      sources[i].names[k] = in->names[k];
  }
  hq_layout_place (layout, c->width, c->height, sources, videos->len, placed);
  for (guint i = 0; i < videos->len; i++)
    ((Input *)g_ptr_array_index (videos, i))->place = placed[i];
  hq_layout_free (layout);
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *output = NULL, *format = NULL, *resolution = NULL;
  g_autofree gchar *layout = NULL;
  g_auto (GStrv) videos = NULL, audios = NULL, video_names = NULL;
  GOptionEntry entries[] = {
    { "output", 0, 0, G_OPTION_ARG_FILENAME, &output, "file to write", "FILE" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format, "webm or mp4", "FMT" },
    { "resolution", 0, 0, G_OPTION_ARG_STRING, &resolution, "WxH", "WxH" },
    { "video", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &videos,
        "a video track and its offset", "FILE@MS" },
    { "audio", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &audios,
        "an audio track and its offset", "FILE@MS" },
    { "layout", 0, 0, G_OPTION_ARG_STRING, &layout,
        "where the videos go (default: a grid)", "VIDEOLAYOUT_JSON" },
    { "video-names", 0, 0, G_OPTION_ARG_STRING_ARRAY, &video_names,
        "names of the n-th --video for the layout", "JSON_ARRAY" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) inputs =
      g_ptr_array_new_with_free_func ((GDestroyNotify)input_free);
  guint n_video = 0, n_audio = 0, n_shown = 0;
  Composer c = { 0 };
  GstBus *bus;
  gint64 position = 0;

  umask (077);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("hq-compose: %s\n", error->message);
    return 2;
  }
  if (output == NULL || format == NULL || resolution == NULL
      || (!g_str_equal (format, "webm") && !g_str_equal (format, "mp4"))
      || sscanf (resolution, "%dx%d", &c.width, &c.height) != 2 || c.width < 16
      || c.height < 16) {
    g_printerr ("hq-compose: --output, --format webm|mp4 and --resolution "
                "WxH are required\n");
    return 2;
  }
  for (guint k = 0; k < 2; k++) {
    gchar **list = k == 0 ? videos : audios;
    for (guint i = 0; list && list[i]; i++) {
      Input *in = g_new0 (Input, 1);
      if (!parse_input (list[i], k == 0, in, &error)) {
        g_free (in);
        g_printerr ("hq-compose: %s\n", error->message);
        return 2;
      }
      if (k == 0 && video_names && i < g_strv_length (video_names)
          && (in->names = parse_names (video_names[i], &error)) == NULL) {
        input_free (in);
        g_printerr ("hq-compose: %s\n", error->message);
        return 2;
      }
      if (k == 0)
        n_video++;
      else
        n_audio++;
      g_ptr_array_add (inputs, in);
    }
  }
  if (inputs->len == 0) {
    g_printerr ("hq-compose: nothing to compose (no --video, no --audio)\n");
    return 2;
  }
  if (!place_videos (&c, layout, inputs, &error)) {
    g_printerr ("hq-compose: --layout: %s\n", error->message);
    return 2;
  }
  for (guint i = 0; i < inputs->len; i++) {
    Input *in = g_ptr_array_index (inputs, i);
    n_shown += in->video && in->place.visible;
  }
  if (n_shown == 0 && n_audio == 0) {
    g_printerr ("hq-compose: the layout shows none of the videos\n");
    return 2;
  }
  c.pipeline = gst_pipeline_new ("hq-compose");
  if (!build (&c, output, format, inputs, n_shown, n_audio, &error)) {
    g_printerr ("hq-compose: cannot build the pipeline: %s\n",
        error ? error->message : "an element is missing");
    return 1;
  }
  c.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_pipeline_get_bus (GST_PIPELINE (c.pipeline));
  gst_bus_add_watch (bus, on_bus, &c);
  if (gst_element_set_state (c.pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    g_printerr ("hq-compose: the pipeline does not start\n");
    c.status = 1;
  } else {
    g_main_loop_run (c.loop);
  }
  if (c.status == 0
      && gst_element_query_position (c.pipeline, GST_FORMAT_TIME, &position))
    g_print ("duration_ms=%" G_GINT64_FORMAT "\n", position / GST_MSECOND);
  gst_element_set_state (c.pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (c.pipeline);
  g_main_loop_unref (c.loop);
  return c.status;
}
