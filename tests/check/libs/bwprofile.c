/* Unit tests for libhq's bandwidth profile and track hint readers
 * (docs/protocol.md, "Simulcast and bandwidth profiles"): defaults, a
 * request that changes only what it names, every bad value refused with
 * the field named and nothing changed, and hints as the SDK sends them. */
#include <string.h>
#include <glib.h>
#include <hq/hqbwprofile.h>

static JsonObject *
object (const gchar *text)
{
  g_autoptr (GError) error = NULL;
  JsonObject *o = hq_protocol_parse_object (text, strlen (text), 65536, &error);

  g_assert_no_error (error);
  return o;
}

static void
test_defaults_and_partial (void)
{
  HqBandwidthProfile p;
  g_autoptr (JsonObject) v = object ("{\"mode\": \"grid\", "
                                     "\"max_subscription_bitrate\": 2500000}");
  g_autoptr (JsonObject) v2 =
      object ("{\"track_switch_off_mode\": "
              "\"disabled\", "
              "\"dominant_speaker_priority\": \"high\"}");
  g_autoptr (JsonObject) out = NULL;
  g_autoptr (GError) error = NULL;

  hq_bandwidth_profile_init (&p);
  g_assert_cmpint (p.mode, ==, HQ_BW_MODE_COLLABORATION);
  g_assert_cmpint (p.track_switch_off_mode, ==, HQ_SWITCH_OFF_PREDICTED);
  g_assert_cmpuint (p.max_subscription_bitrate, ==, 0);
  g_assert_true (hq_bandwidth_profile_read (v, &p, &error));
  g_assert_true (hq_bandwidth_profile_read (v2, &p, &error));
  g_assert_no_error (error);
  g_assert_cmpint (p.mode, ==, HQ_BW_MODE_GRID);
  g_assert_cmpuint (p.max_subscription_bitrate, ==, 2500000);
  g_assert_cmpint (p.track_switch_off_mode, ==, HQ_SWITCH_OFF_DISABLED);
  g_assert_cmpint (p.dominant_speaker_priority, ==, HQ_PRIORITY_HIGH);
  out = hq_bandwidth_profile_to_json (&p);
  g_assert_cmpstr (json_object_get_string_member (out, "mode"), ==, "grid");
  g_assert_cmpstr (json_object_get_string_member (out, "track_switch_off_mode"),
      ==, "disabled");
  g_assert_cmpstr (
      json_object_get_string_member (out, "client_track_switch_off_control"),
      ==, "auto");
  g_assert_cmpint (json_object_get_int_member (out, "max_subscription_bitrate"),
      ==, 2500000);
}

static void
test_bad_values (void)
{
  static const struct
  {
    const gchar *json;
    const gchar *message;
  } cases[] = {
    { "{\"mode\": \"big\"}",
        "video.mode must be grid, collaboration or "
        "presentation, not \"big\"." },
    { "{\"mode\": 3}", "video.mode" },
    { "{\"track_switch_off_mode\": \"never\"}",
        "video.track_switch_off_mode must be predicted, detected or "
        "disabled, not \"never\"." },
    { "{\"client_track_switch_off_control\": \"sometimes\"}",
        "video.client_track_switch_off_control must be auto or manual" },
    { "{\"content_preferences_mode\": \"x\"}",
        "video.content_preferences_mode must be auto or manual" },
    { "{\"dominant_speaker_priority\": \"urgent\"}",
        "video.dominant_speaker_priority must be low, standard or high" },
    { "{\"max_subscription_bitrate\": 10}",
        "video.max_subscription_bitrate must be 0 (no cap) or 50000 to" },
    { "{\"max_subscription_bitrate\": 1.5}", "video.max_subscription_bitrate" },
    { "{\"mode\": \"grid\", \"max_subscription_bitrate\": -5}",
        "video.max_subscription_bitrate" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (JsonObject) v = object (cases[i].json);
    g_autoptr (GError) error = NULL;
    HqBandwidthProfile p;

    hq_bandwidth_profile_init (&p);
    g_assert_false (hq_bandwidth_profile_read (v, &p, &error));
    g_test_message ("%s: %s", cases[i].json, error->message);
    g_assert_error (error, HQ_PROTOCOL_ERROR, HQ_PROTOCOL_ERROR_INVALID_FIELD);
    g_assert_true (g_str_has_prefix (error->message, cases[i].message));
    /* nothing of a refused request changes */
    g_assert_cmpint (p.mode, ==, HQ_BW_MODE_COLLABORATION);
    g_assert_cmpuint (p.max_subscription_bitrate, ==, 0);
  }
}

static void
test_hints (void)
{
  g_autoptr (JsonObject) msg =
      object ("{\"hints\": [{\"track_sid\": \"MT1\", \"enabled\": false},"
              " {\"track_sid\": \"MT2\", \"render_dimensions\": "
              "{\"width\": 320, \"height\": 180}},"
              " {\"track_sid\": \"MT3\", \"render_dimensions\": null}]}");
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) hints =
      hq_track_hints_read (json_object_get_array_member (msg, "hints"), &error);
  const HqTrackHint *h;

  g_assert_no_error (error);
  g_assert_cmpuint (hints->len, ==, 3);
  h = &g_array_index (hints, HqTrackHint, 0);
  g_assert_cmpstr (h->track_sid, ==, "MT1");
  g_assert_true (h->has_enabled);
  g_assert_false (h->enabled);
  g_assert_false (h->has_render);
  h = &g_array_index (hints, HqTrackHint, 1);
  g_assert_false (h->has_enabled);
  g_assert_true (h->has_render);
  g_assert_cmpuint (h->width, ==, 320);
  g_assert_cmpuint (h->height, ==, 180);
  h = &g_array_index (hints, HqTrackHint, 2);
  g_assert_true (h->has_render);
  g_assert_cmpuint (h->width, ==, 0);
}

static void
test_bad_hints (void)
{
  static const struct
  {
    const gchar *json;
    const gchar *message;
  } cases[] = {
    { "[1]", "hints[0] must be an object" },
    { "[{\"enabled\": true}]", "hints[0].track_sid" },
    { "[{\"track_sid\": \"MT1\"}, {\"track_sid\": \"MT2\", \"enabled\": 1}]",
        "hints[1].enabled must be true or false." },
    { "[{\"track_sid\": \"MT1\", \"render_dimensions\": {\"width\": 0, "
      "\"height\": 10}}]",
        "hints[0].render_dimensions.width must be a whole number from 1 to "
        "16384." },
    { "[{\"track_sid\": \"MT1\", \"render_dimensions\": {\"width\": 10}}]",
        "hints[0].render_dimensions.height" },
    { "[{\"track_sid\": \"MT1\", \"render_dimensions\": \"big\"}]",
        "hints[0].render_dimensions must be" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *text = g_strdup_printf ("{\"hints\": %s}", cases[i].json);
    g_autoptr (JsonObject) msg = object (text);
    g_autoptr (GError) error = NULL;
    g_autoptr (GArray) hints = hq_track_hints_read (
        json_object_get_array_member (msg, "hints"), &error);

    g_assert_null (hints);
    g_test_message ("%s: %s", cases[i].json, error->message);
    g_assert_error (error, HQ_PROTOCOL_ERROR, HQ_PROTOCOL_ERROR_INVALID_FIELD);
    g_assert_true (g_str_has_prefix (error->message, cases[i].message));
  }
}

static void
test_reason_names (void)
{
  g_assert_null (hq_switch_off_reason_name (HQ_SWITCH_OFF_NONE));
  g_assert_cmpstr (hq_switch_off_reason_name (HQ_SWITCH_OFF_BY_SUBSCRIBER), ==,
      "disabled-by-subscriber");
  g_assert_cmpstr (hq_switch_off_reason_name (HQ_SWITCH_OFF_CONGESTION), ==,
      "network-congestion");
  g_assert_cmpstr (hq_protocol_message_name (HQ_MESSAGE_TRACK_SWITCHED_OFF), ==,
      "track_switched_off");
  g_assert_cmpint (hq_protocol_message_type ("publish_layers"), ==,
      HQ_MESSAGE_PUBLISH_LAYERS);
  g_assert_cmpint (
      hq_protocol_message_type ("track_hints"), ==, HQ_MESSAGE_TRACK_HINTS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bwprofile/defaults-partial", test_defaults_and_partial);
  g_test_add_func ("/bwprofile/bad-values", test_bad_values);
  g_test_add_func ("/bwprofile/hints", test_hints);
  g_test_add_func ("/bwprofile/bad-hints", test_bad_hints);
  g_test_add_func ("/bwprofile/names", test_reason_names);
  return g_test_run ();
}
