/* theme.c: colours from the GTK theme, and light/dark following the system */

#include "theme.h"

#define PORTAL_NAME "org.freedesktop.portal.Desktop"
#define PORTAL_PATH "/org/freedesktop/portal/desktop"
#define PORTAL_SETTINGS "org.freedesktop.portal.Settings"
#define APPEARANCE "org.freedesktop.appearance"

static GdkRGBA
widget_fg (GtkWidget *widget)
{
  GdkRGBA fg = { 0, 0, 0, 1 };

  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  return fg;
}

gboolean
theme_is_dark (GtkWidget *widget)
{
  GdkRGBA fg;

  g_return_val_if_fail (GTK_IS_WIDGET (widget), FALSE);

  /* Light text means a dark background, whatever the theme is called. */
  fg = widget_fg (widget);
  return 0.2126 * fg.red + 0.7152 * fg.green + 0.0722 * fg.blue > 0.5;
}

void
theme_plot_colors (GtkWidget  *widget,
                   PlotColors *colors)
{
  GdkRGBA fg;

  g_return_if_fail (GTK_IS_WIDGET (widget));
  g_return_if_fail (colors != NULL);

  plot_colors_init_default (colors, theme_is_dark (widget));
  fg = widget_fg (widget);
  colors->fg = (PlotColor) { fg.red, fg.green, fg.blue, fg.alpha };
  colors->bg = (PlotColor) { 0, 0, 0, 0 };   /* the widget's CSS background shows */
}

void
theme_phase_color (const char *phase,
                   GdkRGBA    *rgba)
{
  /* GNOME's palette, as resources/style.css spells them: blue 3, orange 4,
   * green 4, purple 3, red 3. */
  static const struct { const char *phase; const char *color; } colors[] = {
    { "forward", "#3584e4" },
    { "backward", "#e66100" },
    { "optimizer", "#2ec27e" },
    { "zero-grad", "#9141ac" },
    { "error", "#e01b24" },
  };

  g_return_if_fail (rgba != NULL);

  for (guint i = 0; i < G_N_ELEMENTS (colors); i++)
    if (g_strcmp0 (phase, colors[i].phase) == 0)
      {
        gdk_rgba_parse (rgba, colors[i].color);
        return;
      }
  gdk_rgba_parse (rgba, "#77767b");   /* idle, done: dark 1's grey */
}

/* color-scheme: 0 no preference, 1 prefer dark, 2 prefer light. */
static void
apply_color_scheme (GVariant *value)
{
  GtkSettings *settings = gtk_settings_get_default ();
  g_autoptr (GVariant) inner = value != NULL ? g_variant_ref (value) : NULL;
  guint32 scheme;

  /* Read() wraps it twice: v(v(u)). */
  while (inner != NULL && g_variant_is_of_type (inner, G_VARIANT_TYPE_VARIANT))
    {
      GVariant *next = g_variant_get_variant (inner);
      g_variant_unref (inner);
      inner = next;
    }
  if (inner == NULL || !g_variant_is_of_type (inner, G_VARIANT_TYPE_UINT32) || settings == NULL)
    return;

  scheme = g_variant_get_uint32 (inner);
  g_object_set (settings, "gtk-application-prefer-dark-theme", scheme == 1, NULL);
}

static void
on_setting_changed (GDBusProxy *proxy,
                    const char *sender_name,
                    const char *signal_name,
                    GVariant   *parameters,
                    gpointer    user_data)
{
  const char *ns, *key;
  g_autoptr (GVariant) value = NULL;

  if (g_strcmp0 (signal_name, "SettingChanged") != 0
      || !g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ssv)")))
    return;

  g_variant_get (parameters, "(&s&sv)", &ns, &key, &value);
  if (g_strcmp0 (ns, APPEARANCE) == 0 && g_strcmp0 (key, "color-scheme") == 0)
    apply_color_scheme (value);
}

static void
on_read (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) value = NULL;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, NULL);
  if (reply == NULL)
    return;   /* no portal, or no such setting: keep the theme's default */

  g_variant_get (reply, "(v)", &value);
  apply_color_scheme (value);
}

static void
on_proxy (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  GDBusProxy *proxy = g_dbus_proxy_new_for_bus_finish (result, NULL);

  if (proxy == NULL)
    return;

  /* The proxy lives as long as the process: it carries the change signal. */
  g_signal_connect (proxy, "g-signal", G_CALLBACK (on_setting_changed), NULL);
  g_dbus_proxy_call (proxy, "Read", g_variant_new ("(ss)", APPEARANCE, "color-scheme"),
                     G_DBUS_CALL_FLAGS_NONE, 2000, NULL, on_read, NULL);
}

void
theme_follow_color_scheme (void)
{
  static gboolean started;

  if (started)
    return;
  started = TRUE;

  /* GTK_THEME=Adwaita:dark and friends are the user's explicit choice. */
  if (g_getenv ("GTK_THEME") != NULL)
    return;

  g_dbus_proxy_new_for_bus (G_BUS_TYPE_SESSION,
                            G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES
                            | G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START_AT_CONSTRUCTION,
                            NULL, PORTAL_NAME, PORTAL_PATH, PORTAL_SETTINGS,
                            NULL, on_proxy, NULL);
}
