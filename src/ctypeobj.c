/*
** ctypeobj.c: ctype objects (what ffi.typeof returns) and type arguments
** (the "ct" of ffi.new, ffi.cast, ffi.sizeof...: a type string, a ctype
** object, a cdata or a library function), with the caches that make a
** type string cheap to name again; and the ffi.* functions that are
** about types only.  Creating cdata is cdata.c's.
*/
#include <string.h>

#include "cffi.h"

#define CTYPEOBJ_MAXPARAMS  32

/* What S->ctref holds: registry references with integer keys, so a hot
** path reaches a table with one lua_rawgeti instead of a light-userdata
** hash lookup (cffi_pushtable).  The CFFI_T_ tables stay where they are;
** these are second references to the same objects. */
enum {
  CTYPEOBJ_R_TCACHE, CTYPEOBJ_R_CTYPES,
  CTYPEOBJ_R_TCANCHOR,   /* table: slot k+1 anchors the string of front entry k */
  CTYPEOBJ_R_TCFRONT,    /* userdata: the front cache entries (S->tcfront) */
  CTYPEOBJ_R_CTSET,      /* userdata: the ctype-object set (S->ctset) */
  CTYPEOBJ_R__N
};
typedef char ctypeobj_ref_check[(CTYPEOBJ_R__N <= sizeof(((CTState *)0)->ctref) /
                                 sizeof(int)) ? 1 : -1];

#define ctypeobj_pushref(L, S, r)  lua_rawgeti((L), LUA_REGISTRYINDEX, (S)->ctref[r])

/*
** Type-string front cache: a direct-mapped table from the address of a
** Lua string's bytes to its type id, in front of the CFFI_T_TCACHE table.
** An entry's string is anchored (CTYPEOBJ_R_TCANCHOR) for as long as the
** entry holds it, so the address cannot be reused by another string while
** it is there: equal addresses mean the same Lua string.
*/
#define CTYPEOBJ_TCSIZE  64
typedef struct CTypeObjTC {
  const char *s;
  CTypeID id;
} CTypeObjTC;

static unsigned ctypeobj_tchash(const char *s) {
  uintptr_t a = (uintptr_t)s;
  return (unsigned)((a >> 4) ^ (a >> 10)) & (CTYPEOBJ_TCSIZE - 1);
}

/*
** The ctype-object set: open addressing from a ctype object's address to
** its id.  ctype objects are never collected (CFFI_T_CTYPES holds them
** for the state's life), so no other userdata can have one of these
** addresses: membership identifies a ctype object without its metatable.
*/
typedef struct CTypeObjSlot {
  const void *p;
  CTypeID id;
} CTypeObjSlot;

static unsigned ctypeobj_sethash(const void *p) {
  uintptr_t a = (uintptr_t)p;
  return (unsigned)((a >> 3) ^ (a >> 12));
}

static CTypeID ctypeobj_setget(CTState *S, const void *p) {
  const CTypeObjSlot *set = (const CTypeObjSlot *)S->ctset;
  uint32_t m = S->szctset - 1, i;
  for (i = ctypeobj_sethash(p) & m; set[i].p != NULL; i = (i + 1) & m)
    if (set[i].p == p)
      return set[i].id;
  return 0;
}

static void ctypeobj_setput(CTState *S, const void *p, CTypeID id) {
  CTypeObjSlot *set = (CTypeObjSlot *)S->ctset;
  uint32_t m = S->szctset - 1, i;
  for (i = ctypeobj_sethash(p) & m; set[i].p != NULL; i = (i + 1) & m) {}
  set[i].p = p;
  set[i].id = id;
  S->nctset++;
}

/* Room for one more entry (may allocate: call before making the object). */
static void ctypeobj_setgrow(lua_State *L, CTState *S) {
  CTypeObjSlot *old = (CTypeObjSlot *)S->ctset, *set;
  uint32_t osz = S->szctset, sz, i;
  if (old != NULL && (S->nctset + 1) * 2 <= osz)
    return;
  sz = osz ? osz * 2 : 64;
  set = (CTypeObjSlot *)lua_newuserdatauv(L, sz * sizeof(CTypeObjSlot), 0);
  memset(set, 0, sz * sizeof(CTypeObjSlot));
  S->ctset = set;
  S->szctset = sz;
  S->nctset = 0;
  for (i = 0; i < osz; i++)
    if (old[i].p != NULL)
      ctypeobj_setput(S, old[i].p, old[i].id);
  lua_rawseti(L, LUA_REGISTRYINDEX, S->ctref[CTYPEOBJ_R_CTSET]);   /* old one goes */
}


/* ---------------------------------------------------------------------
** ctype objects
** --------------------------------------------------------------------- */

/* The id of the ctype object at idx, 0 when it is not one. */
static CTypeID ctypeobj_test(lua_State *L, CTState *S, int idx) {
  if (lua_type(L, idx) != LUA_TUSERDATA)
    return 0;
  return ctypeobj_setget(S, lua_touserdata(L, idx));
}

void ctypeobj_push(lua_State *L, CTState *S, CTypeID id) {
  ctypeobj_pushref(L, S, CTYPEOBJ_R_CTYPES);
  if (lua_rawgeti(L, -1, (lua_Integer)id) == LUA_TNIL) {
    CTypeID *p;
    lua_pop(L, 1);
    ctypeobj_setgrow(L, S);
    p = (CTypeID *)lua_newuserdatauv(L, sizeof(CTypeID), 0);
    *p = id;
    cffi_pushtable(L, S, CFFI_T_CTMT);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, (lua_Integer)id);
    ctypeobj_setput(S, p, id);     /* anchored now: its address is its own */
  }
  lua_remove(L, -2);
}


/* ---------------------------------------------------------------------
** Type arguments
** --------------------------------------------------------------------- */

/* A C type designated by a ctype object, a cdata or a library function. */
static CTypeID ctypeobj_idof(lua_State *L, CTState *S, int idx) {
  CData *cd;
  CTypeID id = ctypeobj_test(L, S, idx);
  if (id != 0)
    return id;
  cd = cdata_test(L, S, idx);
  return cd != NULL ? cd->id : 0;
}

int ctypeobj_params(lua_State *L, CTState *S, int first, int last, CPParam *out,
                    int max) {
  int i, n = 0;
  for (i = first; i <= last; i++) {
    CPParam *p;
    if (n >= max)
      luaL_error(L, "too many parameters for '$' (at most %d)", max);
    p = &out[n++];
    memset(p, 0, sizeof *p);
    switch (lua_type(L, i)) {
    case LUA_TNUMBER: {
      int isint;
      lua_Integer v = lua_tointegerx(L, i, &isint);
      if (!isint)
        luaL_argerror(L, i, "integer expected for '$'");
      p->kind = CPP_INT;
      p->n = v;
      break;
    }
    case LUA_TSTRING:
      p->kind = CPP_NAME;
      p->s = lua_tolstring(L, i, &p->len);
      break;
    default:
      p->kind = CPP_TYPE;
      p->type = ctypeobj_idof(L, S, i);
      if (p->type == 0)
        luaL_argerror(L, i, "C type, number or name expected for '$'");
      break;
    }
  }
  return n;
}

/* Put the string at idx (bytes s) and its id in the front cache. */
static void ctypeobj_tcfill(lua_State *L, CTState *S, int idx, const char *s,
                            CTypeID id) {
  unsigned k = ctypeobj_tchash(s);
  CTypeObjTC *e = &((CTypeObjTC *)S->tcfront)[k];
  ctypeobj_pushref(L, S, CTYPEOBJ_R_TCANCHOR);
  lua_pushvalue(L, idx);
  lua_rawseti(L, -2, (lua_Integer)k + 1);    /* the old string is let go */
  lua_pop(L, 1);
  e->s = s;
  e->id = id;
}

/* A type string (bytes s, len) missing from the front cache: cached
** unless it has `$` or defines a new record.  Only cacheable strings ever
** enter either cache, so looking first is safe.  Out of line: its frame
** is large. */
static __attribute__((noinline)) CTypeID
ctypeobj_parse(lua_State *L, CTState *S, int idx, const char *s, size_t len,
               int *nused) {
  int hasparam, cache;
  CPParam params[CTYPEOBJ_MAXPARAMS];
  CPError err;
  CTypeID id = 0;
  int np = 0;
  ctypeobj_pushref(L, S, CTYPEOBJ_R_TCACHE);
  lua_pushvalue(L, idx);
  if (lua_rawget(L, -2) == LUA_TNUMBER)
    id = (CTypeID)lua_tointeger(L, -1);
  lua_pop(L, 2);
  if (id != 0) {
    ctypeobj_tcfill(L, S, idx, s, id);
    return id;
  }
  hasparam = memchr(s, '$', len) != NULL;
  cache = !hasparam && memchr(s, '{', len) == NULL;
  if (hasparam && nused != NULL) {
    int avail = lua_gettop(L) - idx, want = 0;
    size_t i;
    for (i = 0; i < len; i++) want += s[i] == '$';
    np = want < avail ? want : avail;
    if (np > CTYPEOBJ_MAXPARAMS) np = CTYPEOBJ_MAXPARAMS;
    np = ctypeobj_params(L, S, idx + 1, idx + np, params, CTYPEOBJ_MAXPARAMS);
    *nused = np;
  }
  memset(&err, 0, sizeof err);
  if (cparse_type(S, s, len, params, np, &id, &err) != 0)
    luaL_error(L, "invalid C type '%s': %s", s, err.msg);
  if (cache) {
    ctypeobj_pushref(L, S, CTYPEOBJ_R_TCACHE);
    lua_pushvalue(L, idx);
    lua_pushinteger(L, (lua_Integer)id);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    ctypeobj_tcfill(L, S, idx, s, id);
  }
  return id;
}

CTypeID ctypeobj_check(lua_State *L, CTState *S, int idx, int *nused,
                       const char *fname) {
  CTypeID id = 0;
  CData *cd;
  if (idx < 0 && idx > LUA_REGISTRYINDEX)
    idx = lua_absindex(L, idx);
  if (nused != NULL) *nused = 0;
  switch (lua_type(L, idx)) {
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    const CTypeObjTC *e = &((const CTypeObjTC *)S->tcfront)[ctypeobj_tchash(s)];
    if (e->s == s)
      return e->id;
    return ctypeobj_parse(L, S, idx, s, len, nused);
  }
  case LUA_TUSERDATA:              /* a ctype object, else a cdata */
    id = ctypeobj_setget(S, lua_touserdata(L, idx));
    if (id == 0 && (cd = cdata_test(L, S, idx)) != NULL)
      id = cd->id;
    break;
  case LUA_TFUNCTION:              /* a library function */
    if ((cd = cdata_test(L, S, idx)) != NULL)
      id = cd->id;
    break;
  default:
    break;
  }
  if (id == 0)
    cffi_typeerror(L, idx, fname, "C type");
  return id;
}


/* ---------------------------------------------------------------------
** ctype objects' metamethods
** --------------------------------------------------------------------- */

/* The ctype object a metamethod was called on (slot 1): a member of the
** ctype-object set (debug.getmetatable lets anything be passed). */
static CTypeID ctypeobj_self(lua_State *L, CTState *S) {
  CTypeID id = ctypeobj_test(L, S, 1);
  if (id == 0)
    luaL_typeerror(L, 1, "ctype");
  return id;
}

static int ctypeobj_mm_tostring(lua_State *L) {
  CTState *S = cffi_upstate(L);
  char tb[160];
  lua_pushfstring(L, "ctype<%s>", ctype_repr(S, ctypeobj_self(L, S), tb, sizeof tb));
  return 1;
}

static int ctypeobj_mm_call(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CTypeID id = ctypeobj_self(L, S);
  const CType *ct = ctype_get(S, id);
  if (ctype_isrecord(ct) && (ct->flags & CTF_METATYPE) &&
      cdata_getmm(L, S, id, "__new")) {
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
  }
  return cdata_newof(L, S, id);    /* slot 1 is this ctype: no need to check it */
}

/* ct.NAME: static const members and enum constants, then the metatype's
** __index (a function called with the ctype and the key, or a table). */
static int ctypeobj_mm_index(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CTypeID id = ctypeobj_self(L, S);
  const CType *ct = ctype_get(S, id);
  if (lua_type(L, 2) == LUA_TSTRING) {
    size_t len;
    const char *name = lua_tolstring(L, 2, &len);
    if (ctype_isrecord(ct)) {
      CField f;
      if (ctype_findfield(S, id, name, len, &f) && (f.flags & CFF_CONSTVAL)) {
        lua_pushinteger(L, (lua_Integer)f.value);
        return 1;
      }
    } else if (ct->kind == CT_ENUM) {
      uint32_t i;
      for (i = 0; i < ct->nfield; i++) {
        const CField *f = ctype_field(S, ct, i);
        if (f->name != NULL && strlen(f->name) == len && memcmp(f->name, name, len) == 0) {
          lua_pushinteger(L, (lua_Integer)f->value);
          return 1;
        }
      }
    }
  }
  if (ctype_isrecord(ct) && cdata_getmm(L, S, id, "__index")) {
    if (lua_isfunction(L, -1)) {
      lua_pushvalue(L, 1);
      lua_pushvalue(L, 2);
      lua_call(L, 2, 1);
    } else {
      lua_pushvalue(L, 2);
      lua_gettable(L, -2);
    }
    return 1;
  }
  return cdata_errmember(L, S, id, 2);
}


/* ---------------------------------------------------------------------
** ffi.* functions about types
** --------------------------------------------------------------------- */

int ctypeobj_ffi_typeof(lua_State *L, CTState *S) {
  int nused = 0;
  CTypeID id = ctypeobj_check(L, S, 1, &nused, "typeof");
  ctypeobj_push(L, S, id);
  return 1;
}

int ctypeobj_ffi_metatype(lua_State *L, CTState *S) {
  CTypeID id = ctypeobj_check(L, S, 1, NULL, "metatype");
  CType *ct = ctype_get(S, id);
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!ctype_isrecord(ct))
    return cffi_argerror(L, 1, "metatype", "struct or union type expected");
  cffi_pushtable(L, S, CFFI_T_METATYPES);
  if (lua_rawgeti(L, -1, (lua_Integer)id) != LUA_TNIL)
    return luaL_error(L, "cannot change a protected metatable");
  lua_pop(L, 1);
  lua_pushvalue(L, 2);
  lua_rawseti(L, -2, (lua_Integer)id);
  lua_pop(L, 1);
  ct->flags |= CTF_METATYPE;
  ctypeobj_push(L, S, id);
  return 1;
}

/* The size of a type, or of a VLA / VLS instance. */
int ctypeobj_ffi_sizeof(lua_State *L, CTState *S) {
  CData *cd = cdata_test(L, S, 1);
  CTypeID id;
  const CType *ct;
  if (cd != NULL && !(cd->flags & CDF_REF) && lua_type(L, 1) == LUA_TUSERDATA &&
      (ctype_get(S, cd->id)->flags & CTF_VLA)) {
    lua_pushinteger(L, (lua_Integer)cdata_size(L, 1));
    return 1;
  }
  id = ctypeobj_check(L, S, 1, NULL, "sizeof");
  ct = ctype_get(S, id);
  if (cdata_unsized(S, id))
    return 0;
  if (ct->flags & CTF_VLA) {
    int64_t n;
    size_t sz;
    if (!cdata_intkey(L, S, 2, &n))
      return cffi_typeerror(L, 2, "sizeof", "size of VLA");
    if (n < 0)
      return cffi_argerror(L, 2, "sizeof", "non-negative size expected");
    sz = ctype_vlsize(S, id, (size_t)n);
    if (sz == (size_t)-1)
      return 0;
    lua_pushinteger(L, (lua_Integer)sz);
    return 1;
  }
  lua_pushinteger(L, (lua_Integer)ct->size);
  return 1;
}

int ctypeobj_ffi_alignof(lua_State *L, CTState *S) {
  CTypeID id = ctypeobj_check(L, S, 1, NULL, "alignof");
  lua_pushinteger(L, (lua_Integer)ctype_get(S, id)->align);
  return 1;
}

/* Bitfields also give the bit position inside the byte at the offset and
** the width (the layout of CField). */
int ctypeobj_ffi_offsetof(lua_State *L, CTState *S) {
  CTypeID id = ctypeobj_check(L, S, 1, NULL, "offsetof");
  size_t len;
  const char *name = luaL_checklstring(L, 2, &len);
  CField f;
  if (!ctype_isrecord(ctype_get(S, id)) || !ctype_findfield(S, id, name, len, &f) ||
      (f.flags & CFF_CONSTVAL))
    return 0;
  lua_pushinteger(L, (lua_Integer)f.offset);
  if (f.flags & CFF_BITFIELD) {
    lua_pushinteger(L, (lua_Integer)f.bitpos);
    lua_pushinteger(L, (lua_Integer)f.bitsize);
    return 3;
  }
  return 1;
}

/* ffi.istype: qualifiers ignored (pointees' too), void * not special, long
** and long long of one size alike; a struct type accepts pointers to it. */
static int ctypeobj_same(CTState *S, CTypeID a, CTypeID b, int depth) {
  const CType *x, *y;
  if (a == b) return 1;
  x = ctype_get(S, a);
  y = ctype_get(S, b);
  if (x->kind != y->kind || x->size != y->size || depth > 16)
    return 0;
  switch (x->kind) {
  case CT_PTR: case CT_REF:
    return ctypeobj_same(S, x->child, y->child, depth + 1);
  case CT_ARRAY: case CT_VECTOR:
    return x->count == y->count &&
           ((x->flags ^ y->flags) & (CTF_VLA | CTF_INCOMPLETE)) == 0 &&
           ctypeobj_same(S, x->child, y->child, depth + 1);
  case CT_INT: case CT_FLOAT: case CT_BOOL: case CT_VOID:
    return ((x->flags ^ y->flags) & ~(CTF_QUALS | CTF_LONG | CTF_WCHAR)) == 0;
  default:
    return 0;
  }
}

int ctypeobj_ffi_istype(lua_State *L, CTState *S) {
  CTypeID id = ctypeobj_check(L, S, 1, NULL, "istype");
  CData *cd = lua_type(L, 2) == LUA_TUSERDATA ? cdata_test(L, S, 2) : NULL;
  int r = 0;
  if (cd != NULL) {
    const CType *ct = ctype_get(S, id), *ot = ctype_get(S, cd->id);
    r = ctypeobj_same(S, id, cd->id, 0) ||
        (ctype_isrecord(ct) && ot->kind == CT_PTR && ot->child == id);
  }
  lua_pushboolean(L, r);
  return 1;
}


/* ---------------------------------------------------------------------
** Opening
** --------------------------------------------------------------------- */

static const luaL_Reg ctypeobj_meta[] = {
  {"__index", ctypeobj_mm_index},
  {"__call", ctypeobj_mm_call},
  {"__tostring", ctypeobj_mm_tostring},
  {NULL, NULL}
};

/* A registry reference to the value on top (popped). */
static void ctypeobj_ref(lua_State *L, CTState *S, int r) {
  S->ctref[r] = luaL_ref(L, LUA_REGISTRYINDEX);
}

int ctypeobj_open(lua_State *L, CTState *S, int stateidx) {
  stateidx = lua_absindex(L, stateidx);
  cffi_pushtable(L, S, CFFI_T_CTMT);
  lua_pushvalue(L, stateidx);
  luaL_setfuncs(L, ctypeobj_meta, 1);
  lua_pushliteral(L, "ctype");
  lua_setfield(L, -2, "__name");
  lua_pushliteral(L, "ffi");
  lua_setfield(L, -2, "__metatable");
  S->ctmt = lua_topointer(L, -1);
  lua_pop(L, 1);
  cffi_pushtable(L, S, CFFI_T_TCACHE);
  ctypeobj_ref(L, S, CTYPEOBJ_R_TCACHE);
  cffi_pushtable(L, S, CFFI_T_CTYPES);
  ctypeobj_ref(L, S, CTYPEOBJ_R_CTYPES);
  lua_createtable(L, CTYPEOBJ_TCSIZE, 0);
  ctypeobj_ref(L, S, CTYPEOBJ_R_TCANCHOR);
  S->tcfront = lua_newuserdatauv(L, CTYPEOBJ_TCSIZE * sizeof(CTypeObjTC), 0);
  memset(S->tcfront, 0, CTYPEOBJ_TCSIZE * sizeof(CTypeObjTC));
  ctypeobj_ref(L, S, CTYPEOBJ_R_TCFRONT);
  lua_pushboolean(L, 0);           /* a slot for the set; ctypeobj_setgrow fills it */
  ctypeobj_ref(L, S, CTYPEOBJ_R_CTSET);
  S->ctset = NULL;
  S->szctset = S->nctset = 0;
  ctypeobj_setgrow(L, S);
  return 0;
}
