/* hq-server: the hqrooms room server.
 *
 *   hq-server [serve] [--data-dir DIR] [--config FILE] [--listen HOST:PORT]
 *   hq-server token --identity NAME [--room ROOM] [--ttl SECONDS]
 *                   [--role host|guest]
 *   hq-server verify-token [--room ROOM] < token
 *   hq-server invite [ROOM] [--url URL] [--ttl SECONDS] [--max-uses N]
 *                    [--no-waiting-room]
 *   hq-server rewrap     (after an operator key rotation: docs/at-rest.md)
 *
 * With no configuration at all it keeps its data under the user's data
 * directory, creates a development API key on first start and listens on
 * 127.0.0.1:8844.  See docs/server.md.
 */
#include "hqconfig.h"
#include "hqinvites.h"
#include "hqlog.h"
#include "hqserver.h"

#include <stdio.h>
#include <string.h>
#include <glib-unix.h>
#include <sys/resource.h>

static gchar *opt_data_dir;
static gchar *opt_config;

static const GOptionEntry common_entries[] = {
  { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &opt_data_dir,
      "Data directory (default: $HQ_DATA_DIR or ~/.local/share/hqrooms)",
      "DIR" },
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
      "Config file (default: $HQ_CONFIG or DIR/hq-server.conf)", "FILE" },
  { NULL }
};

/* Stopping (docs/server.md, "Stopping"): SIGINT stops at once; SIGTERM
 * too, unless [server] drain_timeout is set and someone is in a room:
 * then the server drains (no new joins, the calls go on) until the rooms
 * are empty or the timeout has passed.  A second SIGTERM stops at once. */
typedef struct
{
  GMainLoop *loop;
  HqServer *server;
  gint64 drain_timeout_s;
  gint64 deadline_us; /* monotonic; 0: not draining */
  guint check;
} Stopping;

static void
stop_now (Stopping *s, const gchar *why)
{
  hq_log_message (HQ_LOG_INFO, "shutdown", "%s, stopping", why);
  if (s->check)
    g_source_remove (s->check);
  s->check = 0;
  g_main_loop_quit (s->loop);
}

static gboolean
drain_check (gpointer user_data)
{
  Stopping *s = user_data;
  guint left = hq_rooms_count_participants (hq_server_get_rooms (s->server));

  if (left == 0) {
    s->check = 0;
    stop_now (s, "drained: no participant is left");
    return G_SOURCE_REMOVE;
  }
  if (g_get_monotonic_time () >= s->deadline_us) {
    s->check = 0;
    stop_now (s, "the drain timeout has passed");
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_sigint (gpointer user_data)
{
  stop_now (user_data, "SIGINT received");
  return G_SOURCE_CONTINUE;
}

static gboolean
on_sigterm (gpointer user_data)
{
  Stopping *s = user_data;
  HqRooms *rooms = hq_server_get_rooms (s->server);
  guint n = hq_rooms_count_participants (rooms);

  if (s->deadline_us != 0) {
    stop_now (s, "SIGTERM received again while draining");
    return G_SOURCE_CONTINUE;
  }
  if (s->drain_timeout_s == 0 || n == 0) {
    stop_now (s, "SIGTERM received");
    return G_SOURCE_CONTINUE;
  }
  s->deadline_us =
      g_get_monotonic_time () + s->drain_timeout_s * G_USEC_PER_SEC;
  hq_rooms_drain (rooms, g_get_real_time () / 1000 + s->drain_timeout_s * 1000);
  hq_log_message (HQ_LOG_INFO, "shutdown",
      "SIGTERM received: draining, no new joins; stopping when the %u "
      "participant(s) in rooms have left, or in %" G_GINT64_FORMAT
      " s (SIGTERM again stops at once)",
      n, s->drain_timeout_s);
  s->check = g_timeout_add (250, drain_check, s);
  return G_SOURCE_CONTINUE;
}

/* SIGHUP: the TLS certificate and key files are read again (docs/tls.md);
 * new connections get the new certificate, open ones keep theirs.  A bad
 * pair is logged (hqtls.c) and the old one stays. */
static gboolean
reload_on_signal (gpointer user_data)
{
  HqTls *tls = hq_server_get_tls (user_data);
  g_autoptr (GError) error = NULL;

  if (tls == NULL)
    hq_log_message (HQ_LOG_INFO, "reload",
        "SIGHUP: nothing to reload (no TLS certificate configured)");
  else
    hq_tls_reload (tls, &error);
  return G_SOURCE_CONTINUE;
}

/* The development certificate: where it is and how to recognise it. */
static void
print_dev_tls (HqTls *tls)
{
  printf ("%s the self-signed development TLS certificate %s\n"
          "  SHA-256 fingerprint  %s\n"
          "  public key (SPKI)    %s\n"
          "Browsers warn about it: compare the fingerprint before accepting "
          "it.  For production set [server] tls_certificate and tls_key.\n",
      hq_tls_dev_created (tls) ? "Created" : "Using",
      hq_tls_get_certificate_path (tls), hq_tls_get_fingerprint (tls),
      hq_tls_get_spki_hash (tls));
}

/* Every connection, room database and media socket takes a descriptor:
 * take all the system allows this process (the soft limit is often 1024
 * while the hard one is far higher), and say so. */
static void
raise_open_files_limit (void)
{
  struct rlimit lim;
  rlim_t before;
  JsonObject *line;

  if (getrlimit (RLIMIT_NOFILE, &lim) != 0)
    return;
  before = lim.rlim_cur;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit (RLIMIT_NOFILE, &lim) != 0)
      lim.rlim_cur = before;
  }
  line = hq_log_begin (HQ_LOG_INFO, "open_files_limit");
  json_object_set_int_member (line, "before", (gint64)before);
  json_object_set_int_member (line, "now", (gint64)lim.rlim_cur);
  json_object_set_int_member (line, "hard", (gint64)lim.rlim_max);
  hq_log_end (line);
}

static void
print_key_help (HqConfig *config, const gchar *url)
{
  printf (
      "Created a development API key in %s/credentials.conf (mode 0600):\n"
      "  account sid  %s\n"
      "  API key sid  %s\n"
      "Mint a token:     hq-server token --identity alice --room consult-1\n"
      "Or over HTTP:     curl -u %s:<secret> -d Identity=alice "
      "-d Room=consult-1 %s/v1/AccessTokens\n"
      "For production set HQ_API_KEY_SID/HQ_API_KEY_SECRET or a config "
      "file instead.\n",
      config->data_dir, config->account_sid, config->key_sid, config->key_sid,
      url);
}

/* The passcode guests need for POST /token, once, when it was made. */
static void
print_passcode_help (HqConfig *config, const gchar *url)
{
  printf ("Created the guest passcode in %s (mode 0600): %s\n"
          "Guests need it for a token from %s/token (the web client asks "
          "for it).\n",
      config->passcode_source, config->passcode, url);
}

/* The demo room, in progress for an hour unless someone joins it. */
static void
ensure_demo_room (HqServer *server)
{
  HqRoomParams params = { .unique_name = "demo", .unused_room_timeout = 60 };
  g_autoptr (GError) error = NULL;
  HqRooms *rooms = hq_server_get_rooms (server);

  if (hq_rooms_lookup (rooms, "demo") == NULL
      && hq_rooms_create (rooms, &params, &error) == NULL)
    fprintf (
        stderr, "hq-server: cannot create the demo room: %s\n", error->message);
}

static void
print_demo (HqConfig *config, const gchar *url)
{
  HqTokenGrant grant = {
    .identity = "demo-host",
    .room = "demo",
    .role = HQ_ROLE_HOST,
    .ttl = config->token_ttl,
  };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *token = hq_token_mint (config->key_sid, config->key_secret,
      config->account_sid, &grant, 0, &error);

  if (token == NULL) {
    fprintf (
        stderr, "hq-server: cannot mint the demo token: %s\n", error->message);
    return;
  }
  printf ("Demo room \"demo\": a host token for identity \"demo-host\":\n"
          "  %s\n"
          "A guest token for the same room (open without a passcode):\n"
          "  curl -X POST -H 'Content-Type: application/json' "
          "-d '{\"user_identity\":\"patient\",\"room_name\":\"demo\"}' "
          "%s/token\n",
      token, url);
}

static int
cmd_serve (int argc, char **argv)
{
  g_autofree gchar *opt_listen = NULL;
  gboolean opt_demo = FALSE;
  const GOptionEntry entries[] = {
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &opt_listen,
        "Address to listen on (default: $HQ_LISTEN or 127.0.0.1:8844; "
        "port 0 picks a free one)",
        "HOST:PORT" },
    { "demo", 0, 0, G_OPTION_ARG_NONE, &opt_demo,
        "Print a ready token for a demo room after start and let guests "
        "into it without a passcode",
        NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- hqrooms server");
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (HqServer) server = NULL;
  HqConfig *config;
  JsonObject *line;
  Stopping stopping = { 0 };
  guint sigint, sigterm, sighup;

  g_option_context_add_main_entries (ctx, common_entries, NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "hq-server: %s\n", error->message);
    return 2;
  }
  config = hq_config_load (opt_data_dir, opt_config, opt_listen, TRUE, &error);
  if (config == NULL) {
    fprintf (stderr, "hq-server: %s\n", error->message);
    return 1;
  }
  raise_open_files_limit ();
  /* The demo room, and only it, takes guests without a passcode. */
  if (opt_demo)
    hq_config_open_token_room (config, "demo");
  server = hq_server_new (config, &error);
  if (server == NULL) {
    fprintf (stderr, "hq-server: %s\n", error->message);
    return 1;
  }

  line = hq_log_begin (HQ_LOG_INFO, "listening");
  json_object_set_string_member (line, "url", hq_server_get_url (server));
  json_object_set_string_member (line, "data_dir", config->data_dir);
  json_object_set_string_member (line, "api_key_source", config->key_source);
  json_object_set_string_member (line, "version", HQ_VERSION);
  hq_log_end (line);

  if (config->tls_dev)
    print_dev_tls (hq_server_get_tls (server));
  if (config->key_generated)
    print_key_help (config, hq_server_get_url (server));
  if (config->passcode_generated)
    print_passcode_help (config, hq_server_get_url (server));
  if (opt_demo) {
    ensure_demo_room (server);
    print_demo (config, hq_server_get_url (server));
  }
  /* Before the line below: whoever waits for it may stop the server at
   * once, and a stop must always be clean. */
  loop = g_main_loop_new (NULL, FALSE);
  stopping.loop = loop;
  stopping.server = server;
  stopping.drain_timeout_s = config->drain_timeout_s;
  sigint = g_unix_signal_add (SIGINT, on_sigint, &stopping);
  sigterm = g_unix_signal_add (SIGTERM, on_sigterm, &stopping);
  sighup = g_unix_signal_add (SIGHUP, reload_on_signal, server);

  /* Tests and scripts wait for this line. */
  printf (
      "hq-server %s listening on %s\n", HQ_VERSION, hq_server_get_url (server));
  fflush (stdout);

  g_main_loop_run (loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  if (stopping.check)
    g_source_remove (stopping.check);
  g_source_remove (sighup);
  g_clear_pointer (&server, hq_server_free);
  hq_log_message (HQ_LOG_INFO, "stopped", "hq-server stopped");
  return 0;
}

static int
cmd_token (int argc, char **argv)
{
  g_autofree gchar *identity = NULL, *room = NULL, *role = NULL;
  gint ttl = 3600;
  const GOptionEntry entries[] = {
    { "identity", 'i', 0, G_OPTION_ARG_STRING, &identity,
        "Participant identity (required)", "NAME" },
    { "room", 'r', 0, G_OPTION_ARG_STRING, &room,
        "Room name the token admits to (default: any room)", "ROOM" },
    { "ttl", 't', 0, G_OPTION_ARG_INT, &ttl,
        "Lifetime in seconds, at most 86400 (default: 3600)", "SECONDS" },
    { "role", 0, 0, G_OPTION_ARG_STRING, &role,
        "host or guest (default: guest)", "ROLE" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("- print an access token");
  g_autoptr (GError) error = NULL;
  g_autoptr (HqConfig) config = NULL;
  g_autofree gchar *token = NULL;
  HqTokenGrant grant = { 0 };

  g_option_context_add_main_entries (ctx, common_entries, NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "hq-server token: %s\n", error->message);
    return 2;
  }
  if (identity == NULL) {
    fprintf (stderr, "hq-server token: --identity is required\n");
    return 2;
  }
  grant.role = HQ_ROLE_GUEST;
  if (role != NULL && !hq_role_from_string (role, &grant.role)) {
    fprintf (stderr, "hq-server token: --role must be host or guest\n");
    return 2;
  }
  config = hq_config_load (opt_data_dir, opt_config, NULL, TRUE, &error);
  if (config == NULL) {
    fprintf (stderr, "hq-server token: %s\n", error->message);
    return 1;
  }
  grant.identity = identity;
  grant.room = room;
  grant.ttl = ttl;
  token = hq_token_mint (config->key_sid, config->key_secret,
      config->account_sid, &grant, 0, &error);
  if (token == NULL) {
    fprintf (stderr, "hq-server token: %s\n", error->message);
    return 1;
  }
  printf ("%s\n", token);
  return 0;
}

/* Reads a token on stdin (not argv: tokens are credentials) and says
 * whether this server would accept it, and if not exactly why. */
static int
cmd_verify_token (int argc, char **argv)
{
  g_autofree gchar *room = NULL;
  const GOptionEntry entries[] = {
    { "room", 'r', 0, G_OPTION_ARG_STRING, &room,
        "Also check the token admits to this room", "ROOM" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("- check a token read from standard input");
  g_autoptr (GError) error = NULL;
  g_autoptr (HqConfig) config = NULL;
  g_autoptr (HqTokenClaims) claims = NULL;
  g_autoptr (GString) input = g_string_new (NULL);
  gchar buf[4096];
  gsize n;

  g_option_context_add_main_entries (ctx, common_entries, NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "hq-server verify-token: %s\n", error->message);
    return 2;
  }
  config = hq_config_load (opt_data_dir, opt_config, NULL, FALSE, &error);
  if (config == NULL) {
    fprintf (stderr, "hq-server verify-token: %s\n", error->message);
    return 1;
  }
  while (input->len < 64 * 1024 && (n = fread (buf, 1, sizeof buf, stdin)) > 0)
    g_string_append_len (input, buf, n);
  g_strstrip (input->str);
  claims = hq_token_verify (config->keyring, input->str, room, 0, &error);
  if (claims == NULL) {
    printf ("refused (%s): %s\n", hq_token_error_name (error->code),
        error->message);
    return 1;
  }
  printf ("valid: identity=%s room=%s role=%s key=%s account=%s "
          "expires_at=%" G_GINT64_FORMAT "\n",
      claims->identity, claims->room ? claims->room : "(any)",
      hq_role_to_string (claims->role), claims->key_sid, claims->account_sid,
      claims->expires_at);
  return 0;
}

/* A visit's host and patient links (docs/invites.md), stored in the data
 * directory's database, where a running server finds them. */
static int
cmd_invite (int argc, char **argv)
{
  g_autofree gchar *url = NULL;
  gint ttl = HQ_INVITE_DEFAULT_TTL, max_uses = 1;
  gboolean no_waiting_room = FALSE;
  const GOptionEntry entries[] = {
    { "url", 'u', 0, G_OPTION_ARG_STRING, &url,
        "The server's address as patients reach it (default: "
        "http://<listen address>)",
        "URL" },
    { "ttl", 't', 0, G_OPTION_ARG_INT, &ttl,
        "How long both links work, 60 to 2592000 seconds (default: 86400)",
        "SECONDS" },
    { "max-uses", 'm', 0, G_OPTION_ARG_INT, &max_uses,
        "How many times the patient link gives a token, 0 (any until it "
        "expires) to 100 (default: 1)",
        "N" },
    { "no-waiting-room", 0, 0, G_OPTION_ARG_NONE, &no_waiting_room,
        "Let the patient in without a host admitting them", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("[ROOM] - make a visit's host and patient links");
  g_autoptr (GError) error = NULL;
  g_autoptr (HqConfig) config = NULL;
  g_autoptr (HqVisit) visit = NULL;
  g_autofree gchar *base = NULL, *host = NULL, *patient = NULL;
  g_autofree gchar *expires_iso = NULL;
  HqVisitParams params = { 0 };
  HqStore *store;

  g_option_context_add_main_entries (ctx, common_entries, NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "hq-server invite: %s\n", error->message);
    return 2;
  }
  if (argc > 2) {
    fprintf (stderr, "hq-server invite: one room name at most\n");
    return 2;
  }
  config = hq_config_load (opt_data_dir, opt_config, NULL, TRUE, &error);
  if (config == NULL) {
    fprintf (stderr, "hq-server invite: %s\n", error->message);
    return 1;
  }
  params.visit = argc == 2 ? argv[1] : NULL;
  params.ttl = ttl;
  params.max_uses = max_uses;
  params.no_waiting_room = no_waiting_room;
  store = hq_store_open (config->data_dir, &error);
  if (store == NULL) {
    fprintf (stderr, "hq-server invite: %s\n", error->message);
    return 1;
  }
  visit = hq_visit_create (store, &params, &error);
  hq_store_close (store);
  if (visit == NULL) {
    fprintf (stderr, "hq-server invite: %s\n", error->message);
    return error->code == HQ_INVITE_ERROR_STORE ? 1 : 2;
  }
  if (url)
    base = g_strdup (url);
  else
    base = g_strdup_printf (
        "http://%s:%u", config->listen_host, config->listen_port);
  while (g_str_has_suffix (base, "/"))
    base[strlen (base) - 1] = '\0';
  host = hq_invite_url (base, visit->host_code);
  patient = hq_invite_url (base, visit->patient_code);
  expires_iso = hq_time_iso (visit->expires);
  printf ("Visit \"%s\" (waiting room %s), links valid until %s:\n"
          "  host:    %s\n"
          "  patient: %s\n",
      visit->visit, visit->waiting_room ? "on" : "off", expires_iso, host,
      patient);
  if (visit->max_uses > 0)
    printf ("The patient link works %d time%s.\n", visit->max_uses,
        visit->max_uses == 1 ? "" : "s");
  return 0;
}

/* Counts of a rewrap. */
typedef struct
{
  const HqSealKeys *keys;
  guint rewrapped, current, failed;
} Rewrap;

/* Rewraps every sealed file below @dir. */
static void
rewrap_dir (Rewrap *r, const gchar *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d))) {
    g_autofree gchar *path = g_build_filename (dir, name, NULL);
    g_autoptr (GError) error = NULL;
    gboolean changed = FALSE;

    if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
      rewrap_dir (r, path);
      continue;
    }
    if (strstr (name, ".sealing-") || !hq_sealed_file_is_sealed (path))
      continue;
    if (!hq_sealed_rewrap_file (r->keys, path, &changed, &error)) {
      fprintf (stderr, "hq-server rewrap: %s\n", error->message);
      r->failed++;
    } else if (changed) {
      r->rewrapped++;
    } else {
      r->current++;
    }
  }
}

/* After a new operator key was put first in the key file: seals what is
 * still clear and wraps every sealed file's data key with the new key,
 * rewriting headers only, so that the old key can then be removed. */
static int
cmd_rewrap (int argc, char **argv)
{
  static const gchar *const dirs[] = { "recordings", "compositions",
    "chat-media", NULL };
  g_autoptr (GOptionContext) ctx = g_option_context_new (
      "- wrap every sealed media file with the current operator key");
  g_autoptr (GError) error = NULL;
  g_autoptr (HqConfig) config = NULL;
  HqStore *store;
  Rewrap r = { 0 };
  guint sealed, seal_failed = 0;

  g_option_context_add_main_entries (ctx, common_entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "hq-server rewrap: %s\n", error->message);
    return 2;
  }
  config = hq_config_load (opt_data_dir, opt_config, NULL, TRUE, &error);
  if (config == NULL) {
    fprintf (stderr, "hq-server rewrap: %s\n", error->message);
    return 1;
  }
  r.keys = hq_at_rest_get_keys (config->at_rest);
  if (r.keys == NULL) {
    fprintf (stderr,
        "hq-server rewrap: no operator key is configured "
        "([at-rest] key_file, HQ_AT_REST_KEY_FILE or "
        "HQ_AT_REST_KEYS; docs/at-rest.md)\n");
    return 1;
  }
  store = hq_store_open (config->data_dir, &error);
  if (store == NULL) {
    fprintf (stderr, "hq-server rewrap: %s\n", error->message);
    return 1;
  }
  sealed = hq_at_rest_sweep (
      config->at_rest, store, config->data_dir, TRUE, &seal_failed);
  hq_store_close (store);
  for (guint i = 0; dirs[i]; i++) {
    g_autofree gchar *dir = g_build_filename (config->data_dir, dirs[i], NULL);
    rewrap_dir (&r, dir);
  }
  printf ("rewrap: %u file(s) rewrapped to operator key \"%s\", %u already "
          "on it, %u clear file(s) sealed, %u failed\n",
      r.rewrapped, hq_seal_keys_current_id (r.keys), r.current, sealed,
      r.failed + seal_failed);
  return r.failed + seal_failed > 0 ? 1 : 0;
}

int
main (int argc, char **argv)
{
  int ret;

  /* Subcommand first; "serve" is the default. */
  if (argc > 1 && strcmp (argv[1], "token") == 0)
    ret = cmd_token (argc - 1, argv + 1);
  else if (argc > 1 && strcmp (argv[1], "invite") == 0)
    ret = cmd_invite (argc - 1, argv + 1);
  else if (argc > 1 && strcmp (argv[1], "rewrap") == 0)
    ret = cmd_rewrap (argc - 1, argv + 1);
  else if (argc > 1 && strcmp (argv[1], "verify-token") == 0)
    ret = cmd_verify_token (argc - 1, argv + 1);
  else if (argc > 1 && strcmp (argv[1], "serve") == 0)
    ret = cmd_serve (argc - 1, argv + 1);
  else if (argc > 1 && strcmp (argv[1], "--version") == 0) {
    printf ("hq-server %s\n", HQ_VERSION);
    ret = 0;
  } else
    ret = cmd_serve (argc, argv);
  g_free (opt_data_dir);
  g_free (opt_config);
  return ret;
}
