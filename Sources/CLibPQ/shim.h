#ifndef PRESCORE_CLIBPQ_SHIM_H
#define PRESCORE_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
