/*
** cdata.c: the cdata userdata (allocation, indexing, finalisers,
** metatype dispatch) and the ffi.* functions that create and inspect
** cdata.  ctype objects and type arguments are ctypeobj.c's, conversions
** cconv.c's, arithmetic and comparison carith.c's.
*/
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cffi.h"

#define CDATA_HDR        sizeof(CData)
#define CDATA_MAXALIGN   128u    /* larger alignments are capped */

typedef char cdata_hdr_check[(sizeof(CData) == 8) ? 1 : -1];

/* Indexing is a hot path: its shared body is inlined into __index and
** __newindex, each specialised for its constant `wr`, not called. */
#define CDATA_INLINE  static inline __attribute__((always_inline))

/* Is this a type whose instances a cdata holds by address (references)? */
#define cdata_isref_kind(ct) \
  (ctype_isrecord(ct) || (ct)->kind == CT_ARRAY)

/* What S->cdref holds: registry references with integer keys, so a hot
** path reaches a table with one lua_rawgeti instead of a light-userdata
** hash lookup (cffi_pushtable).  The CFFI_T_ tables stay where they are;
** these are second references to the same objects. */
enum {
  CDATA_R_CDMT, CDATA_R_CDMTGC, CDATA_R_METATYPES,
  CDATA_R__N
};
typedef char cdata_ref_check[(CDATA_R__N <= sizeof(((CTState *)0)->cdref) /
                              sizeof(int)) ? 1 : -1];

#define cdata_pushref(L, S, r)  lua_rawgeti((L), LUA_REGISTRYINDEX, (S)->cdref[r])


/* ---------------------------------------------------------------------
** Allocation and identity
** --------------------------------------------------------------------- */

static void cdata_setmt(lua_State *L, CTState *S, int gc) {
  cdata_pushref(L, S, gc ? CDATA_R_CDMTGC : CDATA_R_CDMT);
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
  cdata_pushref(L, S, CDATA_R_METATYPES);
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

/* A cdata whose type needs more than 8-byte alignment. */
static CData *cdata_newaligned(lua_State *L, CTState *S, CTypeID id,
                               size_t size) {
  const CType *ct = ctype_get(S, id);
  size_t align = ct->align > 8 ? ct->align : 0, extra, off = CDATA_HDR;
  int meta = (ct->flags & CTF_METATYPE) != 0;   /* ct may move: a finalizer
                                                   can run in the allocation */
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
  switch (size) {              /* the common small sizes: inline stores */
  case 4: memset(ud + off, 0, 4); break;
  case 8: memset(ud + off, 0, 8); break;
  case 16: memset(ud + off, 0, 16); break;
  default: memset(ud + off, 0, size); break;
  }
  cdata_setmt(L, S, meta && cdata_hasgc(L, S, id));
  return cd;
}

CData *cdata_new(lua_State *L, CTState *S, CTypeID id, size_t size) {
  const CType *ct = ctype_get(S, id);
  int meta = (ct->flags & CTF_METATYPE) != 0;   /* ct is not read after the
                                                   allocation (a finalizer
                                                   may run in it) */
  CData *cd;
  if (ct->align > 8)
    return cdata_newaligned(L, S, id, size);
  if (size > (size_t)-1 / 2 - CDATA_HDR)
    luaL_error(L, "not enough memory");
  cd = (CData *)lua_newuserdatauv(L, CDATA_HDR + size, 0);
  cd->id = id;
  cd->flags = 0;
  cd->off = (uint8_t)CDATA_HDR;
  cd->pad_ = 0;
  switch (size) {              /* the common small sizes: inline stores */
  case 4: memset(cd + 1, 0, 4); break;
  case 8: memset(cd + 1, 0, 8); break;
  case 16: memset(cd + 1, 0, 16); break;
  default: memset(cd + 1, 0, size); break;
  }
  cdata_setmt(L, S, meta && cdata_hasgc(L, S, id));
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

/* cdata_test of the full userdata at idx. */
CDATA_INLINE CData *cdata_testud(lua_State *L, CTState *S, int idx) {
  const void *mt;
  if (!lua_getmetatable(L, idx))
    return NULL;
  mt = lua_topointer(L, -1);
  lua_pop(L, 1);
  return (mt == S->cdmt || mt == S->cdmtgc) ? (CData *)lua_touserdata(L, idx) : NULL;
}

/* cdata_test of the function at idx: a library function's cdata. */
static __attribute__((noinline)) CData *cdata_testfunc(lua_State *L, CTState *S,
                                                       int idx) {
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

CData *cdata_test(lua_State *L, CTState *S, int idx) {
  switch (lua_type(L, idx)) {
  case LUA_TUSERDATA:
    return cdata_testud(L, S, idx);
  case LUA_TFUNCTION:
    return cdata_testfunc(L, S, idx);
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

/* The cdata a metamethod was called on (slot 1).  Lua passes one, but
** debug.getmetatable hands the metamethods to anyone: the metatable is
** checked by pointer.  It is left on the stack, above the arguments (one
** API call less on the indexing hot path): the metamethods address their
** arguments by absolute slot and return results from the top. */
CDATA_INLINE CData *cdata_self(lua_State *L, CTState *S) {
  const void *mt;
  CData *cd;
  if (lua_getmetatable(L, 1) &&
      ((mt = lua_topointer(L, -1)) == S->cdmt || mt == S->cdmtgc) &&
      (cd = (CData *)lua_touserdata(L, 1)) != NULL)   /* not a table given it */
    return cd;
  luaL_typeerror(L, 1, "cdata");
  return NULL;
}

/* Is the size of type id unknown: incomplete, void, a function, or an
** array (of arrays) of such elements?  `enum nosuch[3]` has a count but
** no size, and its elements would be read as ints.  VLA / VLS are not:
** their size comes with the instance. */
int cdata_unsized(CTState *S, CTypeID id) {
  const CType *ct = ctype_get(S, id);
  for (;;) {
    if ((ct->flags & CTF_INCOMPLETE) || ct->kind == CT_VOID || ct->kind == CT_FUNC)
      return 1;
    if (ct->kind != CT_ARRAY)
      return 0;
    ct = ctype_get(S, ct->child);
  }
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
** Indexing
** --------------------------------------------------------------------- */

static int cdata_errconst(lua_State *L) {
  return luaL_error(L, "attempt to write to constant location");
}

static int cdata_errnull(lua_State *L) {
  return luaL_error(L, "NULL pointer dereference");
}

int cdata_errmember(lua_State *L, CTState *S, CTypeID id, int key) {
  char tb[160];
  ctype_repr(S, id, tb, sizeof tb);
  if (lua_type(L, key) == LUA_TSTRING)
    return luaL_error(L, "'%s' has no member named '%s'", tb, lua_tostring(L, key));
  return luaL_error(L, "'%s' cannot be indexed with '%s'", tb, luaL_typename(L, key));
}

int cdata_intkey(lua_State *L, CTState *S, int idx, int64_t *out) {
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

/*
** Reads and writes of plain integers (CT_INT, 1..8 bytes) and of float /
** double, inline on the indexing paths, with cconv's own helpers (so the
** rules stay cconv's); they answer 0 for everything else, which then goes
** through cconv_tolua / cconv_tocdata.
*/
CDATA_INLINE int cdata_pushnum(lua_State *L, const CType *t, const void *p) {
  int cls = cconv_numclass(t);
  if (cls == CCS_OTHER) return 0;
  return cconv_pushreg(L, cls, cconv_loadreg(cls, p));
}

/* The value at slot idx into the integer or double at p: a Lua integer for
** an integer, any Lua number for a double (see above). */
CDATA_INLINE int cdata_setnum(lua_State *L, const CType *t, void *p, int idx) {
  int cls = cconv_numclass(t);
  uint64_t u;
  if (!(cls <= CCS_U64 || cls == CCS_DOUBLE) || !cconv_fastreg(L, cls, idx, &u))
    return 0;
  cconv_storereg(cls, p, u);
  return 1;
}

/* Push the element of type eid at addr: aggregates as references. */
static void cdata_pushelem(lua_State *L, CTState *S, CTypeID eid, char *addr,
                           int parent, unsigned cflags) {
  const CType *et = ctype_get(S, eid);
  if (cdata_isref_kind(et))
    cdata_newref(L, S, eid, addr, parent, cflags & CDF_CONST);
  else if (!cdata_pushnum(L, et, addr))
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
  } else if (!cdata_pushnum(L, ft, base + f->offset)) {
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
  } else if (!cdata_setnum(L, ft, base + f->offset, 3)) {
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

/*
** Metatype __index / __newindex after the C-level lookup failed.  Runs in
** the __index / __newindex closures, whose upvalue 2 is the METATYPES
** table and upvalue 3 the key ("__index" / "__newindex"): a miss costs two
** raw gets.  The metatable is read each time (it is the user's table).
** What it leaves under its results on the stack does not matter: the
** metamethod returns its results from the top.
*/
#define CDATA_UV_METATYPES  lua_upvalueindex(2)
#define CDATA_UV_KEY        lua_upvalueindex(3)

static int cdata_metaindex(lua_State *L, CTState *S, CTypeID id, int nargs) {
  const CType *ct = ctype_get(S, id);
  if (ct->kind == CT_PTR) {
    id = ct->child;
    ct = ctype_get(S, id);
  }
  if (!ctype_isrecord(ct) || !(ct->flags & CTF_METATYPE) ||
      lua_rawgeti(L, CDATA_UV_METATYPES, (lua_Integer)id) != LUA_TTABLE)
    return -1;
  lua_pushvalue(L, CDATA_UV_KEY);
  if (lua_rawget(L, -2) == LUA_TNIL)
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
    if (et->size == 0 && !cdata_isref_kind(et)) {   /* `enum nosuch[3]` */
      char tb[160];
      luaL_error(L, "cannot index '%s': size of the element is unknown",
                 ctype_repr(S, cd->id, tb, sizeof tb));
    }
    cdata_bounds(L, S, cd->id, i, n);
  }
  p = carith_offset(p, i, et->size);
  if (wr) {
    if (!cdata_setnum(L, et, p, 3))
      cconv_tocdata(L, S, ct->child, p, 3, 0);
  } else
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
  CData *cd = cdata_self(L, S);
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
  CData *cd = cdata_self(L, S);
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
  CData *cd = cdata_self(L, S);
  const CType *ct = ctype_get(S, cd->id);
  lua_pop(L, 1);                   /* the arguments are 2..top */
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
  CData *cd = cdata_self(L, S);
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
  CData *cd = cdata_self(L, S);
  if (cdata_getmm(L, S, cd->id, "__close")) {
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 0);
  }
  return 0;
}

/* The ffi.gc finalizer if one is registered (false: removed), else the
** metatype's __gc for struct/union values.  Runs once: the entry goes.
** Nothing once the state is gone (a finalizer must not raise). */
static int cdata_mm_gc(lua_State *L) {
  CTState *S = cffi_upstate_raw(L);
  CData *cd;
  if (S == NULL)
    return 0;
  cd = cdata_self(L, S);
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

static int cdata_errsize(lua_State *L, CTState *S, CTypeID id) {
  char tb[160];
  return luaL_error(L, "size of C type is unknown or too large: '%s'",
                    ctype_repr(S, id, tb, sizeof tb));
}

/* A C++ reference made by ffi.new / ffi.cast must refer to something:
** conversions follow a reference without testing it. */
static void cdata_checkref(lua_State *L, CTState *S, CTypeID id, const CData *cd) {
  void *p = NULL;
  if (cd != NULL)
    memcpy(&p, cdata_payload(cd), sizeof p);
  if (p == NULL) {
    char tb[160];
    luaL_error(L, "cannot create a NULL reference '%s'",
               ctype_repr(S, id, tb, sizeof tb));
  }
}

int cdata_newof(lua_State *L, CTState *S, CTypeID id) {
  const CType *ct = ctype_get(S, id);
  int top = lua_gettop(L), first = 2, n;
  int isref = ct->kind == CT_REF;  /* ct is not read after the allocation */
  size_t size = ct->size;
  CData *cd;
  if (cdata_unsized(S, id))
    return cdata_errsize(L, S, id);
  if (ct->flags & CTF_VLA) {
    int64_t ne;
    if (!cdata_intkey(L, S, 2, &ne))
      return cffi_typeerror(L, 2, "new", "size of VLA");
    size = ne < 0 ? (size_t)-1 : ctype_vlsize(S, id, (size_t)ne);
    if (size == (size_t)-1)
      return cdata_errsize(L, S, id);
    first = 3;
  }
  n = top >= first ? top - first + 1 : 0;
  if (n == 1 && ctype_isfuncptr(S, id) && cdata_isfuncarg(L, S, first)) {
    ccallback_new(L, S, id, first);
    return 1;
  }
  if (isref && n == 0)
    cdata_checkref(L, S, id, NULL);
  cd = cdata_new(L, S, id, size);
  if (n > 0)                       /* else zero-filled is all */
    cconv_init(L, S, id, cdata_payload(cd), size, first, n);
  if (isref)
    cdata_checkref(L, S, id, cd);
  return 1;
}

int cdata_ffi_new(lua_State *L, CTState *S) {
  return cdata_newof(L, S, ctypeobj_check(L, S, 1, NULL, "new"));
}

/* ffi.cast of the commonest values, with exactly cconv's result: a Lua
** integer to an integer or pointer type, a pointer cdata to a pointer
** type (a cast takes any pointer).  Pushes the result and returns 1, or
** returns 0 with nothing pushed. */
static int cdata_fastcast(lua_State *L, CTState *S, CTypeID id, int t) {
  const CType *ct = ctype_get(S, id);
  size_t size = ct->size;
  int isptr = ct->kind == CT_PTR;  /* ct is not read after an allocation */
  CData *nd;
  void *p;
  if (t == LUA_TNUMBER) {
    int isint;
    lua_Integer i;
    if (!(isptr || (ct->kind == CT_INT && size <= 8 && (size & (size - 1)) == 0)))
      return 0;
    i = lua_tointegerx(L, 2, &isint);
    if (!isint)
      return 0;                    /* floats: cconv's rounding rules */
    nd = cdata_new(L, S, id, size);
    p = cdata_payload(nd);
    if (isptr) {
      void *v = (void *)(uintptr_t)i;
      memcpy(p, &v, sizeof v);
    } else {
      cconv_storereg(cconv_numclass(ct), p, (uint64_t)i);
    }
    return 1;
  }
  if (t == LUA_TUSERDATA && isptr) {
    CData *cd = cdata_testud(L, S, 2);
    void *v;
    if (cd == NULL || ctype_get(S, cd->id)->kind != CT_PTR)
      return 0;
    if (cd->id == id && !(cd->flags & CDF_REF)) {
      lua_settop(L, 2);            /* already of that type: itself */
      return 1;
    }
    memcpy(&v, cdata_ptr(cd), sizeof v);
    nd = cdata_new(L, S, id, sizeof v);   /* cd stays alive on slot 2 */
    p = cdata_payload(nd);
    memcpy(p, &v, sizeof v);
    return 1;
  }
  return 0;
}

/* Can the value at idx convert to type id under a cast, as far as the
** kinds go?  Asked before the object is made, so that a huge aggregate is
** not allocated (and zero-filled) only to fail: for arrays, records and
** vectors, a necessary condition of cconv's rules (a table; a string for
** a char array; a cdata array of the same size, or a cdata of the very
** type).  cconv still decides. */
static int cdata_castable(lua_State *L, CTState *S, CTypeID id, int idx) {
  const CType *ct = ctype_get(S, id), *st;
  CTypeID sid;
  CData *cd;
  if (!ctype_isrecord(ct) && ct->kind != CT_ARRAY && ct->kind != CT_VECTOR)
    return 1;                      /* small: cconv decides */
  switch (lua_type(L, idx)) {
  case LUA_TTABLE:
    return 1;
  case LUA_TSTRING:
    return ct->kind == CT_ARRAY;
  case LUA_TUSERDATA: case LUA_TFUNCTION:
    break;
  default:
    return 0;
  }
  if ((cd = cdata_test(L, S, idx)) == NULL)
    return 0;
  sid = cd->id;
  st = ctype_get(S, sid);
  if (st->kind == CT_REF) {        /* stands for its object */
    sid = st->child;
    st = ctype_get(S, sid);
  }
  if (ct->kind == CT_ARRAY)
    return st->kind == CT_ARRAY && st->size == ct->size;
  return sid == id;
}

int cdata_ffi_cast(lua_State *L, CTState *S) {
  CTypeID id = ctypeobj_check(L, S, 1, NULL, "cast");
  const CType *ct;
  CData *cd;
  int isref;
  int t = lua_type(L, 2);
  if (t == LUA_TNONE)
    luaL_checkany(L, 2);
  if ((t == LUA_TNUMBER || t == LUA_TUSERDATA) && cdata_fastcast(L, S, id, t))
    return 1;
  ct = ctype_get(S, id);
  if (ctype_isfuncptr(S, id) && cdata_isfuncarg(L, S, 2)) {
    ccallback_new(L, S, id, 2);
    return 1;
  }
  if ((ct->flags & CTF_VLA) || cdata_unsized(S, id) || !cdata_castable(L, S, id, 2))
    return cconv_error(L, S, id, 2, 0);
  cd = cdata_test(L, S, 2);
  if (cd != NULL && cd->id == id && !(cd->flags & CDF_REF) && lua_type(L, 2) == LUA_TUSERDATA) {
    lua_settop(L, 2);               /* already of that type: itself */
    return 1;
  }
  isref = ct->kind == CT_REF;       /* ct is not read after the allocation */
  cd = cdata_new(L, S, id, ct->size);
  cconv_tocdata(L, S, id, cdata_payload(cd), 2, CCF_CAST);
  if (isref)
    cdata_checkref(L, S, id, cd);
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

/* Bytes from address p to the end of the memory the reference cdata at
** idx lives in, when that is a cdata's own: its parents (user value 1)
** are followed up to the cdata that owns the memory.  (size_t)-1 when the
** memory is not a cdata's (read through a pointer, a library variable) or
** p lies outside it (an unbounded index into a flexible member). */
static size_t cdata_room(lua_State *L, CTState *S, int idx, const void *p) {
  int top = lua_gettop(L);
  size_t room = (size_t)-1;
  lua_pushvalue(L, idx);
  while (lua_getiuservalue(L, -1, 1) == LUA_TUSERDATA) {
    CData *pd = cdata_testud(L, S, -1);
    if (pd == NULL)
      break;
    if (!(pd->flags & CDF_REF)) {
      uintptr_t a = (uintptr_t)p, b = (uintptr_t)cdata_payload(pd);
      size_t sz = cdata_size(L, -1);
      if (a >= b && a - b <= sz)
        room = sz - (size_t)(a - b);
      break;
    }
  }
  lua_settop(L, top);
  return room;
}

/* Bytes the cdata cd at idx can be read or written through, or (size_t)-1
** when not known (pointers, arrays of unknown length outside a cdata's
** memory).  An array or record that owns its memory: its size (VLA and
** VLS instances included); a reference: its type's size (a VLS / flexible
** struct: the fixed part), never past the end of its parent's memory. */
static size_t cdata_extentof(lua_State *L, CTState *S, CData *cd, int idx) {
  const CType *ct = ctype_get(S, cd->id);
  size_t ext;
  if (ct->kind == CT_REF) {        /* a C++ reference: its object's type */
    CTypeID oid = ct->child;
    ct = ctype_get(S, oid);
    return (ct->kind == CT_ARRAY || ctype_isrecord(ct)) && !(ct->flags & CTF_VLA) &&
           !cdata_unsized(S, oid) ? ct->size : (size_t)-1;
  }
  if (ct->kind == CT_ARRAY) {
    int64_t n;
    if (!(cd->flags & CDF_REF))
      return cdata_size(L, idx);
    n = cdata_arraylen(L, S, cd, idx);
    ext = n < 0 ? (size_t)-1 : (size_t)n * ctype_get(S, ct->child)->size;
  } else if (ctype_isrecord(ct)) {
    if (!(cd->flags & CDF_REF))
      return cdata_size(L, idx);
    ext = ct->size;
  } else {
    return (size_t)-1;
  }
  {
    size_t room = cdata_room(L, S, idx, cdata_ptr(cd));
    return room < ext ? room : ext;
  }
}

static size_t cdata_extent(lua_State *L, CTState *S, int idx) {
  CData *cd = lua_type(L, idx) == LUA_TUSERDATA ? cdata_testud(L, S, idx) : NULL;
  return cd != NULL ? cdata_extentof(L, S, cd, idx) : (size_t)-1;
}

/* The destination of ffi.copy / ffi.fill (slot 1) as a `void *`, and its
** extent (*max, as cdata_extent): never a function or a function pointer
** (that would write into code). */
static void *cdata_dest(lua_State *L, CTState *S, size_t *max) {
  void *dst = NULL;
  CData *cd = cdata_test(L, S, 1);
  *max = (size_t)-1;
  if (cd != NULL) {
    const CType *ct = ctype_get(S, cd->id);
    if (ct->kind == CT_FUNC ||
        ((ct->kind == CT_PTR || ct->kind == CT_REF) &&
         ctype_get(S, ct->child)->kind == CT_FUNC))
      cconv_error(L, S, CTID_VOIDP, 1, CCF_NARG(1));
    if (lua_type(L, 1) == LUA_TUSERDATA)
      *max = cdata_extentof(L, S, cd, 1);
  }
  cconv_tocdata(L, S, CTID_VOIDP, &dst, 1, CCF_NARG(1));
  return dst;
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

/* The address and extent (as cdata_extent) of an array or pointer cdata
** for ffi.string: what cconv gives converting it to `const void *`, without
** a second cdata_test.  0 for other cdata and volatile elements (cconv
** refuses to drop that qualifier). */
static int cdata_strsrc(lua_State *L, CTState *S, CData *cd, const char **p,
                        size_t *max) {
  const CType *ct = ctype_get(S, cd->id);
  if (ct->flags & CTF_VOLATILE)
    return 0;
  if (ct->kind == CT_PTR) {
    memcpy(p, cdata_ptr(cd), sizeof *p);
    *max = (size_t)-1;
    return 1;
  }
  if (ct->kind == CT_ARRAY) {
    *p = (const char *)cdata_ptr(cd);
    *max = cdata_extentof(L, S, cd, 1);
    return 1;
  }
  return 0;
}

int cdata_ffi_string(lua_State *L, CTState *S) {
  const char *p = NULL;
  size_t len, max;
  CData *cd = lua_type(L, 1) == LUA_TUSERDATA ? cdata_testud(L, S, 1) : NULL;
  if (cd == NULL || !cdata_strsrc(L, S, cd, &p, &max)) {
    max = cdata_extent(L, S, 1);
    cconv_tocdata(L, S, CTID_CVOIDP, (void *)&p, 1, CCF_NARG(1));
  }
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
  size_t len, dmax, smax;
  void *dst = cdata_dest(L, S, &dmax);
  const void *src = NULL;
  if (lua_isnoneornil(L, 3)) {
    if (lua_type(L, 2) != LUA_TSTRING)
      return luaL_typeerror(L, 3, "integer");
    src = lua_tolstring(L, 2, &len);
    len++;                          /* the string and its NUL */
  } else {
    smax = cdata_extent(L, S, 2);
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
  size_t dmax, len;
  void *dst = cdata_dest(L, S, &dmax);
  int c;
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
  for (; funcs->name != NULL; funcs++)    /* see cdata_metaindex */
    if (strcmp(funcs->name, "__index") == 0 ||
        strcmp(funcs->name, "__newindex") == 0) {
      lua_pushvalue(L, stateidx);
      cffi_pushtable(L, S, CFFI_T_METATYPES);
      lua_pushstring(L, funcs->name);
      lua_pushcclosure(L, funcs->func, 3);
      lua_setfield(L, -2, funcs->name);
    }
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

/* A registry reference to the value on top (popped). */
static void cdata_ref(lua_State *L, CTState *S, int r) {
  S->cdref[r] = luaL_ref(L, LUA_REGISTRYINDEX);
}

int cdata_open(lua_State *L, CTState *S, int stateidx) {
  stateidx = lua_absindex(L, stateidx);
  S->cdmt = cdata_fillmt(L, S, CFFI_T_CDMT, stateidx, cdata_meta, "cdata",
                         CDATA_MTOPS);
  S->cdmtgc = cdata_fillmt(L, S, CFFI_T_CDMTGC, stateidx, cdata_meta, "cdata",
                           CDATA_MTOPS | CDATA_MTGC);
  cffi_pushtable(L, S, CFFI_T_CDMT);
  cdata_ref(L, S, CDATA_R_CDMT);
  cffi_pushtable(L, S, CFFI_T_CDMTGC);
  cdata_ref(L, S, CDATA_R_CDMTGC);
  cffi_pushtable(L, S, CFFI_T_METATYPES);
  cdata_ref(L, S, CDATA_R_METATYPES);
  return 0;
}
