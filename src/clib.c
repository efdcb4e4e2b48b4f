/*
** clib.c: libraries and their namespaces.
**
** A library is a handle userdata (CLib) whose user value 1 caches the
** addresses of variables already looked up.  Its namespace is a plain Lua
** table holding the handle at a private light-userdata key, with a shared
** metatable: __index resolves a declared name once (functions and
** constants are then stored in the table with rawset, so the next lookup
** is a plain table hit: a per-call `lib.f(...)` costs what a Lua table
** field costs), variables stay behind __index/__newindex so every access
** reaches memory.  The price: assigning to a name already cached replaces
** it in that table (Lua never calls __newindex for an existing key).
*/
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cffi.h"

#define CLIB_PRIVKEY(S)  CFFI_KEY(S, CFFI_T_LIBS)
#define CLIB_MAXTRY      16    /* versioned candidates tried per load */

/* S->lib: a block owned by Lua (anchored in the CFFI_T_LIBS table). */
struct CLibState {
  const void *handlemt;  /* lua_topointer of the handle metatable */
  CLib *C;               /* ffi.C's handle (Lua memory) */
};

void clib_checkopen(lua_State *L, CLib *lib) {
  if (lib->handle == NULL) {
    if (lib->isC) luaL_error(L, "cffi state is gone");
    luaL_error(L, "library '%s' has been closed", lib->name);
  }
}

/* ffi.C's handle is Lua memory that outlives this call at lua_close while
** later finalizers run: closing it makes functions fetched from ffi.C raise
** instead of reaching the freed state. */
void clib_freestate(CTState *S) {
  if (S->lib != NULL && S->lib->C != NULL) S->lib->C->handle = NULL;
  S->lib = NULL;
}

/* ---- handles and namespaces --------------------------------------------- */

/* Upvalue 1: the handle metatable.  debug.getmetatable reaches this
** function, so its argument is checked to be a handle. */
static int clib_handle_gc(lua_State *L) {
  CLib *lib;
  int ok = lua_type(L, 1) == LUA_TUSERDATA && lua_getmetatable(L, 1) &&
           lua_rawequal(L, -1, lua_upvalueindex(1));
  if (!ok) return luaL_typeerror(L, 1, "library handle");
  lib = (CLib *)lua_touserdata(L, 1);
  if (lib->handle != NULL && !lib->isC) {
    dlclose(lib->handle);
    lib->handle = NULL;
  }
  return 0;
}

/* Push a new, not yet opened, handle userdata. */
static CLib *clib_newhandle(lua_State *L, CTState *S, const char *name, int isC) {
  size_t len = strlen(name);
  CLib *lib = (CLib *)lua_newuserdatauv(L, sizeof(CLib) + len, 1);
  lib->handle = NULL;
  lib->isC = isC;
  memcpy(lib->name, name, len + 1);
  lua_newtable(L);                       /* variable name -> address */
  lua_setiuservalue(L, -2, 1);
  cffi_pushtable(L, S, CFFI_T_LIBS);
  lua_getfield(L, -1, "handlemt");
  lua_setmetatable(L, -3);
  lua_pop(L, 1);
  return lib;
}

/* Replace the handle at the top by its namespace table. */
static void clib_newns(lua_State *L, CTState *S) {
  lua_createtable(L, 0, 8);
  lua_pushvalue(L, -2);
  lua_rawsetp(L, -2, CLIB_PRIVKEY(S));
  cffi_pushtable(L, S, CFFI_T_LIBS);
  lua_getfield(L, -1, "nsmt");
  lua_setmetatable(L, -3);
  lua_pop(L, 1);
  lua_remove(L, -2);
}

/* The library of the namespace at idx, its handle pushed; NULL (nothing
** pushed) when idx is not a namespace.  rawset can put anything at the
** private key: the handle's metatable is checked. */
static CLib *clib_test(lua_State *L, CTState *S, int idx) {
  int ok;
  if (lua_type(L, idx) != LUA_TTABLE) return NULL;
  ok = lua_rawgetp(L, idx, CLIB_PRIVKEY(S)) == LUA_TUSERDATA &&
       lua_getmetatable(L, -1);
  if (ok) {
    ok = lua_topointer(L, -1) == S->lib->handlemt;
    lua_pop(L, 1);
  }
  if (!ok) {
    lua_pop(L, 1);
    return NULL;
  }
  return (CLib *)lua_touserdata(L, -1);
}

static CLib *clib_check(lua_State *L, CTState *S, int idx) {
  CLib *lib = clib_test(L, S, idx);
  if (lib == NULL) luaL_typeerror(L, idx, "library");
  return lib;
}

/* ---- symbols ------------------------------------------------------------ */

static void *clib_sym(lua_State *L, CLib *lib, const char *sym, const char *name) {
  void *p;
  const char *err;
  dlerror();
  p = dlsym(lib->handle, sym);
  if (p != NULL) return p;
  err = dlerror();
  luaL_error(L, "symbol '%s' not found in library '%s': %s", name, lib->name,
             err ? err : "address is NULL");
  return NULL;
}

/* The address of a variable, cached in the handle's user value. */
static void *clib_varaddr(lua_State *L, CLib *lib, int h, const char *sym,
                          const char *name) {
  void *p;
  lua_getiuservalue(L, h, 1);
  lua_getfield(L, -1, name);
  p = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (p == NULL) {
    p = clib_sym(L, lib, sym, name);
    lua_pushlightuserdata(L, p);
    lua_setfield(L, -2, name);
  }
  lua_pop(L, 1);
  return p;
}

/* A copy of what a declared name says (a CName can move when names are
** added). */
typedef struct CLibName {
  uint32_t kind;
  CTypeID type;
  uint32_t quals;
  int64_t value;
  const char *sym;
} CLibName;

static int clib_lookup(CTState *S, const char *name, size_t len, CLibName *out) {
  const CName *n = ctype_lookup(S, name, len);
  if (n == NULL) return 0;
  if (n->kind != CN_FUNC && n->kind != CN_VAR && n->kind != CN_CONST) return 0;
  out->kind = n->kind;
  out->type = n->type;
  out->quals = n->quals;
  out->value = n->value;
  out->sym = n->sym ? n->sym : NULL;
  return 1;
}

static int clib_notdeclared(lua_State *L, int idx) {
  const char *s = luaL_tolstring(L, idx, NULL);
  return luaL_error(L, "'%s' is not declared", s);
}

/* ---- namespace metamethods ---------------------------------------------- */

/* Resolve key (stack index 2) in the namespace at 1 whose handle is at h:
** pushes the value (functions and constants are also stored in it). */
static void clib_resolve(lua_State *L, CTState *S, CLib *lib, int h) {
  size_t len;
  const char *name;
  CLibName n;
  if (lua_type(L, 2) != LUA_TSTRING) { clib_notdeclared(L, 2); return; }
  name = lua_tolstring(L, 2, &len);
  clib_checkopen(L, lib);
  if (!clib_lookup(S, name, len, &n)) { clib_notdeclared(L, 2); return; }
  switch (n.kind) {
    case CN_FUNC: {
      void *p = clib_sym(L, lib, n.sym ? n.sym : name, name);
      ccall_pushfunc(L, S, n.type, p, h, name);
      lua_pushvalue(L, 2);
      lua_pushvalue(L, -2);
      lua_rawset(L, 1);
      break;
    }
    case CN_CONST:
      lua_pushinteger(L, (lua_Integer)n.value);
      lua_pushvalue(L, 2);
      lua_pushvalue(L, -2);
      lua_rawset(L, 1);
      break;
    default: {  /* CN_VAR */
      void *p = clib_varaddr(L, lib, h, n.sym ? n.sym : name, name);
      const CType *ct = ctype_get(S, n.type);
      if (ctype_isagg(ct))
        cdata_newref(L, S, n.type, p, h, (n.quals & CTF_CONST) ? CDF_CONST : 0);
      else
        cconv_tolua(L, S, n.type, p, 0);
      break;
    }
  }
}

static int clib_index(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CLib *lib;
  lua_settop(L, 2);
  lib = clib_check(L, S, 1);
  clib_resolve(L, S, lib, 3);
  return 1;
}

static int clib_newindex(lua_State *L) {
  CTState *S = cffi_upstate(L);
  size_t len;
  const char *name;
  CLib *lib;
  CLibName n;
  lua_settop(L, 3);
  lib = clib_check(L, S, 1);
  if (lua_type(L, 2) != LUA_TSTRING) return clib_notdeclared(L, 2);
  name = lua_tolstring(L, 2, &len);
  clib_checkopen(L, lib);
  if (!clib_lookup(S, name, len, &n)) return clib_notdeclared(L, 2);
  if (n.kind != CN_VAR || (n.quals & CTF_CONST))
    return luaL_error(L, "attempt to write to constant location");
  {
    void *p = clib_varaddr(L, lib, 4, n.sym ? n.sym : name, name);
    int agg = ctype_isagg(ctype_get(S, n.type));
    cconv_tocdata(L, S, n.type, p, 3, agg ? CCF_INIT : 0);
  }
  return 0;
}

static int clib_tostring(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CLib *lib = clib_check(L, S, 1);
  lua_pushfstring(L, "library: %s%s", lib->name,
                  lib->handle == NULL ? " (closed)" : "");
  return 1;
}

/* Can the name at stack index k be resolved in lib (symbol present)? */
static int clib_present(lua_State *L, CTState *S, CLib *lib, int k) {
  size_t len;
  const char *name = lua_tolstring(L, k, &len);
  CLibName n;
  if (!clib_lookup(S, name, len, &n)) return 0;
  if (n.kind == CN_CONST) return 1;
  dlerror();
  return dlsym(lib->handle, n.sym ? n.sym : name) != NULL;
}

/* Iterator of __pairs: upvalue 2 the sorted names, upvalue 3 the position. */
static int clib_pairsnext(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CLib *lib;
  lua_Integer pos = lua_tointeger(L, lua_upvalueindex(3));
  lua_settop(L, 1);
  lib = clib_check(L, S, 1);          /* handle at 2 */
  clib_checkopen(L, lib);
  for (;;) {
    if (lua_rawgeti(L, lua_upvalueindex(2), pos++) != LUA_TSTRING) {
      lua_pushinteger(L, pos - 1);
      lua_replace(L, lua_upvalueindex(3));
      return 0;
    }
    if (clib_present(L, S, lib, 3)) break;
    lua_pop(L, 1);
  }
  lua_pushinteger(L, pos);
  lua_replace(L, lua_upvalueindex(3));
  lua_pushvalue(L, 3);
  lua_gettable(L, 1);                 /* through __index: resolves lazily */
  return 2;
}

static int clib_cmpname(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* pairs(lib): the declared functions, variables and constants the library
** can resolve, sorted by name. */
static int clib_pairs(lua_State *L) {
  CTState *S = cffi_upstate(L);
  uint32_t i, n = 0;
  const char **names;
  clib_check(L, S, 1);
  lua_pop(L, 1);
  names = (const char **)lua_newuserdatauv(L,
      (S->nnames ? S->nnames : 1) * sizeof(const char *), 0);
  for (i = 1; i < S->nnames; i++) {
    const CName *cn = &S->names[i];
    if (cn->name != NULL &&
        (cn->kind == CN_FUNC || cn->kind == CN_VAR || cn->kind == CN_CONST))
      names[n++] = cn->name;
  }
  qsort(names, n, sizeof(const char *), clib_cmpname);
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, names[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_remove(L, -2);
  cffi_pushtable(L, S, CFFI_T_STATE);
  lua_insert(L, -2);
  lua_pushinteger(L, 1);
  lua_pushcclosure(L, clib_pairsnext, 3);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

int clib_open(lua_State *L, CTState *S) {
  static const luaL_Reg nsmeta[] = {
    {"__index", clib_index}, {"__newindex", clib_newindex},
    {"__pairs", clib_pairs}, {"__tostring", clib_tostring}, {NULL, NULL}
  };
  cffi_pushtable(L, S, CFFI_T_LIBS);
  S->lib = (struct CLibState *)lua_newuserdatauv(L, sizeof(struct CLibState), 0);
  S->lib->C = NULL;
  lua_setfield(L, -2, "state");
  lua_createtable(L, 0, 2);
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, clib_handle_gc, 1);
  lua_setfield(L, -2, "__gc");
  lua_pushliteral(L, "library handle");   /* getmetatable(h) gives no __gc */
  lua_setfield(L, -2, "__metatable");
  S->lib->handlemt = lua_topointer(L, -1);
  lua_setfield(L, -2, "handlemt");
  lua_createtable(L, 0, 6);
  cffi_pushtable(L, S, CFFI_T_STATE);
  luaL_setfuncs(L, nsmeta, 1);
  lua_pushliteral(L, "library");
  lua_setfield(L, -2, "__metatable");
  lua_setfield(L, -2, "nsmt");
  lua_pop(L, 1);
  return 0;
}

void clib_pushC(lua_State *L, CTState *S) {
  CLib *lib;
  cffi_pushtable(L, S, CFFI_T_LIBS);
  if (lua_getfield(L, -1, "C") == LUA_TTABLE) {
    lua_remove(L, -2);
    return;
  }
  lua_pop(L, 1);
  lib = clib_newhandle(L, S, "C", 1);
  lib->handle = dlopen(NULL, RTLD_LAZY);
  S->lib->C = lib;
  if (lib->handle == NULL) {
    const char *e = dlerror();
    luaL_error(L, "cannot open the C namespace: %s", e ? e : "?");
  }
  clib_newns(L, S);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "C");
  lua_remove(L, -2);
}

void clib_pushflags(lua_State *L) {
#define CLIB_FLAG(f) lua_pushinteger(L, f); lua_setfield(L, -2, #f);
  CLIB_FLAG(RTLD_LAZY)
  CLIB_FLAG(RTLD_NOW)
  CLIB_FLAG(RTLD_GLOBAL)
  CLIB_FLAG(RTLD_LOCAL)
#ifdef RTLD_NODELETE
  CLIB_FLAG(RTLD_NODELETE)
#endif
#ifdef RTLD_NOLOAD
  CLIB_FLAG(RTLD_NOLOAD)
#endif
#ifdef RTLD_DEEPBIND
  CLIB_FLAG(RTLD_DEEPBIND)
#endif
#undef CLIB_FLAG
}

/* ---- ffi.dlclose / ffi.addressof ---------------------------------------- */

int clib_ffi_dlclose(lua_State *L, CTState *S) {
  CLib *lib = clib_check(L, S, 1);
  int h = lua_gettop(L);
  void *handle;
  if (lib->isC) return luaL_error(L, "ffi.C cannot be closed");
  clib_checkopen(L, lib);
  handle = lib->handle;
  lib->handle = NULL;
  lua_newtable(L);
  lua_setiuservalue(L, h, 1);
  /* drop what the namespace cached; keep the private key */
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TLIGHTUSERDATA) {
      lua_pushvalue(L, -1);
      lua_pushnil(L);
      lua_rawset(L, 1);
    }
  }
  if (dlclose(handle) != 0) {
    const char *e = dlerror();
    return luaL_error(L, "cannot close library '%s': %s", lib->name, e ? e : "?");
  }
  return 0;
}

int clib_ffi_addressof(lua_State *L, CTState *S) {
  size_t len;
  const char *name = luaL_checklstring(L, 2, &len);
  CLib *lib = clib_check(L, S, 1);
  int h = lua_gettop(L);
  CLibName n;
  CTypeID pid;
  void *p;
  clib_checkopen(L, lib);
  if (!clib_lookup(S, name, len, &n)) return clib_notdeclared(L, 2);
  if (n.kind == CN_CONST)
    return luaL_error(L, "cannot take the address of constant '%s'", name);
  if (n.kind == CN_FUNC) {
    p = clib_sym(L, lib, n.sym ? n.sym : name, name);
    pid = ctype_ptr(S, n.type, 0);
  } else {
    p = clib_varaddr(L, lib, h, n.sym ? n.sym : name, name);
    pid = ctype_ptr(S, n.type, n.quals & CTF_QUALS);
  }
  if (pid == 0) return luaL_error(L, "not enough memory");
  cdata_pushptr(L, S, pid, p);
  return 1;
}

/* ---- ffi.load ----------------------------------------------------------- */

static int clib_mode(lua_State *L, int idx) {
  switch (lua_type(L, idx)) {
    case LUA_TNONE: case LUA_TNIL: return RTLD_LAZY;
    case LUA_TBOOLEAN:
      return RTLD_LAZY | (lua_toboolean(L, idx) ? RTLD_GLOBAL : RTLD_LOCAL);
    case LUA_TNUMBER: {
      int f = (int)luaL_checkinteger(L, idx);
      if ((f & (RTLD_LAZY | RTLD_NOW)) == 0) f |= RTLD_NOW;
      return f;
    }
    default:
      return luaL_typeerror(L, idx, "boolean or number");
  }
}

/* State of one ffi.load: the paths tried and the most useful error. */
typedef struct CLibLoad {
  lua_State *L;
  int tried;           /* stack index of a table of the paths tried */
  int err;             /* stack index of the chosen dlerror text (or nil) */
  int mode;
} CLibLoad;

static int clib_notfound(const char *e) {
  return e == NULL || strstr(e, "No such file") != NULL;
}

static void *clib_try(CLibLoad *ld, const char *path) {
  lua_State *L = ld->L;
  void *h;
  lua_pushstring(L, path);
  lua_rawseti(L, ld->tried, (lua_Integer)lua_rawlen(L, ld->tried) + 1);
  h = dlopen(path, ld->mode);
  if (h == NULL) {
    const char *e = dlerror();
    /* keep the first error, unless a later one says more than "not found" */
    if (lua_isnil(L, ld->err) ||
        (clib_notfound(lua_tostring(L, ld->err)) && !clib_notfound(e))) {
      lua_pushstring(L, e ? e : "unknown dlopen error");
      lua_replace(L, ld->err);
    }
  }
  return h;
}

/* Directories searched for a library file, in order, as a Lua array. */
static void clib_pushdirs(lua_State *L) {
  static const char *const std[] = {
#if defined(__x86_64__)
    "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
#elif defined(__aarch64__)
    "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
#endif
    "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib", NULL
  };
  const char *env = getenv("LD_LIBRARY_PATH");
  int n = 0, i;
  lua_newtable(L);
  while (env != NULL && *env) {
    const char *e = strchr(env, ':');
    size_t len = e ? (size_t)(e - env) : strlen(env);
    if (len > 0) {
      lua_pushlstring(L, env, len);
      lua_rawseti(L, -2, ++n);
    }
    env = e ? e + 1 : NULL;
  }
  for (i = 0; std[i] != NULL; i++) {
    lua_pushstring(L, std[i]);
    lua_rawseti(L, -2, ++n);
  }
  /* what ldconfig is told about (one absolute directory per line) */
  {
    DIR *dir = opendir("/etc/ld.so.conf.d");
    struct dirent *de;
    while (dir != NULL && (de = readdir(dir)) != NULL) {
      char path[512], line[512];
      FILE *f;
      size_t dl = strlen(de->d_name);
      if (dl < 5 || strcmp(de->d_name + dl - 5, ".conf") != 0) continue;
      snprintf(path, sizeof path, "/etc/ld.so.conf.d/%s", de->d_name);
      f = fopen(path, "r");
      if (f == NULL) continue;
      while (fgets(line, sizeof line, f) != NULL) {
        size_t ll = strcspn(line, " \t\r\n#");
        if (line[0] != '/' || ll == 0) continue;
        lua_pushlstring(L, line, ll);
        lua_rawseti(L, -2, ++n);
      }
      fclose(f);
    }
    if (dir != NULL) closedir(dir);
  }
}

/* Push the full path of file `fname` in the search directories, or return
** 0 (nothing pushed). */
static int clib_findfile(lua_State *L, const char *fname) {
  int dirs, i, n;
  clib_pushdirs(L);
  dirs = lua_gettop(L);
  n = (int)lua_rawlen(L, dirs);
  for (i = 1; i <= n; i++) {
    FILE *f;
    lua_rawgeti(L, dirs, i);
    lua_pushfstring(L, "%s/%s", lua_tostring(L, -1), fname);
    lua_remove(L, -2);
    f = fopen(lua_tostring(L, -1), "rb");
    if (f != NULL) {
      fclose(f);
      lua_remove(L, dirs);
      return 1;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return 0;
}

/* A GNU ld script (libc.so, libm.so on glibc): push the first shared
** object named in its GROUP or INPUT command, or return 0. */
static int clib_ldscript(lua_State *L, const char *path) {
  char buf[4096];
  size_t n;
  const char *p;
  FILE *f = fopen(path, "rb");
  if (f == NULL) return 0;
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  if (memchr(buf, '\0', n) != NULL) return 0;   /* binary, not a script */
  p = strstr(buf, "GROUP");
  if (p == NULL) p = strstr(buf, "INPUT");
  if (p == NULL || (p = strchr(p, '(')) == NULL) return 0;
  for (p++; *p && *p != ')';) {
    size_t len;
    p += strspn(p, " \t\r\n,(");
    len = strcspn(p, " \t\r\n,()");
    if (len == 0) { if (*p == ')') break; p++; continue; }
    if (len < 512) {
      char tok[512];
      memcpy(tok, p, len);
      tok[len] = '\0';
      if (strstr(tok, ".so") != NULL) {
        lua_pushstring(L, tok);
        return 1;
      }
    }
    p += len;
  }
  return 0;
}

/* dlopen failed on a file that is not ELF: follow it if it is an ld script. */
static void *clib_tryscript(CLibLoad *ld, const char *cand) {
  lua_State *L = ld->L;
  const char *e = lua_tostring(L, ld->err);
  void *h = NULL;
  if (e == NULL || (strstr(e, "invalid ELF header") == NULL &&
                    strstr(e, "file too short") == NULL))
    return NULL;
  if (strchr(cand, '/') != NULL) lua_pushstring(L, cand);
  else if (!clib_findfile(L, cand)) return NULL;
  if (clib_ldscript(L, lua_tostring(L, -1))) {
    h = clib_try(ld, lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return h;
}

/* Sort key of a versioned file name "lib<x>.so.<v>": fewer version parts
** first (the soname), then higher versions. */
static int clib_vercmp(const char *a, const char *b) {
  int da = 0, db = 0;
  const char *p;
  for (p = a; *p; p++) da += *p == '.';
  for (p = b; *p; p++) db += *p == '.';
  if (da != db) return da < db ? -1 : 1;
  while (*a && *b) {
    if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
      unsigned long x = strtoul(a, (char **)&a, 10);
      unsigned long y = strtoul(b, (char **)&b, 10);
      if (x != y) return x > y ? -1 : 1;
    } else {
      if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
      a++; b++;
    }
  }
  return (*a != 0) - (*b != 0);
}

/* Push an array of full paths "DIR/<base>.<digits and dots>", best first. */
static void clib_versioned(lua_State *L, const char *base) {
  size_t blen = strlen(base);
  int dirs, i, nd, n = 0;
  clib_pushdirs(L);
  dirs = lua_gettop(L);
  lua_newtable(L);
  nd = (int)lua_rawlen(L, dirs);
  for (i = 1; i <= nd && n < CLIB_MAXTRY; i++) {
    const char *dname;
    DIR *dir;
    struct dirent *de;
    lua_rawgeti(L, dirs, i);
    dname = lua_tostring(L, -1);
    dir = opendir(dname);
    while (dir != NULL && (de = readdir(dir)) != NULL && n < CLIB_MAXTRY) {
      const char *v = de->d_name + blen;
      if (strncmp(de->d_name, base, blen) != 0 || v[0] != '.' ||
          v[1] < '0' || v[1] > '9' || v[strspn(v, "0123456789.")] != '\0')
        continue;
      lua_pushfstring(L, "%s/%s", dname, de->d_name);
      lua_rawseti(L, -3, ++n);
    }
    if (dir != NULL) closedir(dir);
    lua_pop(L, 1);
  }
  /* insertion sort by file name (n is small) */
  for (i = 2; i <= n; i++) {
    int j = i;
    while (j > 1) {
      const char *a, *b;
      lua_rawgeti(L, -1, j);
      lua_rawgeti(L, -2, j - 1);
      a = strrchr(lua_tostring(L, -2), '/') + 1;
      b = strrchr(lua_tostring(L, -1), '/') + 1;
      if (clib_vercmp(a, b) >= 0) { lua_pop(L, 2); break; }
      lua_rawseti(L, -3, j);
      lua_rawseti(L, -2, j - 1);
      j--;
    }
  }
  lua_remove(L, dirs);
}

static void *clib_dlopen(CLibLoad *ld, const char *name) {
  lua_State *L = ld->L;
  void *h;
  const char *cand;
  int i, n;
  if (strchr(name, '/') != NULL) {
    if ((h = clib_try(ld, name)) != NULL) return h;
    return clib_tryscript(ld, name);
  }
  if (strstr(name, ".so") != NULL) {
    if ((h = clib_try(ld, name)) != NULL) return h;
    if ((h = clib_tryscript(ld, name)) != NULL) return h;
  }
  /* lib<name>.so, the development link (or an ld script) */
  if (strncmp(name, "lib", 3) == 0) lua_pushfstring(L, "%s", name);
  else lua_pushfstring(L, "lib%s", name);
  if (strstr(name, ".so") == NULL) {
    lua_pushfstring(L, "%s.so", lua_tostring(L, -1));
    cand = lua_tostring(L, -1);
    if ((h = clib_try(ld, cand)) == NULL) h = clib_tryscript(ld, cand);
    lua_pop(L, 1);
    if (h != NULL) { lua_pop(L, 1); return h; }
    /* versioned names: lib<name>.so.N */
    lua_pushfstring(L, "%s.so", lua_tostring(L, -1));
    clib_versioned(L, lua_tostring(L, -1));
    n = (int)lua_rawlen(L, -1);
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      h = clib_try(ld, lua_tostring(L, -1));
      lua_pop(L, 1);
      if (h != NULL) break;
    }
    lua_pop(L, 2);
  } else if (strcmp(lua_tostring(L, -1), name) != 0) {
    h = clib_try(ld, lua_tostring(L, -1));
  } else {
    h = NULL;
  }
  lua_pop(L, 1);
  return h;
}

int clib_ffi_load(lua_State *L, CTState *S) {
  const char *name = luaL_checkstring(L, 1);
  CLibLoad ld;
  CLib *lib;
  void *h;
  ld.L = L;
  ld.mode = clib_mode(L, 2);
  lua_settop(L, 2);
  lib = clib_newhandle(L, S, name, 0);   /* 3 */
  lua_newtable(L);                        /* 4: paths tried */
  lua_pushnil(L);                         /* 5: error text */
  ld.tried = 4;
  ld.err = 5;
  h = clib_dlopen(&ld, name);
  if (h == NULL) {
    luaL_Buffer b;
    int i, n = (int)lua_rawlen(L, 4);
    lua_settop(L, 5);
    luaL_buffinit(L, &b);
    lua_pushfstring(L, "cannot load library '%s' (tried ", name);
    luaL_addvalue(&b);
    for (i = 1; i <= n; i++) {
      if (i > 1) luaL_addstring(&b, ", ");
      lua_rawgeti(L, 4, i);
      luaL_addvalue(&b);
    }
    luaL_addstring(&b, "): ");
    lua_pushstring(L, lua_isstring(L, 5) ? lua_tostring(L, 5) : "not found");
    luaL_addvalue(&b);
    luaL_pushresult(&b);
    return lua_error(L);
  }
  lib->handle = h;
  lua_settop(L, 3);
  clib_newns(L, S);
  return 1;
}
