// Built as libcorridor.so: the dojo command loads it with --plugin (or $DOJO_PLUGINS) and calls this.
#include <dojo/core/plugin.h>

#include "corridor.h"

DOJO_PLUGIN_INIT { corridor::register_corridor(); }
