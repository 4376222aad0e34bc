/* settings-popover.h: the lesson settings, edited in a popover
 *
 * Input size (64 × 64 or 224 × 224), seed, learning rate, momentum, the
 * number of training steps and whether the resnet lessons call
 * optim.zero_grad() — the arguments of the lesson's program. "Apply" emits ::apply; the window saves the settings and
 * restarts the lesson with them, since they change what the program does
 * from its first line.
 */
#pragma once

#include <gtk/gtk.h>

#include "settings.h"

G_BEGIN_DECLS

#define GRADLENS_TYPE_SETTINGS_POPOVER (gradlens_settings_popover_get_type ())

G_DECLARE_FINAL_TYPE (GradlensSettingsPopover, gradlens_settings_popover, GRADLENS,
                      SETTINGS_POPOVER, GtkPopover)

GtkWidget *gradlens_settings_popover_new  (void);
/* Shows s's values in the controls. */
void       gradlens_settings_popover_set  (GradlensSettingsPopover *self,
                                           const GradlensSettings  *s);
/* Copies the controls' values into s (other fields untouched). */
void       gradlens_settings_popover_get  (GradlensSettingsPopover *self,
                                           GradlensSettings        *s);

G_END_DECLS
