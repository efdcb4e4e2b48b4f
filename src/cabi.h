/*
** cabi.h: the libffi side of cabi.c (private to ccall.c and cabi.c, which
** include libffi's ffi.h; cffi.h stays free of it).
*/
#ifndef CABI_H
#define CABI_H

#include <ffi.h>

#include "cffi.h"

#pragma GCC visibility push(hidden)

/* The libffi type of a value of type id; NULL when it cannot be passed by
** value.  calls: stack index of the CFFI_T_CALLS table, where record types
** are cached (at key -id) and anchored (0: id is never a record). */
ffi_type *cabi_ffitype(lua_State *L, CTState *S, CTypeID id, int calls);
/* The same for a struct, union or complex (cached); raises "cannot pass or
** return 'T' by value (nested too deeply)".  Leaves the stack as it was. */
ffi_type *cabi_aggtype(lua_State *L, CTState *S, CTypeID id, int calls);

#pragma GCC visibility pop

#endif
