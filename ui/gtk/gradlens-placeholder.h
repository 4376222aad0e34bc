/* gradlens-placeholder.h: an empty pane's stand-in
 *
 * A large dim icon, a title and a line of explanation, centred: what a pane
 * shows before it has anything real to show (GTK 4.8 has no AdwStatusPage).
 *
 *   <object class="GradlensPlaceholder">
 *     <property name="icon-name">system-search-symbolic</property>
 *     <property name="title">Nothing Selected</property>
 *     <property name="description">Select a node to inspect it.</property>
 *   </object>
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define GRADLENS_TYPE_PLACEHOLDER (gradlens_placeholder_get_type ())

G_DECLARE_FINAL_TYPE (GradlensPlaceholder, gradlens_placeholder, GRADLENS, PLACEHOLDER, GtkWidget)

GtkWidget  *gradlens_placeholder_new             (void);
const char *gradlens_placeholder_get_icon_name   (GradlensPlaceholder *self);
void        gradlens_placeholder_set_icon_name   (GradlensPlaceholder *self,
                                                  const char          *icon_name);
const char *gradlens_placeholder_get_title       (GradlensPlaceholder *self);
void        gradlens_placeholder_set_title       (GradlensPlaceholder *self,
                                                  const char          *title);
const char *gradlens_placeholder_get_description (GradlensPlaceholder *self);
void        gradlens_placeholder_set_description (GradlensPlaceholder *self,
                                                  const char          *description);
gboolean    gradlens_placeholder_get_compact     (GradlensPlaceholder *self);
void        gradlens_placeholder_set_compact     (GradlensPlaceholder *self,
                                                  gboolean             compact);

G_END_DECLS
