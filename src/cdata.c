/*
** cdata.c: the cdata userdata (allocation, indexing, finalisers,
** metatypes), ctype objects, and the ffi.* functions that create and
** inspect cdata.  Conversions are cconv.c's, arithmetic and comparison
** carith.c's.
*/
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cffi.h"

#define CDATA_HDR        sizeof(CData)
#define CDATA_MAXALIGN   128u    /* larger alignments are capped */
#define CDATA_MAXPARAMS  32

typedef char cdata_hdr_check[(sizeof(CData) == 8) ? 1 : -1];

/* Indexing is a hot path: its shared body is inlined into __index and
** __newindex, each specialised for its constant `wr`, not called. */
#define CDATA_INLINE  static inline __attribute__((always_inline))

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

int cdata_getmm(lua_State *L, CTState *S, CTypeID id, const char *name) {
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

void *cdata_funcaddr(CData *cd) {
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

/* Element count of a vector type. */
static int64_t cdata_veclen(CTState *S, const CType *ct) {
  size_t esz = ctype_get(S, ct->child)->size;
  return esz ? (int64_t)(ct->size / esz) : 0;
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

/* Push field f of the record rec at base. */
static void cdata_getfield(lua_State *L, CTState *S, CTypeID rec, char *base,
                           const CField *f, int parent, unsigned cflags) {
  const CType *ft;
  if (f->flags & CFF_CONSTVAL) {
    lua_pushinteger(L, (lua_Integer)f->value);
    return;
  }
  if (base == NULL)
    cdata_errnull(L);
  ft = ctype_get(S, f->type);
  if (f->flags & CFF_BITFIELD) {
    int64_t v = cconv_getbits(base, f, ft->kind != CT_BOOL && !(ft->flags & CTF_UNSIGNED) &&
                              !(ft->kind == CT_ENUM && (ft->flags & CTF_UNSIGNED)));
    if (ft->kind == CT_BOOL)
      lua_pushboolean(L, v != 0);
    else
      lua_pushinteger(L, (lua_Integer)v);
    return;
  }
  if (cdata_isref_kind(ft)) {
    unsigned fl = cflags & CDF_CONST;
    if (f->flags & CFF_CONST) fl |= CDF_CONST;
    if (ft->kind == CT_ARRAY &&
        ((ft->flags & (CTF_VLA | CTF_INCOMPLETE)) || ft->count == 0 ||
         (ft->count == 1 && cdata_islast(S, rec, f))))
      fl |= CDF_NOBOUNDS;           /* the old flexible-array idioms */
    cdata_newref(L, S, f->type, base + f->offset, parent, fl);
  } else {
    cconv_tolua(L, S, f->type, base + f->offset, parent);
  }
}

/* Write field f of the record at base from the value at slot 3. */
static void cdata_setfield(lua_State *L, CTState *S, char *base,
                           const CField *f, unsigned cflags) {
  const CType *ft = ctype_get(S, f->type);
  if ((f->flags & (CFF_CONSTVAL | CFF_CONST)) || (cflags & CDF_CONST) ||
      (ft->kind == CT_ARRAY && (ft->flags & CTF_CONST)))
    cdata_errconst(L);
  if (base == NULL)
    cdata_errnull(L);
  if (f->flags & CFF_BITFIELD) {
    uint64_t tmp = 0;
    int64_t v = 0;
    if (ft->size > sizeof tmp)
      cconv_error(L, S, f->type, 3, 0);
    cconv_tocdata(L, S, f->type, &tmp, 3, 0);
    cconv_toint64(S, f->type, &tmp, &v);
    cconv_setbits(base, f, v);
  } else {
    cconv_tocdata(L, S, f->type, base + f->offset, 3, 0);
  }
}

/* Field key 2 of the record rec at base: read (wr 0: pushed; parent keeps
** a reference's parent alive) or written (wr 1: from slot 3).  Returns 0
** if there is no such field.  cflags: CDF_CONST when the record is reached
** through a const path. */
static int cdata_field(lua_State *L, CTState *S, CTypeID rec, char *base,
                       int parent, int wr, unsigned cflags) {
  size_t len;
  const char *name = lua_tolstring(L, 2, &len);
  CField f;
  if (!ctype_findfield(S, rec, name, len, &f))
    return 0;
  if (wr)
    cdata_setfield(L, S, base, &f, cflags);
  else
    cdata_getfield(L, S, rec, base, &f, parent, cflags);
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

/* Read (wr 0: pushed) or write (wr 1: from slot 3) element i of the
** pointer, array or vector cdata cd at slot 1.  Raises on a NULL pointer,
** an unknown element size (a pointer to an incomplete struct may still
** read [0]), an index out of bounds, and on writing a const element. */
CDATA_INLINE int cdata_elem(lua_State *L, CTState *S, CData *cd, int64_t i,
                            int wr) {
  const CType *ct = ctype_get(S, cd->id);
  const CType *et = ctype_get(S, ct->child);
  char *p = (char *)cdata_ptr(cd);
  int isconst;
  if (ct->kind == CT_PTR) {
    isconst = (ct->flags & CTF_CONST) != 0;
    p = *(char **)p;
    if (wr && isconst)
      cdata_errconst(L);
    if (p == NULL)
      cdata_errnull(L);
    if (et->size == 0 && (wr || i != 0 || !ctype_isrecord(et))) {
      char tb[160];
      luaL_error(L, "cannot index '%s': size of the pointee is unknown",
                 ctype_repr(S, cd->id, tb, sizeof tb));
    }
  } else {
    int64_t n = ct->kind == CT_VECTOR ? cdata_veclen(S, ct) : cdata_arraylen(L, S, cd, 1);
    isconst = (ct->flags & CTF_CONST) || (cd->flags & CDF_CONST);
    if (wr && isconst)
      cdata_errconst(L);
    cdata_bounds(L, S, cd->id, i, n);
  }
  p = carith_offset(p, i, et->size);
  if (wr)
    cconv_tocdata(L, S, ct->child, p, 3, 0);
  else
    cdata_pushelem(L, S, ct->child, p, ct->kind == CT_PTR ? 0 : 1,
                   isconst ? CDF_CONST : 0);
  return !wr;
}

/* The element type of a complex type. */
static CTypeID cdata_complexelem(const CType *ct) {
  size_t h = ct->size / 2;
  return ct->child ? ct->child : (h == sizeof(float) ? CTID_FLOAT : CTID_DOUBLE);
}

/* Byte offset in the complex type ct of the part named by the key at slot
** 2 ("re", "im"), or -1. */
static ptrdiff_t cdata_complexkey(lua_State *L, const CType *ct) {
  const char *k;
  if (lua_type(L, 2) != LUA_TSTRING)
    return -1;
  k = lua_tostring(L, 2);
  return strcmp(k, "re") == 0 ? 0 : strcmp(k, "im") == 0 ? (ptrdiff_t)(ct->size / 2) : -1;
}

/* Neither C nor the metatype knows key 2 of the cdata of type id. */
static int cdata_errkey(lua_State *L, CTState *S, CTypeID id) {
  const CType *ct = ctype_get(S, id);
  if (ct->kind == CT_PTR && ctype_isrecord(ctype_get(S, ct->child)))
    return cdata_errmember(L, S, ct->child, 2);
  return cdata_errmember(L, S, id, 2);
}

/* __index (wr 0) and __newindex (wr 1) of the cdata at slot 1 with key 2
** (and value 3): what C knows first, then the metatype. */
CDATA_INLINE int cdata_access(lua_State *L, int wr) {
  CTState *S = cffi_upstate(L);
  CData *cd = cdata_self(L);
  CTypeID id = cd->id;
  const CType *ct = ctype_get(S, id);
  char *p = (char *)cdata_ptr(cd);
  int64_t i;
  int r;
  switch (ct->kind) {
  case CT_PTR: case CT_ARRAY: case CT_VECTOR:
    if (cdata_intkey(L, S, 2, &i))
      return cdata_elem(L, S, cd, i, wr);
    if (ct->kind == CT_PTR && lua_type(L, 2) == LUA_TSTRING) {
      const CType *pt = ctype_get(S, ct->child);
      if (ctype_isrecord(pt) &&
          cdata_field(L, S, ct->child, *(char **)p, 0, wr,
                      (ct->flags & CTF_CONST) ? CDF_CONST : 0))
        return !wr;
      if (!wr && pt->kind == CT_FUNC && ccallback_index(L, S, cd, lua_tostring(L, 2)))
        return 1;
    }
    break;
  case CT_STRUCT: case CT_UNION:
    if (lua_type(L, 2) == LUA_TSTRING &&
        cdata_field(L, S, id, p, 1, wr, cd->flags & CDF_CONST))
      return !wr;
    break;
  case CT_COMPLEX: {
    ptrdiff_t off = cdata_complexkey(L, ct);
    if (off < 0)
      break;
    if (!wr) {
      cconv_tolua(L, S, cdata_complexelem(ct), p + off, 0);
      return 1;
    }
    if (cd->flags & CDF_CONST)
      cdata_errconst(L);
    cconv_tocdata(L, S, cdata_complexelem(ct), p + off, 3, 0);
    return 0;
  }
  default:
    break;
  }
  r = cdata_metaindex(L, S, id, wr ? 3 : 2);
  if (r >= 0)
    return r;
  return cdata_errkey(L, S, id);
}

static int cdata_mm_index(lua_State *L) { return cdata_access(L, 0); }
static int cdata_mm_newindex(lua_State *L) { return cdata_access(L, 1); }


/* ---------------------------------------------------------------------
** Other metamethods
** --------------------------------------------------------------------- */

static int cdata_mm_len(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CData *cd = cdata_self(L);
  const CType *ct = ctype_get(S, cd->id);
  if (ct->kind == CT_ARRAY || ct->kind == CT_VECTOR) {
    int64_t n = ct->kind == CT_VECTOR ? cdata_veclen(S, ct) : cdata_arraylen(L, S, cd, 1);
    if (n >= 0) {
      lua_pushinteger(L, (lua_Integer)n);
      return 1;
    }
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
                      cconv_typename(L, S, 1, n1, sizeof n1));
  }
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
    CTypeID eid = cdata_complexelem(ct);
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
  if (ctype_isrecord(ct) && cdata_metaindex(L, S, id, 2) >= 0)
    return 1;
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

/* A length argument: a non-negative integer. */
static size_t cdata_checklen(lua_State *L, CTState *S, int idx) {
  int64_t n = cdata_checkint(L, S, idx);
  if (n < 0)
    luaL_argerror(L, idx, "non-negative length expected");
  return (size_t)n;
}

/* Raise unless len bytes fit in an object (what) of max bytes, when its
** extent is known. */
static void cdata_checkfit(lua_State *L, size_t len, size_t max, const char *what) {
  if (max != (size_t)-1 && len > max)
    luaL_error(L, "length %I out of range for a %I-byte %s",
               (lua_Integer)len, (lua_Integer)max, what);
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
    len = cdata_checklen(L, S, 2);
    if (len > 0 && p == NULL)
      return cdata_errnull(L);
    cdata_checkfit(L, len, max, "object");
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
    cconv_tocdata(L, S, CTID_CVOIDP, (void *)&src, 2, CCF_NARG(2));
    len = cdata_checklen(L, S, 3);
    if (lua_type(L, 2) == LUA_TSTRING && len > lua_rawlen(L, 2) + 1)
      return luaL_argerror(L, 3, "length exceeds the string");
    cdata_checkfit(L, len, smax, "source");
  }
  if (len == 0)
    return 0;
  if (dst == NULL || src == NULL)
    return cdata_errnull(L);
  cdata_checkfit(L, len, dmax, "destination");
  memmove(dst, src, len);
  return 0;
}

int cdata_ffi_fill(lua_State *L, CTState *S) {
  void *dst = NULL;
  size_t dmax = cdata_extent(L, S, 1), len;
  int c;
  cconv_tocdata(L, S, CTID_VOIDP, &dst, 1, CCF_NARG(1));
  len = cdata_checklen(L, S, 2);
  c = lua_isnoneornil(L, 3) ? 0 : (int)(cdata_checkint(L, S, 3) & 0xff);
  if (len == 0)
    return 0;
  if (dst == NULL)
    return cdata_errnull(L);
  cdata_checkfit(L, len, dmax, "destination");
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
    case CT_COMPLEX:
      cconv_tolua(L, S, cdata_complexelem(ct), cdata_ptr(cd), 0);
      return 1;
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
  {"__len", cdata_mm_len},
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

#define CDATA_MTOPS  1   /* also carith.c's operators */
#define CDATA_MTGC   2   /* also __gc */

/* Fill the registry table k with funcs (upvalue: the state userdata). */
static const void *cdata_fillmt(lua_State *L, CTState *S, int k, int stateidx,
                                const luaL_Reg *funcs, const char *name,
                                unsigned flags) {
  const void *p;
  cffi_pushtable(L, S, k);
  lua_pushvalue(L, stateidx);
  luaL_setfuncs(L, funcs, 1);
  if (flags & CDATA_MTOPS)
    carith_open(L, stateidx);
  if (flags & CDATA_MTGC) {
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
  S->cdmt = cdata_fillmt(L, S, CFFI_T_CDMT, stateidx, cdata_meta, "cdata",
                         CDATA_MTOPS);
  S->cdmtgc = cdata_fillmt(L, S, CFFI_T_CDMTGC, stateidx, cdata_meta, "cdata",
                           CDATA_MTOPS | CDATA_MTGC);
  S->ctmt = cdata_fillmt(L, S, CFFI_T_CTMT, stateidx, cdata_ctmeta, "ctype", 0);
  return 0;
}
