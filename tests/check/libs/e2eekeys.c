/* libhq key epochs (hqe2eekeys): participants in memory, their messages
 * relayed as the server relays e2ee_send.  Someone who leaves keeps the
 * room secret but cannot decrypt what is sent after the re-key; the
 * others can, and show the same verification code; a key the server
 * slips in gets nothing; forged and changed messages are refused.  Suite
 * `e2ee`. */
#include <string.h>
#include <glib.h>
#include <hq/hqe2eekeys.h>

#define SECRET "the room secret of this visit"

typedef struct Room Room;

typedef struct
{
  Room *room;
  gchar *sid, *identity;
  HqFrameCrypt *fc;
  HqE2eeKeys *keys;
  gboolean present;
  guint epochs_seen;
  gchar code[7];
} Member;

typedef struct
{
  gchar *from, *to, *data;
} Msg;

struct Room
{
  GPtrArray *members;
  GQueue queue;
  guint refused;
};

static Member *
find (Room *room, const gchar *sid)
{
  for (guint i = 0; i < room->members->len; i++) {
    Member *m = g_ptr_array_index (room->members, i);
    if (g_str_equal (m->sid, sid))
      return m;
  }
  return NULL;
}

static void
member_send (const gchar *to_sid, const gchar *data, gpointer user_data)
{
  Member *m = user_data;
  Msg *msg = g_new0 (Msg, 1);

  msg->from = g_strdup (m->sid);
  msg->to = g_strdup (to_sid);
  msg->data = g_strdup (data);
  g_queue_push_tail (&m->room->queue, msg);
}

static void
member_epoch (
    guint epoch, const gchar *code, const gchar *from, gpointer user_data)
{
  Member *m = user_data;

  (void)epoch;
  (void)from;
  m->epochs_seen++;
  g_strlcpy (m->code, code, sizeof m->code);
}

/* What the server does: to one admitted participant, or to every other. */
static void
pump (Room *room)
{
  Msg *msg;

  while ((msg = g_queue_pop_head (&room->queue))) {
    Member *from = find (room, msg->from);
    for (guint i = 0; from && from->present && i < room->members->len; i++) {
      Member *m = g_ptr_array_index (room->members, i);
      g_autoptr (GError) error = NULL;
      if (m == from || !m->present
          || (msg->to && !g_str_equal (msg->to, m->sid)))
        continue;
      if (!hq_e2ee_keys_receive (
              m->keys, from->sid, from->identity, msg->data, &error)) {
        g_assert_nonnull (error);
        room->refused++;
      }
    }
    g_free (msg->from);
    g_free (msg->to);
    g_free (msg->data);
    g_free (msg);
  }
}

static Member *
join (Room *room, const gchar *identity, const gchar *secret)
{
  Member *m = g_new0 (Member, 1);
  g_autoptr (GHashTable) others = g_hash_table_new (g_str_hash, g_str_equal);

  m->room = room;
  m->identity = g_strdup (identity);
  m->sid = g_strdup_printf ("PA%s", identity);
  m->fc = hq_frame_crypt_new ();
  hq_frame_crypt_set_secret (m->fc, 0, secret, 0);
  hq_frame_crypt_get_code (m->fc, NULL, m->code);
  m->keys = hq_e2ee_keys_new (m->fc, secret);
  hq_e2ee_keys_set_funcs (m->keys, member_send, member_epoch, m, NULL);
  for (guint i = 0; i < room->members->len; i++) {
    Member *o = g_ptr_array_index (room->members, i);
    if (o->present) {
      g_hash_table_insert (others, o->sid, o->identity);
      hq_e2ee_keys_participant (o->keys, m->sid, m->identity);
    }
  }
  m->present = TRUE;
  g_ptr_array_add (room->members, m);
  hq_e2ee_keys_joined (m->keys, m->sid, m->identity, others);
  pump (room);
  return m;
}

static void
leave (Room *room, Member *m)
{
  m->present = FALSE;
  for (guint i = 0; i < room->members->len; i++) {
    Member *o = g_ptr_array_index (room->members, i);
    if (o->present)
      hq_e2ee_keys_participant (o->keys, m->sid, NULL);
  }
  pump (room);
}

static void
member_free (gpointer p)
{
  Member *m = p;

  hq_e2ee_keys_free (m->keys);
  hq_frame_crypt_unref (m->fc);
  g_free (m->sid);
  g_free (m->identity);
  g_free (m);
}

static Room *
room_new (void)
{
  Room *room = g_new0 (Room, 1);

  room->members = g_ptr_array_new_with_free_func (member_free);
  g_queue_init (&room->queue);
  return room;
}

static void
room_free (Room *room)
{
  pump (room);
  g_ptr_array_unref (room->members);
  g_free (room);
}

static const guint8 opus_frame[] = { 0xfc, 0xff, 0xfe, 1, 2, 3, 4, 5, 6, 7 };

/* @sender encrypts a frame; TRUE when @receiver's keys decrypt it. */
static gboolean
decrypts (Member *sender, HqFrameCrypt *receiver, gint *code)
{
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *enc = NULL;
  guint8 out[64];
  gsize len = 0;
  gssize n;

  enc = hq_frame_crypt_encrypt (sender->fc, sender->identity,
      HQ_FRAME_MEDIA_OPUS, opus_frame, sizeof opus_frame, &len, &error);
  g_assert_no_error (error);
  n = hq_frame_crypt_decrypt (
      receiver, sender->identity, HQ_FRAME_MEDIA_OPUS, enc, len, out, &error);
  if (code)
    *code = error ? error->code : -1;
  if (n < 0)
    return FALSE;
  g_assert_cmpmem (out, n, opus_frame, sizeof opus_frame);
  return TRUE;
}

static void
test_leaver_cannot_decrypt (void)
{
  Room *room = room_new ();
  Member *alice = join (room, "alice", SECRET);
  Member *bob = join (room, "bob", SECRET);
  Member *carol = join (room, "carol", SECRET);
  g_autoptr (HqFrameCrypt) rederived = hq_frame_crypt_new ();
  gchar code0[7];
  gint code;

  /* epoch 0 for everyone, from the room secret: one code */
  g_assert_true (decrypts (alice, carol->fc, NULL));
  g_assert_cmpstr (alice->code, ==, carol->code);
  g_strlcpy (code0, alice->code, sizeof code0);
  g_assert_cmpuint (room->refused, ==, 0);

  leave (room, carol);
  /* alice sorts first of those left: she drew epoch 1, bob got it */
  g_assert_cmpuint (hq_e2ee_keys_get_epoch (alice->keys), ==, 1);
  g_assert_cmpuint (hq_e2ee_keys_get_epoch (bob->keys), ==, 1);
  g_assert_cmpuint (hq_e2ee_keys_get_epoch (carol->keys), ==, 0);
  g_assert_cmpuint (bob->epochs_seen, ==, 1);
  g_assert_cmpstr (alice->code, ==, bob->code);
  g_assert_cmpstr (alice->code, !=, code0);
  g_assert_true (decrypts (alice, bob->fc, NULL));
  g_assert_true (decrypts (bob, alice->fc, NULL));
  /* carol kept everything she had: the room secret, epoch 0 */
  g_assert_false (decrypts (alice, carol->fc, &code));
  g_assert_cmpint (code, ==, HQ_FRAME_CRYPT_ERROR_UNKNOWN_EPOCH);
  g_assert_false (decrypts (bob, carol->fc, NULL));
  /* nor does the room secret with the next epoch number do */
  hq_frame_crypt_set_secret (rederived, 1, SECRET, 0);
  g_assert_false (decrypts (alice, rederived, &code));
  g_assert_cmpint (code, ==, HQ_FRAME_CRYPT_ERROR_AUTH);
  g_assert_cmpuint (room->refused, ==, 0);
  room_free (room);
}

static void
test_distributor_leaves (void)
{
  Room *room = room_new ();
  Member *alice = join (room, "alice", SECRET);
  Member *bob = join (room, "bob", SECRET);
  Member *carol = join (room, "carol", SECRET);

  leave (room, alice);
  g_assert_cmpuint (hq_e2ee_keys_get_epoch (bob->keys), ==, 1);
  g_assert_cmpuint (hq_e2ee_keys_get_epoch (carol->keys), ==, 1);
  g_assert_true (decrypts (carol, bob->fc, NULL));
  g_assert_false (decrypts (carol, alice->fc, NULL));
  leave (room, bob);
  /* carol alone draws epoch 2 for nobody */
  g_assert_cmpuint (hq_e2ee_keys_get_epoch (carol->keys), ==, 2);
  g_assert_false (decrypts (carol, bob->fc, NULL));
  room_free (room);
}

static void
test_newcomer_gets_epoch (void)
{
  Room *room = room_new ();
  Member *alice = join (room, "bob", SECRET);
  Member *carol = join (room, "carol", SECRET);
  Member *dave;

  (void)carol;
  leave (room, carol);
  g_assert_cmpuint (hq_e2ee_keys_get_epoch (alice->keys), ==, 1);
  /* "aaron" sorts first, but a newcomer holds only the room secret: the
   * first of the others sends it the epoch */
  dave = join (room, "aaron", SECRET);
  g_assert_cmpuint (hq_e2ee_keys_get_epoch (dave->keys), ==, 1);
  g_assert_cmpstr (dave->code, ==, alice->code);
  g_assert_true (decrypts (alice, dave->fc, NULL));
  g_assert_true (decrypts (dave, alice->fc, NULL));
  g_assert_cmpuint (room->refused, ==, 0);
  room_free (room);
}

/* The server (or anyone without the room secret) joins a participant of
 * its own: its key does not verify, it is sent no epoch. */
static void
test_server_key_ignored (void)
{
  Room *room = room_new ();
  Member *alice = join (room, "alice", SECRET);
  Member *bob = join (room, "bob", SECRET);
  Member *mallory = join (room, "mallory", "the server's guess");
  Member *carol = join (room, "carol", SECRET);
  gint code;

  /* alice and bob and carol refused mallory's hello; mallory refused
   * carol's */
  g_assert_cmpuint (room->refused, >=, 3);
  leave (room, carol);
  g_assert_cmpuint (hq_e2ee_keys_get_epoch (bob->keys), ==, 1);
  g_assert_cmpuint (hq_e2ee_keys_get_epoch (mallory->keys), ==, 0);
  g_assert_false (decrypts (alice, mallory->fc, &code));
  g_assert_cmpint (code, ==, HQ_FRAME_CRYPT_ERROR_UNKNOWN_EPOCH);
  room_free (room);
}

static void
test_forged_messages (void)
{
  Room *room = room_new ();
  Member *alice = join (room, "alice", SECRET);
  Member *bob = join (room, "bob", SECRET);
  Member *carol = join (room, "carol", SECRET);
  static const gchar *junk[] = { "", "key1", "key1 a b hello", "epoch1",
    "epoch1 1 bob AAAA AAAA", "epoch1 99999 bob a b", "epoch1 x y z w",
    "nonsense with spaces", "key1 \xff\xfe zz reply" };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *sealed = NULL;
  Msg *msg;

  for (guint i = 0; i < G_N_ELEMENTS (junk); i++) {
    g_clear_error (&error);
    g_assert_false (
        hq_e2ee_keys_receive (bob->keys, alice->sid, "alice", junk[i], &error));
    g_assert_nonnull (error);
  }
  /* carol leaves; catch alice's epoch message to bob, change one byte
   * of it, and see it refused; then the real one works */
  alice->present = bob->present = TRUE;
  carol->present = FALSE;
  hq_e2ee_keys_participant (bob->keys, carol->sid, NULL);
  hq_e2ee_keys_participant (alice->keys, carol->sid, NULL);
  msg = g_queue_peek_head (&room->queue);
  g_assert_nonnull (msg);
  g_assert_true (g_str_has_prefix (msg->data, "epoch1 1 bob "));
  sealed = g_strdup (msg->data);
  sealed[strlen (sealed) - 3] ^= 0x01;
  g_clear_error (&error);
  g_assert_false (
      hq_e2ee_keys_receive (bob->keys, alice->sid, "alice", sealed, &error));
  g_assert_false (
      hq_e2ee_keys_receive (bob->keys, carol->sid, "carol", msg->data, NULL));
  g_assert_cmpuint (hq_e2ee_keys_get_epoch (bob->keys), ==, 0);
  pump (room);
  g_assert_cmpuint (hq_e2ee_keys_get_epoch (bob->keys), ==, 1);
  room_free (room);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func (
      "/e2eekeys/leaver-cannot-decrypt", test_leaver_cannot_decrypt);
  g_test_add_func ("/e2eekeys/distributor-leaves", test_distributor_leaves);
  g_test_add_func ("/e2eekeys/newcomer-gets-epoch", test_newcomer_gets_epoch);
  g_test_add_func ("/e2eekeys/server-key-ignored", test_server_key_ignored);
  g_test_add_func ("/e2eekeys/forged-messages", test_forged_messages);
  return g_test_run ();
}
