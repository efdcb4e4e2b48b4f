/*
** cdata.c: the cdata userdata (allocation, indexing, arithmetic,
** comparison, finalisers, metatypes), ctype objects, and the ffi.*
** functions that create and inspect cdata.  Conversions are cconv.c's.
*/
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cffi.h"

#define CDATA_HDR        sizeof(CData)
#define CDATA_MAXALIGN   128u    /* larger alignments are capped */
#define CDATA_MAXPARAMS  32

typedef char cdata_hdr_check[(sizeof(CData) == 8) ? 1 : -1];

/* Is this a type whose instances a cdata holds by address (references)? */
#define cdata_isref_kind(ct) \
  (ctype_isrecord(ct) || (ct)->kind == CT_ARRAY)


/* ---------------------------------------------------------------------
** Allocation and identity
** --------------------------------------------------------------------- */

static void cdata_setmt(lua_State *L, CTState *S, int gc) {
  cffi_pushtable(L, S, gc ? CFFI_T_CDMTGC : CFFI_T_CDMT);
  lua_setmetatable(L, -2);
}

/* Push metamethod `name` of the metatype of id (a struct/union, or a
** pointer to one).  Returns 0 (nothing pushed) when there is none. */
static int cdata_getmm(lua_State *L, CTState *S, CTypeID id, const char *name) {
  const CType *ct = ctype_get(S, id);
  if (ct->kind == CT_PTR) {
    id = ct->child;
    ct = ctype_get(S, id);
  }
  if (!ctype_isrecord(ct) || !(ct->flags & CTF_METATYPE))
    return 0;
  cffi_pushtable(L, S, CFFI_T_METATYPES);
  if (lua_rawgeti(L, -1, (lua_Integer)id) != LUA_TTABLE) {
    lua_pop(L, 2);
    return 0;
  }
  lua_pushstring(L, name);
  if (lua_rawget(L, -2) == LUA_TNIL) {
    lua_pop(L, 3);
    return 0;
  }
  lua_replace(L, -3);
  lua_pop(L, 1);
  return 1;
}

static int cdata_hasgc(lua_State *L, CTState *S, CTypeID id) {
  const CType *ct = ctype_get(S, id);
  if (!ctype_isrecord(ct) || !(ct->flags & CTF_METATYPE))
    return 0;
  if (!cdata_getmm(L, S, id, "__gc"))
    return 0;
  lua_pop(L, 1);
  return 1;
}

CData *cdata_new(lua_State *L, CTState *S, CTypeID id, size_t size) {
  const CType *ct = ctype_get(S, id);
  size_t align = ct->align > 8 ? ct->align : 0, extra, off = CDATA_HDR;
  char *ud;
  CData *cd;
  if (align > CDATA_MAXALIGN) align = CDATA_MAXALIGN;
  extra = align ? align - CDATA_HDR : 0;
  if (size > (size_t)-1 / 2 - extra - CDATA_HDR)
    luaL_error(L, "not enough memory");
  ud = (char *)lua_newuserdatauv(L, CDATA_HDR + size + extra, 0);
  if (align) {                 /* Lua aligns to 8: the rest is done here */
    uintptr_t a = (uintptr_t)(ud + CDATA_HDR);
    off += (align - (a & (align - 1))) & (align - 1);
  }
  cd = (CData *)ud;
  cd->id = id;
  cd->flags = 0;
  cd->off = (uint8_t)off;
  cd->pad_ = (uint8_t)(extra - (off - CDATA_HDR));   /* trailing slack */
  memset(ud + off, 0, size);
  cdata_setmt(L, S, (ct->flags & CTF_METATYPE) && cdata_hasgc(L, S, id));
  return cd;
}

CData *cdata_newref(lua_State *L, CTState *S, CTypeID id, void *p, int parent,
                    unsigned flags) {
  CData *cd;
  if (parent != 0) parent = lua_absindex(L, parent);
  cd = (CData *)lua_newuserdatauv(L, CDATA_HDR + sizeof(void *), parent ? 1 : 0);
  cd->id = id;
  cd->flags = (uint16_t)(flags | CDF_REF);
  cd->off = (uint8_t)CDATA_HDR;
  cd->pad_ = 0;
  memcpy(cdata_payload(cd), &p, sizeof p);
  cdata_setmt(L, S, 0);
  if (parent != 0) {
    lua_pushvalue(L, parent);
    lua_setiuservalue(L, -2, 1);
  }
  return cd;
}

void cdata_pushptr(lua_State *L, CTState *S, CTypeID id, void *p) {
  CData *cd = (CData *)lua_newuserdatauv(L, CDATA_HDR + sizeof(void *), 0);
  cd->id = id;
  cd->flags = 0;
  cd->off = (uint8_t)CDATA_HDR;
  cd->pad_ = 0;
  memcpy(cdata_payload(cd), &p, sizeof p);
  cdata_setmt(L, S, 0);
}

CData *cdata_test(lua_State *L, CTState *S, int idx) {
  switch (lua_type(L, idx)) {
  case LUA_TUSERDATA: {
    const void *mt;
    if (!lua_getmetatable(L, idx))
      return NULL;
    mt = lua_topointer(L, -1);
    lua_pop(L, 1);
    return (mt == S->cdmt || mt == S->cdmtgc) ? (CData *)lua_touserdata(L, idx) : NULL;
  }
  case LUA_TFUNCTION: {            /* a library function: its function cdata */
    CData *cd = NULL;
    if (!lua_iscfunction(L, idx))
      return NULL;
    idx = lua_absindex(L, idx);
    cffi_pushtable(L, S, CFFI_T_FUNCS);
    lua_pushvalue(L, idx);
    if (lua_rawget(L, -2) == LUA_TUSERDATA)
      cd = (CData *)lua_touserdata(L, -1);   /* kept alive by the closure */
    lua_pop(L, 2);
    return cd;
  }
  default:
    return NULL;
  }
}

CData *cdata_check(lua_State *L, CTState *S, int idx) {
  CData *cd = cdata_test(L, S, idx);
  if (cd == NULL)
    luaL_typeerror(L, idx, "cdata");
  return cd;
}

size_t cdata_size(lua_State *L, int idx) {
  CData *cd = (CData *)lua_touserdata(L, idx);
  if (cd->flags & CDF_REF) {
    CTState *S = cffi_state(L);
    return ctype_get(S, cd->id)->size;
  }
  return lua_rawlen(L, idx) - cd->off - cd->pad_;
}

/* The address a function cdata stands for (stored as a reference or not). */
static void *cdata_funcaddr(CData *cd) {
  if (cd->flags & CDF_REF)
    return cdata_ptr(cd);
  return *(void **)cdata_payload(cd);
}

/* The value a cdata designates as an address: a pointer's value, an
** aggregate's or function's address. */
static void *cdata_addr(CTState *S, CData *cd) {
  const CType *ct = ctype_get(S, cd->id);
  if (ct->kind == CT_PTR)
    return *(void **)cdata_ptr(cd);
  if (ct->kind == CT_FUNC)
    return cdata_funcaddr(cd);
  return cdata_ptr(cd);
}

/* The cdata a metamethod was called on (slot 1). */
static CData *cdata_self(lua_State *L) {
  CData *cd = (CData *)lua_touserdata(L, 1);
  if (cd == NULL)
    luaL_typeerror(L, 1, "cdata");
  return cd;
}

/* Element count of the array cdata at idx, or -1 when unknown. */
static int64_t cdata_arraylen(lua_State *L, CTState *S, CData *cd, int idx) {
  const CType *ct = ctype_get(S, cd->id);
  size_t esz = ctype_get(S, ct->child)->size;
  if (cd->flags & CDF_NOBOUNDS)
    return -1;
  if (ct->flags & CTF_VLA) {
    if ((cd->flags & CDF_REF) || esz == 0)
      return -1;
    return (int64_t)(cdata_size(L, idx) / esz);
  }
  if (ct->flags & CTF_INCOMPLETE)
    return -1;
  return (int64_t)ct->count;
}


/* ---------------------------------------------------------------------
** ctype objects
** --------------------------------------------------------------------- */

static CTypeID cdata_testctype(lua_State *L, CTState *S, int idx) {
  CTypeID id = 0;
  if (lua_type(L, idx) == LUA_TUSERDATA && lua_getmetatable(L, idx)) {
    if (lua_topointer(L, -1) == S->ctmt)
      id = *(CTypeID *)lua_touserdata(L, idx);
    lua_pop(L, 1);
  }
  return id;
}

void cdata_pushctype(lua_State *L, CTState *S, CTypeID id) {
  cffi_pushtable(L, S, CFFI_T_CTYPES);
  if (lua_rawgeti(L, -1, (lua_Integer)id) == LUA_TNIL) {
    CTypeID *p;
    lua_pop(L, 1);
    p = (CTypeID *)lua_newuserdatauv(L, sizeof(CTypeID), 0);
    *p = id;
    cffi_pushtable(L, S, CFFI_T_CTMT);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, (lua_Integer)id);
  }
  lua_remove(L, -2);
}

/* A C type designated by a ctype object, a cdata or a library function. */
static CTypeID cdata_typeof(lua_State *L, CTState *S, int idx) {
  CData *cd;
  CTypeID id = cdata_testctype(L, S, idx);
  if (id != 0)
    return id;
  cd = cdata_test(L, S, idx);
  return cd != NULL ? cd->id : 0;
}

int cdata_params(lua_State *L, CTState *S, int first, int last, CPParam *out,
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
      p->type = cdata_typeof(L, S, i);
      if (p->type == 0)
        luaL_argerror(L, i, "C type, number or name expected for '$'");
      break;
    }
  }
  return n;
}

/* A type string: cached unless it has `$` or defines a new record. */
static CTypeID cdata_parsetype(lua_State *L, CTState *S, int idx, int *nused) {
  size_t len;
  const char *s = lua_tolstring(L, idx, &len);
  int hasparam = memchr(s, '$', len) != NULL;
  int cache = !hasparam && memchr(s, '{', len) == NULL;
  CPParam params[CDATA_MAXPARAMS];
  CPError err;
  CTypeID id = 0;
  int np = 0;
  if (cache) {
    cffi_pushtable(L, S, CFFI_T_TCACHE);
    lua_pushvalue(L, idx);
    if (lua_rawget(L, -2) == LUA_TNUMBER)
      id = (CTypeID)lua_tointeger(L, -1);
    lua_pop(L, 2);
    if (id != 0)
      return id;
  }
  if (hasparam && nused != NULL) {
    int avail = lua_gettop(L) - idx, want = 0;
    size_t i;
    for (i = 0; i < len; i++) want += s[i] == '$';
    np = want < avail ? want : avail;
    if (np > CDATA_MAXPARAMS) np = CDATA_MAXPARAMS;
    np = cdata_params(L, S, idx + 1, idx + np, params, CDATA_MAXPARAMS);
    *nused = np;
  }
  memset(&err, 0, sizeof err);
  if (cparse_type(S, s, len, params, np, &id, &err) != 0)
    luaL_error(L, "invalid C type '%s': %s", s, err.msg);
  if (cache) {
    cffi_pushtable(L, S, CFFI_T_TCACHE);
    lua_pushvalue(L, idx);
    lua_pushinteger(L, (lua_Integer)id);
    lua_rawset(L, -3);
    lua_pop(L, 1);
  }
  return id;
}

/* "bad argument #N to 'fname' (msg)" naming the ffi function itself:
** luaL_argerror would name the caller's alias (local T = ffi.typeof). */
static int cdata_argerror(lua_State *L, int narg, const char *fname,
                          const char *msg) {
  if (fname == NULL)
    return luaL_argerror(L, narg, msg);
  return luaL_error(L, "bad argument #%d to '%s' (%s)", narg, fname, msg);
}

static int cdata_typeerror(lua_State *L, int narg, const char *fname,
                           const char *tname) {
  const char *msg = lua_pushfstring(L, "%s expected, got %s", tname,
                                    luaL_typename(L, narg));
  return cdata_argerror(L, narg, fname, msg);
}

static CTypeID cdata_checkctypen(lua_State *L, CTState *S, int idx, int *nused,
                                 const char *fname) {
  CTypeID id;
  idx = lua_absindex(L, idx);
  if (nused != NULL) *nused = 0;
  if (lua_type(L, idx) == LUA_TSTRING)
    return cdata_parsetype(L, S, idx, nused);
  id = cdata_typeof(L, S, idx);
  if (id == 0)
    cdata_typeerror(L, idx, fname, "C type");
  return id;
}

CTypeID cdata_checkctype(lua_State *L, CTState *S, int idx, int *nused) {
  return cdata_checkctypen(L, S, idx, nused, NULL);
}


/* ---------------------------------------------------------------------
** Indexing
** --------------------------------------------------------------------- */

static int cdata_errconst(lua_State *L) {
  return luaL_error(L, "attempt to write to constant location");
}

static int cdata_errnull(lua_State *L) {
  return luaL_error(L, "NULL pointer dereference");
}

static int cdata_errmember(lua_State *L, CTState *S, CTypeID id, int key) {
  char tb[160];
  ctype_repr(S, id, tb, sizeof tb);
  if (lua_type(L, key) == LUA_TSTRING)
    return luaL_error(L, "'%s' has no member named '%s'", tb, lua_tostring(L, key));
  return luaL_error(L, "'%s' cannot be indexed with '%s'", tb, luaL_typename(L, key));
}

/* An integer key: a Lua number (truncated) or an integer cdata. */
static int cdata_intkey(lua_State *L, CTState *S, int idx, int64_t *out) {
  switch (lua_type(L, idx)) {
  case LUA_TNUMBER: {
    int isint;
    lua_Integer i = lua_tointegerx(L, idx, &isint);
    if (!isint) {
      lua_Number d = lua_tonumber(L, idx);
      if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return 0;
      i = (lua_Integer)d;
    }
    *out = i;
    return 1;
  }
  case LUA_TUSERDATA: {
    CData *cd = cdata_test(L, S, idx);
    return cd != NULL && cconv_toint64(S, cd->id, cdata_ptr(cd), out) == 1;
  }
  default:
    return 0;
  }
}

static void cdata_bounds(lua_State *L, CTState *S, CTypeID id, int64_t i, int64_t n) {
  if (n >= 0 && (i < 0 || i >= n)) {
    char tb[160];
    ctype_repr(S, id, tb, sizeof tb);
    luaL_error(L, "index %I out of range for '%s'", (lua_Integer)i, tb);
  }
}

/* base + i * esz, wrapping like the machine (no signed overflow in C). */
static char *cdata_offset(char *base, int64_t i, size_t esz) {
  return (char *)((uintptr_t)base + (uintptr_t)((uint64_t)i * (uint64_t)esz));
}

/* Push the element of type eid at addr: aggregates as references. */
static void cdata_pushelem(lua_State *L, CTState *S, CTypeID eid, char *addr,
                           int parent, unsigned cflags) {
  const CType *et = ctype_get(S, eid);
  if (cdata_isref_kind(et))
    cdata_newref(L, S, eid, addr, parent, cflags & CDF_CONST);
  else
    cconv_tolua(L, S, eid, addr, parent);
}

/* Is field f (found by name in rec) the last member of rec? */
static int cdata_islast(CTState *S, CTypeID rec, const CField *f) {
  const CType *ct = ctype_get(S, rec);
  uint32_t k = ct->nfield;
  while (k > 0) {
    const CField *g = ctype_field(S, ct, k - 1);
    if (g->flags & CFF_CONSTVAL) { k--; continue; }
    return g->name == f->name && g->offset == f->offset;
  }
  return 0;
}

/* Read field `key` of the record rec at base.  Returns 0 if no such field.
** cflags: CDF_CONST when the record is reached through a const path. */
static int cdata_getfield(lua_State *L, CTState *S, CTypeID rec, char *base,
                          int parent, int key, unsigned cflags) {
  size_t len;
  const char *name = lua_tolstring(L, key, &len);
  const CType *ft;
  CField f;
  if (!ctype_findfield(S, rec, name, len, &f))
    return 0;
  if (f.flags & CFF_CONSTVAL) {
    lua_pushinteger(L, (lua_Integer)f.value);
    return 1;
  }
  if (base == NULL)
    cdata_errnull(L);
  ft = ctype_get(S, f.type);
  if (f.flags & CFF_BITFIELD) {
    int64_t v = cconv_getbits(base, &f, ft->kind != CT_BOOL && !(ft->flags & CTF_UNSIGNED) &&
                              !(ft->kind == CT_ENUM && (ft->flags & CTF_UNSIGNED)));
    if (ft->kind == CT_BOOL)
      lua_pushboolean(L, v != 0);
    else
      lua_pushinteger(L, (lua_Integer)v);
    return 1;
  }
  if (cdata_isref_kind(ft)) {
    unsigned fl = cflags & CDF_CONST;
    if (f.flags & CFF_CONST) fl |= CDF_CONST;
    if (ft->kind == CT_ARRAY &&
        ((ft->flags & (CTF_VLA | CTF_INCOMPLETE)) || ft->count == 0 ||
         (ft->count == 1 && cdata_islast(S, rec, &f))))
      fl |= CDF_NOBOUNDS;           /* the old flexible-array idioms */
    cdata_newref(L, S, f.type, base + f.offset, parent, fl);
  } else {
    cconv_tolua(L, S, f.type, base + f.offset, parent);
  }
  return 1;
}

/* Write field `key` of rec at base from the value at slot val. */
static int cdata_setfield(lua_State *L, CTState *S, CTypeID rec, char *base,
                          int key, int val, unsigned cflags) {
  size_t len;
  const char *name = lua_tolstring(L, key, &len);
  const CType *ft;
  CField f;
  if (!ctype_findfield(S, rec, name, len, &f))
    return 0;
  ft = ctype_get(S, f.type);
  if ((f.flags & (CFF_CONSTVAL | CFF_CONST)) || (cflags & CDF_CONST) ||
      (ft->kind == CT_ARRAY && (ft->flags & CTF_CONST)))
    cdata_errconst(L);
  if (base == NULL)
    cdata_errnull(L);
  if (f.flags & CFF_BITFIELD) {
    uint64_t tmp = 0;
    int64_t v = 0;
    if (ft->size > sizeof tmp)
      cconv_error(L, S, f.type, val, 0);
    cconv_tocdata(L, S, f.type, &tmp, val, 0);
    cconv_toint64(S, f.type, &tmp, &v);
    cconv_setbits(base, &f, v);
  } else {
    cconv_tocdata(L, S, f.type, base + f.offset, val, 0);
  }
  return 1;
}

/* Metatype __index / __newindex after the C-level lookup failed. */
static int cdata_metaindex(lua_State *L, CTState *S, CTypeID id, int nargs) {
  if (!cdata_getmm(L, S, id, nargs == 2 ? "__index" : "__newindex"))
    return -1;
  if (lua_isfunction(L, -1)) {
    int i;
    for (i = 1; i <= nargs; i++) lua_pushvalue(L, i);
    lua_call(L, nargs, nargs == 2 ? 1 : 0);
    return nargs == 2;
  }
  lua_pushvalue(L, 2);
  if (nargs == 2) {
    lua_gettable(L, -2);
    return 1;
  }
  lua_pushvalue(L, 3);
  lua_settable(L, -3);
  return 0;
}

static int cdata_mm_index(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CData *cd = cdata_self(L);
  CTypeID id = cd->id;
  const CType *ct = ctype_get(S, id);
  char *p = (char *)cdata_ptr(cd);
  int64_t i;
  int r;
  switch (ct->kind) {
  case CT_PTR:
    if (cdata_intkey(L, S, 2, &i)) {
      CTypeID eid = ct->child;
      size_t esz = ctype_get(S, eid)->size;
      char *base = *(char **)p;
      if (base == NULL)
        cdata_errnull(L);
      if (esz == 0 && (i != 0 || !ctype_isrecord(ctype_get(S, eid)))) {
        char tb[160];
        return luaL_error(L, "cannot index '%s': size of the pointee is unknown",
                          ctype_repr(S, id, tb, sizeof tb));
      }
      cdata_pushelem(L, S, eid, cdata_offset(base, i, esz), 0,
                     (ct->flags & CTF_CONST) ? CDF_CONST : 0);
      return 1;
    }
    if (lua_type(L, 2) == LUA_TSTRING) {
      const CType *pt = ctype_get(S, ct->child);
      if (ctype_isrecord(pt) &&
          cdata_getfield(L, S, ct->child, *(char **)p, 0, 2,
                         (ct->flags & CTF_CONST) ? CDF_CONST : 0))
        return 1;
      if (pt->kind == CT_FUNC && ccallback_index(L, S, cd, lua_tostring(L, 2)))
        return 1;
    }
    break;
  case CT_ARRAY: case CT_VECTOR:
    if (cdata_intkey(L, S, 2, &i)) {
      CTypeID eid = ct->child;
      size_t esz = ctype_get(S, eid)->size;
      int64_t n = ct->kind == CT_VECTOR ? (esz ? (int64_t)(ct->size / esz) : 0)
                                        : cdata_arraylen(L, S, cd, 1);
      cdata_bounds(L, S, id, i, n);
      cdata_pushelem(L, S, eid, cdata_offset(p, i, esz), 1,
                     ((ct->flags & CTF_CONST) || (cd->flags & CDF_CONST)) ? CDF_CONST : 0);
      return 1;
    }
    break;
  case CT_STRUCT: case CT_UNION:
    if (lua_type(L, 2) == LUA_TSTRING &&
        cdata_getfield(L, S, id, p, 1, 2, cd->flags & CDF_CONST))
      return 1;
    break;
  case CT_COMPLEX:
    if (lua_type(L, 2) == LUA_TSTRING) {
      const char *k = lua_tostring(L, 2);
      size_t h = ct->size / 2;
      CTypeID eid = ct->child ? ct->child : (h == sizeof(float) ? CTID_FLOAT : CTID_DOUBLE);
      if (strcmp(k, "re") == 0) { cconv_tolua(L, S, eid, p, 0); return 1; }
      if (strcmp(k, "im") == 0) { cconv_tolua(L, S, eid, p + h, 0); return 1; }
    }
    break;
  default:
    break;
  }
  r = cdata_metaindex(L, S, id, 2);
  if (r >= 0)
    return r;
  if (ct->kind == CT_PTR && ctype_isrecord(ctype_get(S, ct->child)))
    return cdata_errmember(L, S, ct->child, 2);
  return cdata_errmember(L, S, id, 2);
}

static int cdata_mm_newindex(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CData *cd = cdata_self(L);
  CTypeID id = cd->id;
  const CType *ct = ctype_get(S, id);
  char *p = (char *)cdata_ptr(cd);
  int64_t i;
  switch (ct->kind) {
  case CT_PTR:
    if (cdata_intkey(L, S, 2, &i)) {
      CTypeID eid = ct->child;
      size_t esz = ctype_get(S, eid)->size;
      char *base = *(char **)p;
      if (ct->flags & CTF_CONST)
        cdata_errconst(L);
      if (base == NULL)
        cdata_errnull(L);
      if (esz == 0) {
        char tb[160];
        return luaL_error(L, "cannot index '%s': size of the pointee is unknown",
                          ctype_repr(S, id, tb, sizeof tb));
      }
      cconv_tocdata(L, S, eid, cdata_offset(base, i, esz), 3, 0);
      return 0;
    }
    if (lua_type(L, 2) == LUA_TSTRING && ctype_isrecord(ctype_get(S, ct->child)) &&
        cdata_setfield(L, S, ct->child, *(char **)p, 2, 3,
                       (ct->flags & CTF_CONST) ? CDF_CONST : 0))
      return 0;
    break;
  case CT_ARRAY: case CT_VECTOR:
    if (cdata_intkey(L, S, 2, &i)) {
      CTypeID eid = ct->child;
      size_t esz = ctype_get(S, eid)->size;
      int64_t n = ct->kind == CT_VECTOR ? (esz ? (int64_t)(ct->size / esz) : 0)
                                        : cdata_arraylen(L, S, cd, 1);
      if ((ct->flags & CTF_CONST) || (cd->flags & CDF_CONST))
        cdata_errconst(L);
      cdata_bounds(L, S, id, i, n);
      cconv_tocdata(L, S, eid, cdata_offset(p, i, esz), 3, 0);
      return 0;
    }
    break;
  case CT_STRUCT: case CT_UNION:
    if (lua_type(L, 2) == LUA_TSTRING &&
        cdata_setfield(L, S, id, p, 2, 3, cd->flags & CDF_CONST))
      return 0;
    break;
  case CT_COMPLEX:
    if (lua_type(L, 2) == LUA_TSTRING) {
      const char *k = lua_tostring(L, 2);
      size_t h = ct->size / 2;
      CTypeID eid = ct->child ? ct->child : (h == sizeof(float) ? CTID_FLOAT : CTID_DOUBLE);
      int part = strcmp(k, "re") == 0 ? 0 : strcmp(k, "im") == 0 ? 1 : -1;
      if (part >= 0) {
        if (cd->flags & CDF_CONST)
          cdata_errconst(L);
        cconv_tocdata(L, S, eid, p + part * h, 3, 0);
        return 0;
      }
    }
    break;
  default:
    break;
  }
  if (cdata_metaindex(L, S, id, 3) >= 0)
    return 0;
  if (ct->kind == CT_PTR && ctype_isrecord(ctype_get(S, ct->child)))
    return cdata_errmember(L, S, ct->child, 2);
  return cdata_errmember(L, S, id, 2);
}


/* ---------------------------------------------------------------------
** Arithmetic and comparison
** --------------------------------------------------------------------- */

enum { CA_NONE, CA_INT, CA_FLT, CA_PTR, CA_AGG, CA_STR };

/* An operand of an arithmetic or comparison metamethod. */
typedef struct CArith {
  int kind;
  int is64, uns;       /* CA_INT from a 64-bit integer cdata; unsigned */
  int64_t i;
  double d;
  char *p;             /* CA_PTR / CA_AGG: address */
  CTypeID ptrid;       /* CA_PTR: the pointer type (0 for arrays/functions) */
  CTypeID elem;        /* CA_PTR: element type (0: no arithmetic) */
  unsigned quals;      /* CA_PTR from an array: element qualifiers */
  CData *cd;
  int idx;
} CArith;

static void cdata_arg(lua_State *L, CTState *S, int idx, CArith *a) {
  CData *cd;
  const CType *ct;
  memset(a, 0, sizeof *a);
  a->idx = idx;
  switch (lua_type(L, idx)) {
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      a->kind = CA_INT;
      a->i = lua_tointeger(L, idx);
    } else {
      a->kind = CA_FLT;
      a->d = lua_tonumber(L, idx);
    }
    return;
  case LUA_TSTRING:
    a->kind = CA_STR;
    return;
  case LUA_TUSERDATA: case LUA_TFUNCTION:
    cd = cdata_test(L, S, idx);
    if (cd == NULL)
      return;
    break;
  default:
    return;
  }
  a->cd = cd;
  ct = ctype_get(S, cd->id);
  switch (ct->kind) {
  case CT_INT: case CT_ENUM: case CT_BOOL:
    a->kind = CA_INT;
    cconv_toint64(S, cd->id, cdata_ptr(cd), &a->i);
    a->is64 = ct->kind == CT_INT && ct->size == 8;
    a->uns = a->is64 && (ct->flags & CTF_UNSIGNED);
    break;
  case CT_FLOAT:
    a->kind = CA_FLT;
    cconv_tolua(L, S, cd->id, cdata_ptr(cd), 0);
    a->d = lua_tonumber(L, -1);
    lua_pop(L, 1);
    break;
  case CT_PTR:
    a->kind = CA_PTR;
    a->p = *(char **)cdata_ptr(cd);
    a->ptrid = cd->id;
    a->elem = ct->child;
    break;
  case CT_ARRAY:
    a->kind = CA_PTR;
    a->p = (char *)cdata_ptr(cd);
    a->elem = ct->child;
    a->quals = (ct->flags & CTF_QUALS) | ((cd->flags & CDF_CONST) ? CTF_CONST : 0);
    break;
  case CT_FUNC:
    a->kind = CA_PTR;
    a->p = (char *)cdata_funcaddr(cd);
    break;
  default:
    a->kind = CA_AGG;
    a->p = (char *)cdata_ptr(cd);
    break;
  }
}

/* A string against an enum cdata is the enum constant's value. */
static void cdata_enumstr(lua_State *L, CTState *S, CArith *s, const CArith *e) {
  if (s->kind == CA_STR && e->cd != NULL &&
      ctype_get(S, e->cd->id)->kind == CT_ENUM) {
    uint64_t tmp = 0;
    cconv_tocdata(L, S, e->cd->id, &tmp, s->idx, 0);
    cconv_toint64(S, e->cd->id, &tmp, &s->i);
    s->kind = CA_INT;
  }
}

static void cdata_pusharg(lua_State *L, const CArith *a) {
  if (a->kind == CA_INT)
    lua_pushinteger(L, (lua_Integer)a->i);
  else
    lua_pushnumber(L, a->d);
}

/* Operands of 64-bit arithmetic: Lua floats truncate to integers. */
static void cdata_toint(lua_State *L, CTState *S, CArith *a) {
  if (a->kind == CA_FLT) {
    int64_t v = 0;
    if (a->cd != NULL) {
      cconv_toint64(S, a->cd->id, cdata_ptr(a->cd), &v);
    } else {
      cconv_tocdata(L, S, CTID_INT64, &v, a->idx, 0);
    }
    a->i = v;
    a->kind = CA_INT;
  }
}

static uint64_t cdata_ipow(uint64_t x, uint64_t y, int uns) {
  uint64_t r = 1;
  if (!uns && (int64_t)y < 0) {   /* LuaJIT: only 1 and -1 survive */
    if (x == 1) return 1;
    if ((int64_t)x == -1) return (y & 1) ? x : 1;
    return 0;
  }
  while (y) {
    if (y & 1) r *= x;
    x *= x;
    y >>= 1;
  }
  return r;
}

static uint64_t cdata_shift(uint64_t x, int64_t n, int left) {
  if (n < 0) { n = -n; left = !left; }
  if (n >= 64) return 0;
  return left ? x << n : x >> n;
}

/* 64-bit integer arithmetic as LuaJIT does it (C division and remainder,
** unsigned when either side is uint64_t); the result is a Lua integer. */
static int cdata_arith64(lua_State *L, int op, const CArith *a, const CArith *b) {
  uint64_t x = (uint64_t)a->i, y = (uint64_t)b->i, r;
  int uns = a->uns || b->uns;
  switch (op) {
  case LUA_OPADD: r = x + y; break;
  case LUA_OPSUB: r = x - y; break;
  case LUA_OPMUL: r = x * y; break;
  case LUA_OPDIV: case LUA_OPIDIV: case LUA_OPMOD:
    if (y == 0)
      return luaL_error(L, "attempt to perform '%s'", op == LUA_OPMOD ? "n%%0" : "n//0");
    if (uns) {
      r = op == LUA_OPMOD ? x % y : x / y;
    } else {
      int64_t sx = (int64_t)x, sy = (int64_t)y;
      if (sy == -1) {
        r = op == LUA_OPMOD ? 0 : 0 - x;
      } else if (op == LUA_OPMOD) {
        r = (uint64_t)(sx % sy);
      } else {
        int64_t q = sx / sy;
        if (op == LUA_OPIDIV && (sx % sy != 0) && ((sx < 0) != (sy < 0)))
          q--;
        r = (uint64_t)q;
      }
    }
    break;
  case LUA_OPPOW: r = cdata_ipow(x, y, uns); break;
  case LUA_OPUNM: r = 0 - x; break;
  case LUA_OPBNOT: r = ~x; break;
  case LUA_OPBAND: r = x & y; break;
  case LUA_OPBOR: r = x | y; break;
  case LUA_OPBXOR: r = x ^ y; break;
  case LUA_OPSHL: r = cdata_shift(x, (int64_t)y, 1); break;
  default: r = cdata_shift(x, (int64_t)y, 0); break;   /* LUA_OPSHR */
  }
  lua_pushinteger(L, (lua_Integer)r);
  return 1;
}

static int cdata_isnum(const CArith *a) {
  return a->kind == CA_INT || a->kind == CA_FLT;
}

/* Pointer arithmetic: p + n, n + p, p - n, p - q. */
static int cdata_ptrarith(lua_State *L, CTState *S, int op, CArith *a, CArith *b) {
  CArith *pa = a, *na = b;
  size_t esz;
  if (op != LUA_OPADD && op != LUA_OPSUB)
    return 0;
  if (op == LUA_OPADD && a->kind != CA_PTR) { pa = b; na = a; }
  if (pa->kind != CA_PTR || pa->elem == 0)
    return 0;
  esz = ctype_get(S, pa->elem)->size;
  if (esz == 0)
    return 0;
  if (op == LUA_OPSUB && na->kind == CA_PTR) {
    if (na->elem == 0 || ctype_get(S, na->elem)->size != esz)
      return 0;
    lua_pushinteger(L, (lua_Integer)(((intptr_t)pa->p - (intptr_t)na->p) / (intptr_t)esz));
    return 1;
  }
  if (!cdata_isnum(na) || (op == LUA_OPSUB && pa != a))
    return 0;
  cdata_toint(L, S, na);
  {
    uint64_t n = op == LUA_OPSUB ? 0 - (uint64_t)na->i : (uint64_t)na->i;
    char *np = cdata_offset(pa->p, (int64_t)n, esz);
    CTypeID pid = pa->ptrid;
    if (pid == 0) {                 /* an array decays to a pointer */
      pid = ctype_ptr(S, pa->elem, pa->quals);
      if (pid == 0)
        return luaL_error(L, "not enough memory");
    }
    cdata_pushptr(L, S, pid, np);
  }
  return 1;
}

static const char *cdata_argname(lua_State *L, CTState *S, int idx, char *buf, size_t n) {
  return cconv_typename(L, S, idx, buf, n);
}

/* Call metamethod `mm` of either operand's metatype with (1, 2). */
static int cdata_callmm(lua_State *L, CTState *S, const CArith *a,
                        const CArith *b, const char *mm, int nres) {
  if ((a->cd && cdata_getmm(L, S, a->cd->id, mm)) ||
      (b->cd && cdata_getmm(L, S, b->cd->id, mm))) {
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, nres);
    return 1;
  }
  return 0;
}

static int cdata_arith(lua_State *L, int op, const char *mm) {
  CTState *S = cffi_upstate(L);
  int unary = op == LUA_OPUNM || op == LUA_OPBNOT;
  CArith a, b;
  cdata_arg(L, S, 1, &a);
  if (unary) b = a; else cdata_arg(L, S, 2, &b);
  cdata_enumstr(L, S, &a, &b);
  cdata_enumstr(L, S, &b, &a);
  if (cdata_isnum(&a) && cdata_isnum(&b)) {
    if (a.is64 || b.is64) {
      cdata_toint(L, S, &a);
      cdata_toint(L, S, &b);
      return cdata_arith64(L, op, &a, &b);
    }
    cdata_pusharg(L, &a);
    if (!unary) cdata_pusharg(L, &b);
    lua_arith(L, op);
    return 1;
  }
  if (!unary && cdata_ptrarith(L, S, op, &a, &b))
    return 1;
  if (cdata_callmm(L, S, &a, &b, mm, 1))
    return 1;
  {
    char n1[200], n2[200];
    cdata_argname(L, S, 1, n1, sizeof n1);
    if (unary)
      return luaL_error(L, "attempt to perform arithmetic on '%s'", n1);
    cdata_argname(L, S, 2, n2, sizeof n2);
    return luaL_error(L, "attempt to perform arithmetic on '%s' and '%s'", n1, n2);
  }
}

#define CDATA_ARITH(name, op) \
  static int cdata_mm_##name(lua_State *L) { return cdata_arith(L, op, "__" #name); }
CDATA_ARITH(add, LUA_OPADD)
CDATA_ARITH(sub, LUA_OPSUB)
CDATA_ARITH(mul, LUA_OPMUL)
CDATA_ARITH(div, LUA_OPDIV)
CDATA_ARITH(mod, LUA_OPMOD)
CDATA_ARITH(pow, LUA_OPPOW)
CDATA_ARITH(unm, LUA_OPUNM)
CDATA_ARITH(idiv, LUA_OPIDIV)
CDATA_ARITH(band, LUA_OPBAND)
CDATA_ARITH(bor, LUA_OPBOR)
CDATA_ARITH(bxor, LUA_OPBXOR)
CDATA_ARITH(shl, LUA_OPSHL)
CDATA_ARITH(shr, LUA_OPSHR)
CDATA_ARITH(bnot, LUA_OPBNOT)

/* op: LUA_OPEQ, LUA_OPLT, LUA_OPLE.  Returns 1 with *res set, 0 if the
** operands cannot be compared natively. */
static int cdata_cmpnative(lua_State *L, CTState *S, int op, CArith *a,
                           CArith *b, int *res) {
  if (cdata_isnum(a) && cdata_isnum(b)) {
    if ((a->uns || b->uns) && a->kind == CA_INT && b->kind == CA_INT) {
      uint64_t x = (uint64_t)a->i, y = (uint64_t)b->i;
      *res = op == LUA_OPEQ ? x == y : op == LUA_OPLT ? x < y : x <= y;
    } else {
      cdata_pusharg(L, a);
      cdata_pusharg(L, b);
      *res = lua_compare(L, -2, -1, op);
      lua_pop(L, 2);
    }
    return 1;
  }
  if (a->kind == CA_PTR && b->kind == CA_PTR) {
    uintptr_t x = (uintptr_t)a->p, y = (uintptr_t)b->p;
    *res = op == LUA_OPEQ ? x == y : op == LUA_OPLT ? x < y : x <= y;
    return 1;
  }
  (void)S;
  return 0;
}

static int cdata_compare(lua_State *L, int op, const char *mm) {
  CTState *S = cffi_upstate(L);
  CArith a, b;
  int res;
  cdata_arg(L, S, 1, &a);
  cdata_arg(L, S, 2, &b);
  if (op != LUA_OPEQ) {
    cdata_enumstr(L, S, &a, &b);
    cdata_enumstr(L, S, &b, &a);
  }
  if (cdata_cmpnative(L, S, op, &a, &b, &res)) {
    lua_pushboolean(L, res);
    return 1;
  }
  if (cdata_callmm(L, S, &a, &b, mm, 1)) {
    lua_pushboolean(L, lua_toboolean(L, -1));
    return 1;
  }
  if (op == LUA_OPEQ) {             /* == never raises */
    lua_pushboolean(L, a.kind == CA_AGG && b.kind == CA_AGG && a.p == b.p);
    return 1;
  }
  {
    char n1[200], n2[200];
    cdata_argname(L, S, 1, n1, sizeof n1);
    cdata_argname(L, S, 2, n2, sizeof n2);
    return luaL_error(L, "attempt to compare '%s' with '%s'", n1, n2);
  }
}

static int cdata_mm_eq(lua_State *L) { return cdata_compare(L, LUA_OPEQ, "__eq"); }
static int cdata_mm_lt(lua_State *L) { return cdata_compare(L, LUA_OPLT, "__lt"); }
static int cdata_mm_le(lua_State *L) { return cdata_compare(L, LUA_OPLE, "__le"); }


/* ---------------------------------------------------------------------
** Other metamethods
** --------------------------------------------------------------------- */

static int cdata_mm_len(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CData *cd = cdata_self(L);
  const CType *ct = ctype_get(S, cd->id);
  if (ct->kind == CT_ARRAY) {
    int64_t n = cdata_arraylen(L, S, cd, 1);
    if (n >= 0) {
      lua_pushinteger(L, (lua_Integer)n);
      return 1;
    }
  } else if (ct->kind == CT_VECTOR) {
    size_t esz = ctype_get(S, ct->child)->size;
    lua_pushinteger(L, esz ? (lua_Integer)(ct->size / esz) : 0);
    return 1;
  }
  if (cdata_getmm(L, S, cd->id, "__len")) {
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 1);
    return 1;
  }
  {
    char n1[200];
    return luaL_error(L, "attempt to get length of '%s'",
                      cdata_argname(L, S, 1, n1, sizeof n1));
  }
}

static int cdata_mm_concat(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CArith a, b;
  char n1[200], n2[200];
  cdata_arg(L, S, 1, &a);
  cdata_arg(L, S, 2, &b);
  if (cdata_callmm(L, S, &a, &b, "__concat", 1))
    return 1;
  cdata_argname(L, S, 1, n1, sizeof n1);
  cdata_argname(L, S, 2, n2, sizeof n2);
  return luaL_error(L, "attempt to concatenate '%s' and '%s'", n1, n2);
}

static int cdata_mm_call(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CData *cd = cdata_self(L);
  const CType *ct = ctype_get(S, cd->id);
  if (ct->kind == CT_FUNC)
    return ccall_callcdata(L, S, cd);
  if (ct->kind == CT_PTR && ctype_get(S, ct->child)->kind == CT_FUNC) {
    if (*(void **)cdata_ptr(cd) == NULL)
      return cdata_errnull(L);
    return ccall_callcdata(L, S, cd);
  }
  if (cdata_getmm(L, S, cd->id, "__call")) {
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
  }
  {
    char tb[160];
    return luaL_error(L, "'%s' is not callable", ctype_repr(S, cd->id, tb, sizeof tb));
  }
}

static int cdata_mm_tostring(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CData *cd = cdata_self(L);
  const CType *ct = ctype_get(S, cd->id);
  char tb[160];
  void *p;
  if (cdata_getmm(L, S, cd->id, "__tostring")) {
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    return 1;
  }
  ctype_repr(S, cd->id, tb, sizeof tb);
  if (ct->kind == CT_INT && ct->size == 8 && !(cd->flags & CDF_REF)) {
    char buf[64];
    int64_t v = 0;
    cconv_toint64(S, cd->id, cdata_ptr(cd), &v);
    if (ct->flags & CTF_UNSIGNED)
      snprintf(buf, sizeof buf, "%" PRIu64 "ULL", (uint64_t)v);
    else
      snprintf(buf, sizeof buf, "%" PRId64 "LL", v);
    lua_pushstring(L, buf);
    return 1;
  }
  if (ct->kind == CT_COMPLEX) {
    size_t h = ct->size / 2;
    CTypeID eid = ct->child ? ct->child : (h == sizeof(float) ? CTID_FLOAT : CTID_DOUBLE);
    char buf[96];
    double re, im;
    cconv_tolua(L, S, eid, cdata_ptr(cd), 0);
    cconv_tolua(L, S, eid, (char *)cdata_ptr(cd) + h, 0);
    re = lua_tonumber(L, -2);
    im = lua_tonumber(L, -1);
    snprintf(buf, sizeof buf, "%.14g%s%.14gi", re, (im >= 0 || im != im) ? "+" : "", im);
    lua_pushstring(L, buf);
    return 1;
  }
  p = cdata_addr(S, cd);
  if (ct->kind != CT_PTR && ct->kind != CT_FUNC && (cd->flags & CDF_REF))
    lua_pushfstring(L, "cdata<%s &>: %p", tb, p);   /* as LuaJIT: "T &" */
  else if (p == NULL)
    lua_pushfstring(L, "cdata<%s>: NULL", tb);
  else
    lua_pushfstring(L, "cdata<%s>: %p", tb, p);
  return 1;
}

static int cdata_mm_close(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CData *cd = cdata_self(L);
  if (cdata_getmm(L, S, cd->id, "__close")) {
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 0);
  }
  return 0;
}

/* The ffi.gc finalizer if one is registered (false: removed), else the
** metatype's __gc for struct/union values.  Runs once: the entry goes. */
static int cdata_mm_gc(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CData *cd = cdata_self(L);
  cffi_pushtable(L, S, CFFI_T_FINALIZERS);
  lua_pushvalue(L, 1);
  if (lua_rawget(L, -2) != LUA_TNIL) {
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    lua_rawset(L, -4);
    if (lua_toboolean(L, -1)) {
      lua_pushvalue(L, 1);
      lua_call(L, 1, 0);
    }
    return 0;
  }
  lua_pop(L, 2);
  if (!(cd->flags & CDF_REF) && ctype_isrecord(ctype_get(S, cd->id)) &&
      cdata_getmm(L, S, cd->id, "__gc")) {
    lua_pushvalue(L, 1);
    lua_call(L, 1, 0);
  }
  return 0;
}


/* ---------------------------------------------------------------------
** ctype objects' metamethods
** --------------------------------------------------------------------- */

static CTypeID cdata_ctself(lua_State *L) {
  CTypeID *p = (CTypeID *)lua_touserdata(L, 1);
  if (p == NULL)
    luaL_typeerror(L, 1, "ctype");
  return *p;
}

static int cdata_ctmm_tostring(lua_State *L) {
  CTState *S = cffi_upstate(L);
  char tb[160];
  lua_pushfstring(L, "ctype<%s>", ctype_repr(S, cdata_ctself(L), tb, sizeof tb));
  return 1;
}

static int cdata_ctmm_call(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CTypeID id = cdata_ctself(L);
  if (ctype_isrecord(ctype_get(S, id)) && cdata_getmm(L, S, id, "__new")) {
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
  }
  return cdata_ffi_new(L, S);
}

/* ct.NAME: static const members and enum constants, then the metatype's
** __index. */
static int cdata_ctmm_index(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CTypeID id = cdata_ctself(L);
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
** ffi.* functions
** --------------------------------------------------------------------- */

/* An optional integer argument (Lua number or integer cdata). */
static int64_t cdata_checkint(lua_State *L, CTState *S, int idx) {
  int64_t v;
  if (!cdata_intkey(L, S, idx, &v))
    luaL_typeerror(L, idx, "integer");
  return v;
}

static int cdata_isfuncarg(lua_State *L, CTState *S, int idx) {
  return lua_type(L, idx) == LUA_TFUNCTION && cdata_test(L, S, idx) == NULL;
}

static int cdata_errsize(lua_State *L) {
  return luaL_error(L, "size of C type is unknown or too large");
}

int cdata_ffi_new(lua_State *L, CTState *S) {
  CTypeID id = cdata_checkctypen(L, S, 1, NULL, "new");
  const CType *ct = ctype_get(S, id);
  int top = lua_gettop(L), first = 2, n;
  size_t size = ct->size;
  CData *cd;
  if (ct->flags & CTF_VLA) {
    int64_t ne;
    if (!cdata_intkey(L, S, 2, &ne))
      return cdata_typeerror(L, 2, "new", "size of VLA");
    size = ne < 0 ? (size_t)-1 : ctype_vlsize(S, id, (size_t)ne);
    if (size == (size_t)-1)
      return cdata_errsize(L);
    first = 3;
  } else if ((ct->flags & CTF_INCOMPLETE) || ct->kind == CT_VOID || ct->kind == CT_FUNC) {
    return cdata_errsize(L);
  }
  n = top >= first ? top - first + 1 : 0;
  if (n == 1 && ctype_isfuncptr(S, id) && cdata_isfuncarg(L, S, first)) {
    ccallback_new(L, S, id, first);
    return 1;
  }
  cd = cdata_new(L, S, id, size);
  cconv_init(L, S, id, cdata_payload(cd), size, first, n);
  return 1;
}

int cdata_ffi_cast(lua_State *L, CTState *S) {
  CTypeID id = cdata_checkctypen(L, S, 1, NULL, "cast");
  const CType *ct = ctype_get(S, id);
  CData *cd;
  luaL_checkany(L, 2);
  if (ctype_isfuncptr(S, id) && cdata_isfuncarg(L, S, 2)) {
    ccallback_new(L, S, id, 2);
    return 1;
  }
  if ((ct->flags & (CTF_VLA | CTF_INCOMPLETE)) || ct->kind == CT_VOID || ct->kind == CT_FUNC)
    return cconv_error(L, S, id, 2, 0);
  cd = cdata_test(L, S, 2);
  if (cd != NULL && cd->id == id && !(cd->flags & CDF_REF) && lua_type(L, 2) == LUA_TUSERDATA) {
    lua_settop(L, 2);               /* already of that type: itself */
    return 1;
  }
  cd = cdata_new(L, S, id, ct->size);
  cconv_tocdata(L, S, id, cdata_payload(cd), 2, CCF_CAST);
  return 1;
}

int cdata_ffi_typeof(lua_State *L, CTState *S) {
  int nused = 0;
  CTypeID id = cdata_checkctypen(L, S, 1, &nused, "typeof");
  cdata_pushctype(L, S, id);
  return 1;
}

int cdata_ffi_metatype(lua_State *L, CTState *S) {
  CTypeID id = cdata_checkctypen(L, S, 1, NULL, "metatype");
  CType *ct = ctype_get(S, id);
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!ctype_isrecord(ct))
    return cdata_argerror(L, 1, "metatype", "struct or union type expected");
  cffi_pushtable(L, S, CFFI_T_METATYPES);
  if (lua_rawgeti(L, -1, (lua_Integer)id) != LUA_TNIL)
    return luaL_error(L, "cannot change a protected metatable");
  lua_pop(L, 1);
  lua_pushvalue(L, 2);
  lua_rawseti(L, -2, (lua_Integer)id);
  lua_pop(L, 1);
  ct->flags |= CTF_METATYPE;
  cdata_pushctype(L, S, id);
  return 1;
}

int cdata_ffi_gc(lua_State *L, CTState *S) {
  int hasfin;
  if (lua_type(L, 1) != LUA_TUSERDATA || cdata_test(L, S, 1) == NULL)
    return luaL_typeerror(L, 1, "cdata");
  hasfin = !lua_isnoneornil(L, 2);
  if (hasfin && !lua_isfunction(L, 2) && cdata_test(L, S, 2) == NULL)
    return luaL_typeerror(L, 2, "function or nil");
  cffi_pushtable(L, S, CFFI_T_FINALIZERS);
  lua_pushvalue(L, 1);
  if (hasfin) lua_pushvalue(L, 2); else lua_pushboolean(L, 0);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  if (hasfin && lua_getmetatable(L, 1)) {
    int plain = lua_topointer(L, -1) == S->cdmt;
    lua_pop(L, 1);
    if (plain) {
      cffi_pushtable(L, S, CFFI_T_CDMTGC);
      lua_setmetatable(L, 1);
    }
  }
  lua_settop(L, 1);
  return 1;
}

int cdata_ffi_sizeof(lua_State *L, CTState *S) {
  CData *cd = cdata_test(L, S, 1);
  CTypeID id;
  const CType *ct;
  if (cd != NULL && !(cd->flags & CDF_REF) && lua_type(L, 1) == LUA_TUSERDATA &&
      (ctype_get(S, cd->id)->flags & CTF_VLA)) {
    lua_pushinteger(L, (lua_Integer)cdata_size(L, 1));
    return 1;
  }
  id = cdata_checkctypen(L, S, 1, NULL, "sizeof");
  ct = ctype_get(S, id);
  if (ct->flags & CTF_VLA) {
    int64_t n;
    size_t sz;
    if (!cdata_intkey(L, S, 2, &n))
      return cdata_typeerror(L, 2, "sizeof", "size of VLA");
    if (n < 0)
      return cdata_argerror(L, 2, "sizeof", "non-negative size expected");
    sz = ctype_vlsize(S, id, (size_t)n);
    if (sz == (size_t)-1)
      return 0;
    lua_pushinteger(L, (lua_Integer)sz);
    return 1;
  }
  if ((ct->flags & CTF_INCOMPLETE) || ct->kind == CT_VOID || ct->kind == CT_FUNC)
    return 0;
  lua_pushinteger(L, (lua_Integer)ct->size);
  return 1;
}

int cdata_ffi_alignof(lua_State *L, CTState *S) {
  CTypeID id = cdata_checkctypen(L, S, 1, NULL, "alignof");
  lua_pushinteger(L, (lua_Integer)ctype_get(S, id)->align);
  return 1;
}

/* Bitfields also give the bit position inside the byte at the offset and
** the width (the layout of CField). */
int cdata_ffi_offsetof(lua_State *L, CTState *S) {
  CTypeID id = cdata_checkctypen(L, S, 1, NULL, "offsetof");
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
static int cdata_sametype(CTState *S, CTypeID a, CTypeID b, int depth) {
  const CType *x, *y;
  if (a == b) return 1;
  x = ctype_get(S, a);
  y = ctype_get(S, b);
  if (x->kind != y->kind || x->size != y->size || depth > 16)
    return 0;
  switch (x->kind) {
  case CT_PTR: case CT_REF:
    return cdata_sametype(S, x->child, y->child, depth + 1);
  case CT_ARRAY: case CT_VECTOR:
    return x->count == y->count &&
           ((x->flags ^ y->flags) & (CTF_VLA | CTF_INCOMPLETE)) == 0 &&
           cdata_sametype(S, x->child, y->child, depth + 1);
  case CT_INT: case CT_FLOAT: case CT_BOOL: case CT_VOID:
    return ((x->flags ^ y->flags) & ~(CTF_QUALS | CTF_LONG | CTF_WCHAR)) == 0;
  default:
    return 0;
  }
}

int cdata_ffi_istype(lua_State *L, CTState *S) {
  CTypeID id = cdata_checkctypen(L, S, 1, NULL, "istype");
  CData *cd = lua_type(L, 2) == LUA_TUSERDATA ? cdata_test(L, S, 2) : NULL;
  int r = 0;
  if (cd != NULL) {
    const CType *ct = ctype_get(S, id), *ot = ctype_get(S, cd->id);
    r = cdata_sametype(S, id, cd->id, 0) ||
        (ctype_isrecord(ct) && ot->kind == CT_PTR && ot->child == id);
  }
  lua_pushboolean(L, r);
  return 1;
}

/* Bytes a cdata argument can be read or written through, or (size_t)-1
** when not known (pointers, unbounded references). */
static size_t cdata_extent(lua_State *L, CTState *S, int idx) {
  CData *cd = lua_type(L, idx) == LUA_TUSERDATA ? cdata_test(L, S, idx) : NULL;
  const CType *ct;
  if (cd == NULL)
    return (size_t)-1;
  ct = ctype_get(S, cd->id);
  if (ct->kind == CT_ARRAY) {
    int64_t n = cdata_arraylen(L, S, cd, idx);
    if (n < 0) return (size_t)-1;
    return (size_t)n * ctype_get(S, ct->child)->size;
  }
  if (ctype_isrecord(ct) && !(ct->flags & (CTF_VLA | CTF_FLEX)))
    return ct->size;
  return (size_t)-1;
}

int cdata_ffi_string(lua_State *L, CTState *S) {
  const char *p = NULL;
  size_t len, max = cdata_extent(L, S, 1);
  cconv_tocdata(L, S, CTID_CVOIDP, (void *)&p, 1, CCF_NARG(1));
  if (lua_isnoneornil(L, 2)) {
    if (p == NULL)
      return cdata_errnull(L);
    len = max == (size_t)-1 ? strlen(p) : strnlen(p, max);
  } else {
    int64_t n = cdata_checkint(L, S, 2);
    if (n < 0)
      return luaL_argerror(L, 2, "non-negative length expected");
    len = (size_t)n;
    if (len > 0 && p == NULL)
      return cdata_errnull(L);
    if (max != (size_t)-1 && len > max)
      return luaL_error(L, "length %I out of range for a %I-byte object",
                        (lua_Integer)len, (lua_Integer)max);
    if (lua_type(L, 1) == LUA_TSTRING && len > lua_rawlen(L, 1))
      return luaL_argerror(L, 2, "length exceeds the string");
  }
  lua_pushlstring(L, len ? p : "", len);
  return 1;
}

int cdata_ffi_copy(lua_State *L, CTState *S) {
  void *dst = NULL;
  const void *src = NULL;
  size_t len, dmax = cdata_extent(L, S, 1), smax = cdata_extent(L, S, 2);
  cconv_tocdata(L, S, CTID_VOIDP, &dst, 1, CCF_NARG(1));
  if (lua_isnoneornil(L, 3)) {
    if (lua_type(L, 2) != LUA_TSTRING)
      return luaL_typeerror(L, 3, "integer");
    src = lua_tolstring(L, 2, &len);
    len++;                          /* the string and its NUL */
  } else {
    int64_t n;
    cconv_tocdata(L, S, CTID_CVOIDP, (void *)&src, 2, CCF_NARG(2));
    n = cdata_checkint(L, S, 3);
    if (n < 0)
      return luaL_argerror(L, 3, "non-negative length expected");
    len = (size_t)n;
    if (lua_type(L, 2) == LUA_TSTRING && len > lua_rawlen(L, 2) + 1)
      return luaL_argerror(L, 3, "length exceeds the string");
    if (smax != (size_t)-1 && len > smax)
      return luaL_error(L, "length %I out of range for a %I-byte source",
                        (lua_Integer)len, (lua_Integer)smax);
  }
  if (len == 0)
    return 0;
  if (dst == NULL || src == NULL)
    return cdata_errnull(L);
  if (dmax != (size_t)-1 && len > dmax)
    return luaL_error(L, "length %I out of range for a %I-byte destination",
                      (lua_Integer)len, (lua_Integer)dmax);
  memmove(dst, src, len);
  return 0;
}

int cdata_ffi_fill(lua_State *L, CTState *S) {
  void *dst = NULL;
  size_t dmax = cdata_extent(L, S, 1), len;
  int64_t n;
  int c;
  cconv_tocdata(L, S, CTID_VOIDP, &dst, 1, CCF_NARG(1));
  n = cdata_checkint(L, S, 2);
  if (n < 0)
    return luaL_argerror(L, 2, "non-negative length expected");
  c = lua_isnoneornil(L, 3) ? 0 : (int)(cdata_checkint(L, S, 3) & 0xff);
  len = (size_t)n;
  if (len == 0)
    return 0;
  if (dst == NULL)
    return cdata_errnull(L);
  if (dmax != (size_t)-1 && len > dmax)
    return luaL_error(L, "length %I out of range for a %I-byte destination",
                      (lua_Integer)len, (lua_Integer)dmax);
  memset(dst, c, len);
  return 0;
}

/* ffi.tonumber: numbers of every kind (complex: the real part); pointers
** and aggregates give nil; Lua values as tonumber(v [, base]). */
int cdata_ffi_tonumber(lua_State *L, CTState *S) {
  CData *cd = lua_type(L, 1) == LUA_TUSERDATA ? cdata_test(L, S, 1) : NULL;
  if (cd != NULL) {
    const CType *ct = ctype_get(S, cd->id);
    switch (ct->kind) {
    case CT_INT: case CT_ENUM: case CT_FLOAT:
      cconv_tolua(L, S, cd->id, cdata_ptr(cd), 0);
      return 1;
    case CT_BOOL: {
      int64_t v = 0;
      cconv_toint64(S, cd->id, cdata_ptr(cd), &v);
      lua_pushinteger(L, (lua_Integer)v);
      return 1;
    }
    case CT_COMPLEX: {
      size_t h = ct->size / 2;
      CTypeID eid = ct->child ? ct->child : (h == sizeof(float) ? CTID_FLOAT : CTID_DOUBLE);
      cconv_tolua(L, S, eid, cdata_ptr(cd), 0);
      return 1;
    }
    default:                        /* pointers and aggregates: nil, as LuaJIT */
      lua_pushnil(L);
      return 1;
    }
  }
  if (lua_gettop(L) >= 2 && !lua_isnil(L, 2)) {   /* with a base: Lua's own */
    lua_getglobal(L, "tonumber");
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 1);
    return 1;
  }
  switch (lua_type(L, 1)) {
  case LUA_TNUMBER:
    lua_settop(L, 1);
    return 1;
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    if (lua_stringtonumber(L, s) == len + 1)
      return 1;
    break;
  }
  default:
    luaL_checkany(L, 1);
    break;
  }
  lua_pushnil(L);
  return 1;
}


/* ---------------------------------------------------------------------
** Metatables
** --------------------------------------------------------------------- */

static const luaL_Reg cdata_meta[] = {
  {"__index", cdata_mm_index},
  {"__newindex", cdata_mm_newindex},
  {"__call", cdata_mm_call},
  {"__add", cdata_mm_add},
  {"__sub", cdata_mm_sub},
  {"__mul", cdata_mm_mul},
  {"__div", cdata_mm_div},
  {"__mod", cdata_mm_mod},
  {"__pow", cdata_mm_pow},
  {"__unm", cdata_mm_unm},
  {"__idiv", cdata_mm_idiv},
  {"__band", cdata_mm_band},
  {"__bor", cdata_mm_bor},
  {"__bxor", cdata_mm_bxor},
  {"__shl", cdata_mm_shl},
  {"__shr", cdata_mm_shr},
  {"__bnot", cdata_mm_bnot},
  {"__eq", cdata_mm_eq},
  {"__lt", cdata_mm_lt},
  {"__le", cdata_mm_le},
  {"__len", cdata_mm_len},
  {"__concat", cdata_mm_concat},
  {"__tostring", cdata_mm_tostring},
  {"__close", cdata_mm_close},
  {NULL, NULL}
};

static const luaL_Reg cdata_ctmeta[] = {
  {"__index", cdata_ctmm_index},
  {"__call", cdata_ctmm_call},
  {"__tostring", cdata_ctmm_tostring},
  {NULL, NULL}
};

/* Fill the registry table k with funcs (upvalue: the state userdata). */
static const void *cdata_fillmt(lua_State *L, CTState *S, int k, int stateidx,
                                const luaL_Reg *funcs, const char *name, int gc) {
  const void *p;
  cffi_pushtable(L, S, k);
  lua_pushvalue(L, stateidx);
  luaL_setfuncs(L, funcs, 1);
  if (gc) {
    lua_pushvalue(L, stateidx);
    lua_pushcclosure(L, cdata_mm_gc, 1);
    lua_setfield(L, -2, "__gc");
  }
  lua_pushstring(L, name);
  lua_setfield(L, -2, "__name");
  lua_pushliteral(L, "ffi");
  lua_setfield(L, -2, "__metatable");
  p = lua_topointer(L, -1);
  lua_pop(L, 1);
  return p;
}

int cdata_open(lua_State *L, CTState *S, int stateidx) {
  stateidx = lua_absindex(L, stateidx);
  S->cdmt = cdata_fillmt(L, S, CFFI_T_CDMT, stateidx, cdata_meta, "cdata", 0);
  S->cdmtgc = cdata_fillmt(L, S, CFFI_T_CDMTGC, stateidx, cdata_meta, "cdata", 1);
  S->ctmt = cdata_fillmt(L, S, CFFI_T_CTMT, stateidx, cdata_ctmeta, "ctype", 0);
  return 0;
}
