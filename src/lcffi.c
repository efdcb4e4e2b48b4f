/*
** lcffi.c: luaopen_cffi and the ffi.* functions.  Each one checks its
** arguments and calls the subsystem that owns the work.
*/
#include <string.h>

#include "cffi.h"

#define LCFFI_MAXPARAMS 32

/* The address of this constant is the registry key of the current state. */
static const char lcffi_statekey = 0;

CTState *cffi_state(lua_State *L) {
  CTState *S;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &lcffi_statekey);
  S = lua_isuserdata(L, -1) ? *(CTState **)lua_touserdata(L, -1) : NULL;
  lua_pop(L, 1);
  return S != NULL ? S : cffi_stategone(L);
}

CTState *cffi_stategone(lua_State *L) {
  luaL_error(L, "cffi state is gone");
  return NULL;
}

void cffi_pushtable(lua_State *L, CTState *S, int k) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, CFFI_KEY(S, k));
}

int cffi_argerror(lua_State *L, int narg, const char *fname, const char *msg) {
  if (fname == NULL)
    return luaL_argerror(L, narg, msg);
  return luaL_error(L, "bad argument #%d to '%s' (%s)", narg, fname, msg);
}

int cffi_typeerror(lua_State *L, int narg, const char *fname, const char *tname) {
  const char *msg = lua_pushfstring(L, "%s expected, got %s", tname,
                                    luaL_typename(L, narg));
  return cffi_argerror(L, narg, fname, msg);
}

/* ---- ffi.cdef / ffi.typeof ---------------------------------------------- */

static int lcffi_cdef(lua_State *L) {
  CTState *S = cffi_upstate(L);
  size_t len;
  const char *src = luaL_checklstring(L, 1, &len);
  CPParam params[LCFFI_MAXPARAMS];
  CPError err;
  int n = ctypeobj_params(L, S, 2, lua_gettop(L), params, LCFFI_MAXPARAMS);
  if (cparse_cdef(S, src, len, params, n, &err) != 0)
    return luaL_error(L, "cdef:%d: %s", err.line, err.msg);
  return 0;
}

static int lcffi_typeof(lua_State *L) {
  return ctypeobj_ffi_typeof(L, cffi_upstate(L));
}

/* ---- thin wrappers ------------------------------------------------------ */

#define LCFFI_WRAP(name, fn) \
  static int lcffi_##name(lua_State *L) { return fn(L, cffi_upstate(L)); }

LCFFI_WRAP(new, cdata_ffi_new)
LCFFI_WRAP(cast, cdata_ffi_cast)
LCFFI_WRAP(metatype, ctypeobj_ffi_metatype)
LCFFI_WRAP(gc, cdata_ffi_gc)
LCFFI_WRAP(sizeof, ctypeobj_ffi_sizeof)
LCFFI_WRAP(alignof, ctypeobj_ffi_alignof)
LCFFI_WRAP(offsetof, ctypeobj_ffi_offsetof)
LCFFI_WRAP(istype, ctypeobj_ffi_istype)
LCFFI_WRAP(string, cdata_ffi_string)
LCFFI_WRAP(copy, cdata_ffi_copy)
LCFFI_WRAP(fill, cdata_ffi_fill)
LCFFI_WRAP(tonumber, cdata_ffi_tonumber)
LCFFI_WRAP(load, clib_ffi_load)
LCFFI_WRAP(dlclose, clib_ffi_dlclose)
LCFFI_WRAP(addressof, clib_ffi_addressof)
LCFFI_WRAP(errno, ccall_ffi_errno)
LCFFI_WRAP(slowpath, ccall_ffi_slowpath)

/* ffi.isnull(v): true for nil and for a NULL pointer cdata.  Lua 5.4 never
** lets `p == nil` reach __eq, so this is the portable test. */
static int lcffi_isnull(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CData *cd;
  if (lua_isnoneornil(L, 1)) { lua_pushboolean(L, 1); return 1; }
  if (lua_islightuserdata(L, 1)) {
    lua_pushboolean(L, lua_touserdata(L, 1) == NULL);
    return 1;
  }
  cd = cdata_test(L, S, 1);
  if (cd && ctype_get(S, cd->id)->kind == CT_PTR)
    lua_pushboolean(L, *(void **)cdata_ptr(cd) == NULL);
  else
    lua_pushboolean(L, 0);
  return 1;
}

/* ffi.abi(param): facts about the ABI this module was built for; false for
** a parameter it does not know, as LuaJIT answers. */
static int lcffi_abi(lua_State *L) {
  static const char *const yes[] = {
#if UINTPTR_MAX == 0xffffffffffffffffu
    "64bit",
#else
    "32bit",
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    "be",
#else
    "le",
#endif
#if defined(__SOFTFP__)
    "softfp",
#else
    "fpu", "hardfp",
#endif
    NULL
  };
  const char *p = luaL_checkstring(L, 1);
  int i, r = 0;
  for (i = 0; yes[i] != NULL; i++)
    if (strcmp(p, yes[i]) == 0) r = 1;
  lua_pushboolean(L, r);
  return 1;
}

static const char *lcffi_arch(void) {
#if defined(__x86_64__)
  return "x64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__i386__)
  return "x86";
#elif defined(__arm__)
  return "arm";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#elif defined(__powerpc64__)
  return "ppc64";
#else
  return "unknown";
#endif
}

static const char *lcffi_os(void) {
#if defined(__linux__)
  return "Linux";
#elif defined(__APPLE__)
  return "OSX";
#elif defined(_WIN32)
  return "Windows";
#elif defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
  return "BSD";
#else
  return "Other";
#endif
}

/* ---- the state ---------------------------------------------------------- */

/* Only the state userdata itself (the registry's): through
** debug.getmetatable this function can be called with any value. */
static int lcffi_state_gc(lua_State *L) {
  CTState **pp;
  CTState *S;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &lcffi_statekey);
  if (lua_type(L, 1) != LUA_TUSERDATA || !lua_rawequal(L, 1, -1))
    return 0;
  pp = (CTState **)lua_touserdata(L, 1);
  S = *pp;
  if (S != NULL) {
    *pp = NULL;
    ccallback_freestate(S);
    ccall_freestate(S);
    clib_freestate(S);
    ctype_freestate(S);
  }
  return 0;
}

/* Make the state userdata and every registry table of the CFFI_T_ enum. */
static CTState *lcffi_newstate(lua_State *L) {
  CTState **pp = (CTState **)lua_newuserdatauv(L, sizeof(CTState *), 0);
  CTState *S;
  int k;
  *pp = NULL;
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, lcffi_state_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  S = ctype_newstate();
  if (S == NULL) luaL_error(L, "not enough memory");
  *pp = S;
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, CFFI_KEY(S, CFFI_T_STATE));
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &lcffi_statekey);
  for (k = CFFI_T_STATE + 1; k < CFFI_T__N; k++) {
    lua_newtable(L);
    if (k == CFFI_T_FUNCS || k == CFFI_T_FINALIZERS) {
      lua_createtable(L, 0, 1);
      lua_pushliteral(L, "k");
      lua_setfield(L, -2, "__mode");
      lua_setmetatable(L, -2);
    }
    lua_rawsetp(L, LUA_REGISTRYINDEX, CFFI_KEY(S, k));
  }
  return S;
}

static const luaL_Reg lcffi_funcs[] = {
  {"cdef", lcffi_cdef}, {"typeof", lcffi_typeof}, {"new", lcffi_new},
  {"cast", lcffi_cast}, {"metatype", lcffi_metatype}, {"gc", lcffi_gc},
  {"sizeof", lcffi_sizeof}, {"alignof", lcffi_alignof},
  {"offsetof", lcffi_offsetof}, {"istype", lcffi_istype},
  {"string", lcffi_string}, {"copy", lcffi_copy}, {"fill", lcffi_fill},
  {"tonumber", lcffi_tonumber}, {"load", lcffi_load},
  {"dlclose", lcffi_dlclose}, {"addressof", lcffi_addressof},
  {"errno", lcffi_errno}, {"isnull", lcffi_isnull}, {"abi", lcffi_abi},
  {"_slowpath", lcffi_slowpath},
  {NULL, NULL}
};

CFFI_EXPORT int luaopen_cffi(lua_State *L) {
  CTState *S = NULL;
  int st;
  /* A second require in the same Lua state (package.loaded cleared) shares
  ** the existing state, so its declarations and cdata stay valid. */
  lua_rawgetp(L, LUA_REGISTRYINDEX, &lcffi_statekey);
  if (lua_isuserdata(L, -1) && *(CTState **)lua_touserdata(L, -1) != NULL) {
    S = *(CTState **)lua_touserdata(L, -1);
    st = lua_gettop(L);
  } else {
    lua_pop(L, 1);
    S = lcffi_newstate(L);
    st = lua_gettop(L);
    cdata_open(L, S, st);
    ctypeobj_open(L, S, st);
    clib_open(L, S);
  }
  lua_createtable(L, 0, sizeof(lcffi_funcs) / sizeof(lcffi_funcs[0]) + 16);
  lua_pushvalue(L, st);
  luaL_setfuncs(L, lcffi_funcs, 1);
  lua_pushstring(L, lcffi_os());
  lua_setfield(L, -2, "os");
  lua_pushstring(L, lcffi_arch());
  lua_setfield(L, -2, "arch");
  cdata_pushptr(L, S, CTID_VOIDP, NULL);
  lua_setfield(L, -2, "nullptr");
  clib_pushC(L, S);
  lua_setfield(L, -2, "C");
  clib_pushflags(L);
  return 1;
}
