/* gradlens-application-private.h: shared between the application's files */
#pragma once

#include "gradlens-application.h"

G_BEGIN_DECLS

void _gradlens_application_actions_init (GradlensApplication *self);

G_END_DECLS
