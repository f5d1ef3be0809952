#ifndef PRESCORE_CHIREDIS_SHIM_H
#define PRESCORE_CHIREDIS_SHIM_H
/* hiredis 0.14 (Debian 12). Its variadic redisCommand is unavailable in Swift: use the ...Argv calls. */
#include <hiredis/hiredis.h>
#endif
