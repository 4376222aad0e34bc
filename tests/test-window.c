/* test-window.c: the real application opens its main window and draws it
 *
 * Runs GradlensApplication as `gradlens` does, waits until the window is
 * mapped and has painted, checks its widget tree (the lesson picker with the
 * six lessons, every step control with its tooltip, the menu, the five panes,
 * the first lesson's program ready to run), its actions and accelerators, that
 * the Keyboard Shortcuts window lists every stepping command, saves a PNG of it
 * under G_TEST_BUILDDIR (window.png), and quits through app.quit. Settings go
 * to a temporary XDG_CONFIG_HOME. Needs a display: run it under xvfb-run.
 * test-app.c drives the lessons.
 */

#include <string.h>

#include <gtk/gtk.h>

#include "app-home.h"
#include "code-view.h"
#include "gradlens-application.h"
#include "gradlens-window.h"

#define PAINTS_BEFORE_SNAPSHOT 2
#define GIVE_UP_SECONDS 30

typedef struct
{
  GradlensApplication *app;
  GtkWindow           *window;   /* weak */
  GdkFrameClock       *frame_clock;
  gulong               after_paint_id;
  guint                n_paints;
  guint                poll_id;
  gboolean             tree_checked;
  gboolean             checked;
} Fixture;

static void
collect_widgets (GtkWidget *widget,
                 GType      type,
                 GPtrArray *found)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    g_ptr_array_add (found, widget);

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_widgets (child, type, found);
}

static GtkWidget *
find_label (GtkWidget  *root,
            const char *text)
{
  g_autoptr (GPtrArray) labels = g_ptr_array_new ();

  collect_widgets (root, GTK_TYPE_LABEL, labels);
  for (guint i = 0; i < labels->len; i++)
    if (g_strcmp0 (gtk_label_get_text (labels->pdata[i]), text) == 0)
      return labels->pdata[i];

  return NULL;
}

static GtkWidget *
find_action_button (GtkWidget  *root,
                    const char *action)
{
  g_autoptr (GPtrArray) buttons = g_ptr_array_new ();

  collect_widgets (root, GTK_TYPE_BUTTON, buttons);
  for (guint i = 0; i < buttons->len; i++)
    if (g_strcmp0 (gtk_actionable_get_action_name (buttons->pdata[i]), action) == 0)
      return buttons->pdata[i];
  g_assert_not_reached ();
  return NULL;
}

/* The menu's actions in order, sections and submenus flattened: "app.about", ... */
static void
collect_menu_actions (GMenuModel *model,
                      GPtrArray  *actions)
{
  for (int i = 0; i < g_menu_model_get_n_items (model); i++)
    {
      g_autoptr (GMenuModel) section = NULL;
      char *action = NULL;

      section = g_menu_model_get_item_link (model, i, G_MENU_LINK_SECTION);
      if (section == NULL)
        section = g_menu_model_get_item_link (model, i, G_MENU_LINK_SUBMENU);
      if (section != NULL)
        collect_menu_actions (section, actions);
      else if (g_menu_model_get_item_attribute (model, i, G_MENU_ATTRIBUTE_ACTION, "s", &action))
        g_ptr_array_add (actions, action);
    }
}

static gboolean
accels_contain (GtkApplication *app,
                const char     *action,
                const char     *accel)
{
  g_auto (GStrv) accels = gtk_application_get_accels_for_action (app, action);

  return accels != NULL && g_strv_contains ((const char * const *) accels, accel);
}

static void
check_widget_tree (Fixture *fx)
{
  static const char *const menu_actions[] = {
    "win.new-program", "win.open-program",
    /* Examples: one item per example (python/lessons.h's example_list) */
    "win.open-example", "win.open-example", "win.open-example", "win.open-example",
    "win.open-example", "win.open-example", "win.open-example", "win.open-example",
    "win.save-program", "win.save-program-as",
    "win.open-weights", "win.save-weights",
    "win.export-graph", "win.export-graph", "win.export-graph",
    "app.shortcuts", "app.about", "app.quit",
  };
  static const struct
  {
    const char *action, *accel;
  } accels[] = {
    { "app.quit", "<Control>q" },
    { "app.shortcuts", "<Control>question" },
    { "win.step-op", "F10" },
    { "win.step-line", "F11" },
    { "win.step-backward-node", "F9" },
    { "win.run-to-phase-end", "<Shift>F11" },
    { "win.run-to-end", "F5" },
    { "win.play-pause", "F6" },
    { "win.reset", "<Control>r" },
    { "win.optimizer-step", "F7" },
    { "win.zero-grad", "F8" },
    { "win.new-program", "<Control>n" },
    { "win.open-program", "<Control>o" },
    { "win.save-program", "<Control>s" },
    { "win.save-program-as", "<Shift><Control>s" },
    { "win.open-weights", "<Shift><Control>o" },
    { "win.save-weights", "<Control><Alt>s" },
    { "win.toggle-breakpoint", "F12" },
    { "win.toggle-breakpoint", "<Control>b" },
  };
  GtkWidget *window = GTK_WIDGET (fx->window);
  GtkWidget *titlebar;
  GtkWidget *child;
  GtkMenuButton *menu_button = NULL;
  g_autoptr (GPtrArray) buttons = g_ptr_array_new ();
  g_autoptr (GPtrArray) actions = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) paneds = g_ptr_array_new ();
  g_autoptr (GPtrArray) shortcuts = g_ptr_array_new ();
  g_autofree char *line3 = NULL;
  GradlensCodeView *code_view;

  g_assert_true (GRADLENS_IS_WINDOW (window));
  g_assert_cmpstr (gtk_window_get_title (fx->window), ==, "GradLens");
  g_assert_true (gtk_window_get_application (fx->window) == GTK_APPLICATION (fx->app));

  /* Header bar: the lesson picker with the six lessons, and the step controls. */
  titlebar = gtk_window_get_titlebar (fx->window);
  g_assert_true (GTK_IS_HEADER_BAR (titlebar));
  g_assert_true (gtk_widget_get_mapped (titlebar));
  {
    GtkDropDown *lessons = GTK_DROP_DOWN (
      gradlens_window_get_panel (GRADLENS_WINDOW (window), "lesson-dropdown"));
    g_assert_true (gtk_widget_is_ancestor (GTK_WIDGET (lessons), titlebar));
    g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (lessons)));
    g_assert_cmpuint (g_list_model_get_n_items (gtk_drop_down_get_model (lessons)), ==, 6);
  }
  collect_widgets (titlebar, GTK_TYPE_BUTTON, buttons);
  {
    static const char *const step_actions[] = {
      "win.step-op", "win.step-line", "win.step-backward-node", "win.run-to-phase-end",
      "win.run-to-end", "win.play-pause", "win.reset", "win.optimizer-step", "win.zero-grad",
    };
    for (guint a = 0; a < G_N_ELEMENTS (step_actions); a++)
      {
        GtkWidget *found = NULL;
        for (guint i = 0; i < buttons->len; i++)
          if (g_strcmp0 (gtk_actionable_get_action_name (buttons->pdata[i]), step_actions[a]) == 0)
            found = buttons->pdata[i];
        const char *tooltip;
        guint n_keys = 0;

        g_assert_nonnull (found);
        /* The tooltip names the command and its key, as GTK writes the key
         * ("Shift+F11", "Ctrl+R"). */
        tooltip = gtk_widget_get_tooltip_text (found);
        g_assert_nonnull (tooltip);
        for (guint k = 0; k < G_N_ELEMENTS (accels); k++)
          if (g_str_equal (accels[k].action, step_actions[a]))
            {
              guint key;
              GdkModifierType mods;
              g_autofree char *label = NULL;

              g_assert_true (gtk_accelerator_parse (accels[k].accel, &key, &mods));
              label = gtk_accelerator_get_label (key, mods);
              g_assert_nonnull (strstr (tooltip, label));
              n_keys++;
            }
        g_assert_cmpuint (n_keys, ==, 1);
      }
  }
  g_ptr_array_set_size (buttons, 0);

  /* The primary menu: programs, weights, export, then the app's items. */
  collect_widgets (titlebar, GTK_TYPE_MENU_BUTTON, buttons);
  for (guint i = 0; i < buttons->len; i++)
    if (g_strcmp0 (gtk_menu_button_get_icon_name (buttons->pdata[i]), "open-menu-symbolic") == 0)
      menu_button = buttons->pdata[i];
  g_assert_nonnull (menu_button);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (menu_button)));
  /* F10 belongs to Step Op, not to the menu. */
  g_assert_false (gtk_menu_button_get_primary (menu_button));
  g_assert_nonnull (gtk_menu_button_get_menu_model (menu_button));
  collect_menu_actions (gtk_menu_button_get_menu_model (menu_button), actions);
  /* The Recent Programs section lists what this user opened before, if anything. */
  for (guint i = actions->len; i > 0; i--)
    if (g_str_equal (actions->pdata[i - 1], "win.open-recent"))
      g_ptr_array_remove_index (actions, i - 1);
  g_assert_cmpuint (actions->len, ==, G_N_ELEMENTS (menu_actions));
  for (guint i = 0; i < actions->len; i++)
    g_assert_cmpstr (actions->pdata[i], ==, menu_actions[i]);
  for (guint i = 0; i < actions->len; i++)
    if (g_str_has_prefix (actions->pdata[i], "app."))
      {
        const char *name = (const char *) actions->pdata[i] + strlen ("app.");
        g_assert_true (g_action_group_has_action (G_ACTION_GROUP (fx->app), name));
        g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (fx->app), name));
      }
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    g_assert_true (accels_contain (GTK_APPLICATION (fx->app), accels[i].action, accels[i].accel));

  /* The help overlay lists every stepping command. */
  {
    GtkShortcutsWindow *overlay =
      gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (fx->window));
    g_assert_true (GTK_IS_SHORTCUTS_WINDOW (overlay));
    collect_widgets (GTK_WIDGET (overlay), GTK_TYPE_SHORTCUTS_SHORTCUT, shortcuts);
    for (guint a = 2; a < G_N_ELEMENTS (accels); a++)
      {
        gboolean listed = FALSE;
        for (guint i = 0; i < shortcuts->len; i++)
          {
            g_autofree char *name = NULL;
            g_object_get (shortcuts->pdata[i], "action-name", &name, NULL);
            listed = listed || g_strcmp0 (name, accels[a].action) == 0;
          }
        g_assert_true (listed);
      }
  }

  /* Resizable panes: code | graph over log and plots | inspector. */
  child = gtk_window_get_child (fx->window);
  collect_widgets (child, GTK_TYPE_PANED, paneds);
  g_assert_cmpuint (paneds->len, ==, 5);
  g_assert_cmpint (gtk_orientable_get_orientation (GTK_ORIENTABLE (paneds->pdata[0])), ==,
                   GTK_ORIENTATION_HORIZONTAL);

  /* The first lesson's program is in the code view, not running yet. */
  code_view = GRADLENS_CODE_VIEW (gradlens_window_get_panel (GRADLENS_WINDOW (window), "code-view"));
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (code_view)));
  line3 = gradlens_code_view_dup_line_text (code_view, 3);
  g_assert_cmpstr (line3, ==, "a = torch.tensor([2., 3.], requires_grad=True)");
  g_assert_cmpint (gradlens_code_view_get_line (code_view), ==, 0);
  g_assert_cmpstr (gradlens_code_view_get_phase (code_view), ==, "idle");
  g_assert_true (gtk_widget_get_mapped (find_label (child, "No Graph Yet")));

  /* Ready: the steps apply, the backward's and the optimizer's do not. */
  g_assert_true (gtk_widget_is_sensitive (find_action_button (titlebar, "win.step-op")));
  g_assert_false (gtk_widget_is_sensitive (find_action_button (titlebar, "win.step-backward-node")));
  g_assert_false (gtk_widget_get_mapped (find_action_button (titlebar, "win.optimizer-step")));
}

/* NULL while the window waits for a new allocation: GTK 4.8 snapshots nothing then
 * (a text view that wraps may change its scroll range after a paint and ask for
 * one: under load, between two polls). */
static GdkTexture *
render_window (GtkWidget *widget)
{
  g_autoptr (GdkPaintable) paintable = NULL;
  g_autoptr (GskRenderNode) node = NULL;
  GtkSnapshot *snapshot;
  GskRenderer *renderer;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);

  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);

  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    return NULL;

  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  g_assert_nonnull (renderer);

  return gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
}

/* A drawn window has a header bar, text and icons: many distinct colours,
 * and it is opaque. A blank or failed render is one colour or transparent. */
static void
check_texture_is_drawn (GdkTexture *texture)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  gsize stride = (gsize) width * 4;
  g_autofree guint32 *pixels = g_new (guint32, (gsize) width * height);
  g_autoptr (GHashTable) colours = g_hash_table_new (NULL, NULL);
  gsize opaque = 0;

  gdk_texture_download (texture, (guchar *) pixels, stride);

  for (gsize i = 0; i < (gsize) width * height; i++)
    {
      /* CAIRO_FORMAT_ARGB32, native endian: alpha in the top byte. */
      if ((pixels[i] >> 24) == 0xff)
        opaque++;
      if (g_hash_table_size (colours) < 4096)
        g_hash_table_add (colours, GUINT_TO_POINTER (pixels[i]));
    }

  g_test_message ("%d×%d, %u distinct colours, %.1f%% opaque",
                  width, height, g_hash_table_size (colours),
                  100.0 * opaque / ((double) width * height));
  g_assert_cmpuint (g_hash_table_size (colours), >=, 64);
  g_assert_cmpfloat ((double) opaque, >=, 0.9 * width * height);
}

/* FALSE: nothing to snapshot yet (render_window); poll again after the next paint. */
static gboolean
check_snapshot (Fixture *fx)
{
  GtkWidget *window = GTK_WIDGET (fx->window);
  g_autoptr (GdkTexture) texture = NULL;
  g_autofree char *path = NULL;

  texture = render_window (window);
  if (texture == NULL)
    return FALSE;
  g_assert_cmpint (gdk_texture_get_width (texture), ==, gtk_widget_get_width (window));
  g_assert_cmpint (gdk_texture_get_height (texture), ==, gtk_widget_get_height (window));
  check_texture_is_drawn (texture);

  path = g_test_build_filename (G_TEST_BUILT, "window.png", NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_test_message ("saved %s", path);
  return TRUE;
}

static GtkAboutDialog *
find_about_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();  /* not ours */

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) window = g_list_model_get_item (toplevels, i);

      if (GTK_IS_ABOUT_DIALOG (window) && gtk_widget_get_visible (GTK_WIDGET (window)))
        return GTK_ABOUT_DIALOG (window);
    }

  return NULL;
}

static void
check_dialogs (Fixture *fx)
{
  GtkShortcutsWindow *overlay;
  GtkAboutDialog *about;

  overlay = gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (fx->window));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (overlay)));
  g_action_group_activate_action (G_ACTION_GROUP (fx->app), "shortcuts", NULL);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (overlay)));
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (overlay)) == fx->window);
  gtk_widget_set_visible (GTK_WIDGET (overlay), FALSE);

  g_assert_null (find_about_dialog ());
  g_action_group_activate_action (G_ACTION_GROUP (fx->app), "about", NULL);
  about = find_about_dialog ();
  g_assert_nonnull (about);
  g_assert_cmpstr (gtk_about_dialog_get_program_name (about), ==, "GradLens");
  g_assert_cmpstr (gtk_about_dialog_get_version (about), ==, GRADLENS_VERSION);
  g_assert_cmpint (gtk_about_dialog_get_license_type (about), ==, GTK_LICENSE_GPL_3_0);
  g_assert_cmpstr (gtk_about_dialog_get_logo_icon_name (about), ==, GRADLENS_APPLICATION_ID);
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (about)) == fx->window);
  gtk_window_close (GTK_WINDOW (about));
}

static void
on_after_paint (GdkFrameClock *frame_clock,
                Fixture       *fx)
{
  fx->n_paints++;
}

/* Polled from the main loop until the window is mapped and has painted. */
static gboolean
poll_window (gpointer user_data)
{
  Fixture *fx = user_data;

  if (fx->window == NULL || !gtk_widget_get_mapped (GTK_WIDGET (fx->window)))
    return G_SOURCE_CONTINUE;

  if (fx->frame_clock == NULL)
    {
      fx->frame_clock = gtk_widget_get_frame_clock (GTK_WIDGET (fx->window));
      g_assert_nonnull (fx->frame_clock);
      fx->after_paint_id = g_signal_connect (fx->frame_clock, "after-paint",
                                             G_CALLBACK (on_after_paint), fx);
      gtk_widget_queue_draw (GTK_WIDGET (fx->window));
    }

  if (fx->n_paints < PAINTS_BEFORE_SNAPSHOT)
    {
      gtk_widget_queue_draw (GTK_WIDGET (fx->window));
      return G_SOURCE_CONTINUE;
    }

  if (!fx->tree_checked)
    {
      check_widget_tree (fx);
      fx->tree_checked = TRUE;
    }
  if (!check_snapshot (fx))
    {
      g_test_message ("no allocation to snapshot yet: waiting for the next paint");
      fx->n_paints = 0;
      gtk_widget_queue_draw (GTK_WIDGET (fx->window));
      return G_SOURCE_CONTINUE;
    }
  g_clear_signal_handler (&fx->after_paint_id, fx->frame_clock);
  check_dialogs (fx);
  fx->checked = TRUE;

  /* Quit the way the menu and <Control>q do. */
  fx->poll_id = 0;
  g_action_group_activate_action (G_ACTION_GROUP (fx->app), "quit", NULL);

  return G_SOURCE_REMOVE;
}

static gboolean
give_up (gpointer user_data)
{
  Fixture *fx = user_data;

  g_error ("the window did not draw within %d s (mapped: %d, paints: %u)",
           GIVE_UP_SECONDS,
           fx->window != NULL && gtk_widget_get_mapped (GTK_WIDGET (fx->window)),
           fx->n_paints);

  return G_SOURCE_REMOVE;
}

static void
on_activate (GApplication *app,
             Fixture      *fx)
{
  /* Runs after GradlensApplication's own activate, which presented the window. */
  fx->window = gtk_application_get_active_window (GTK_APPLICATION (app));
  g_assert_nonnull (fx->window);
  g_object_add_weak_pointer (G_OBJECT (fx->window), (gpointer *) &fx->window);
  fx->poll_id = g_timeout_add (20, poll_window, fx);
}

static void
test_window_shell (void)
{
  Fixture fx = { 0 };
  guint give_up_id;
  int status;

  fx.app = gradlens_application_new ();
  g_assert_cmpstr (g_application_get_application_id (G_APPLICATION (fx.app)), ==,
                   "io.github.gradlens.GradLens");

  /* Tests may run side by side on one session bus: never hand over to a peer. */
  g_application_set_flags (G_APPLICATION (fx.app), G_APPLICATION_NON_UNIQUE);
  g_signal_connect_after (fx.app, "activate", G_CALLBACK (on_activate), &fx);
  give_up_id = g_timeout_add_seconds (GIVE_UP_SECONDS, give_up, &fx);

  status = g_application_run (G_APPLICATION (fx.app), 0, NULL);

  g_source_remove (give_up_id);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (fx.checked);
  /* app.quit destroyed the window. */
  g_assert_null (fx.window);
  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (fx.app)));

  g_clear_object (&fx.app);
}

int
main (int   argc,
      char *argv[])
{
  /* Settings go to a fresh folder: never the user's, and the defaults apply. */
  g_autofree char *home = app_home_new ("gradlens-test-window");
  int status;

  gtk_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ui/window/shell", test_window_shell);

  status = g_test_run ();
  app_home_remove (home);
  return status;
}
