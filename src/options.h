/* options.h - option checks shared by the engine. */
#ifndef WARP_OPTIONS_H
#define WARP_OPTIONS_H

#include "warp.h"

/* WARP_OK if every field of `o` is in its documented range, else
 * WARP_EINVAL. */
int warp_options_check(const warp_options *o);

#endif
