/*
** cconv.c: every conversion between a Lua value and a C value, by C type.
** Nothing else in the module converts: ccall.c, ccallback.c and cdata.c
** call in here, so each rule lives in exactly one place.
**
** Functions and Lua functions: cconv_tocdata turns a Lua function into an
** implicit callback (ccallback_implicit) in every context.  ffi.cast and
** ffi.new of a function pointer type with a Lua function do not come here:
** cdata.c makes an explicit callback (ccallback_new) for them.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cffi.h"

#define CCONV_UNKNOWN  ((size_t)-1)   /* instance size not known */
/* Nesting of table initialisers (and of transparent members) followed:
** the recursion is on the C stack, and a chain of typedefs makes a type
** as deep as one likes. */
#define CCONV_MAXDEPTH 200

/* A scalar on its way between two C representations. */
enum { CV_INT, CV_UINT, CV_FLT };
typedef struct CVal {
  int kind;            /* CV_INT (any int that fits int64), CV_UINT (uint64), CV_FLT */
  int64_t i;
  double d;
} CVal;

static void cconv_table(lua_State *L, CTState *S, CTypeID id, char *dst,
                        size_t size, int idx, unsigned flags, const char *fn,
                        int depth);


/* ---------------------------------------------------------------------
** Errors
** --------------------------------------------------------------------- */

static int cconv_raise(lua_State *L, const char *msg, unsigned flags,
                       const char *fn) {
  int narg = CCF_GETNARG(flags);
  if (narg > 0 && fn != NULL)       /* the C function's own name */
    return luaL_error(L, "bad argument #%d to '%s' (%s)", narg, fn, msg);
  if (narg > 0)
    return luaL_argerror(L, narg, msg);
  return luaL_error(L, "%s", msg);
}

static int cconv_isctype(lua_State *L, CTState *S, int idx) {
  int r = 0;
  if (lua_type(L, idx) == LUA_TUSERDATA && lua_getmetatable(L, idx)) {
    r = lua_topointer(L, -1) == S->ctmt;
    lua_pop(L, 1);
  }
  return r;
}

const char *cconv_typename(lua_State *L, CTState *S, int idx, char *buf,
                           size_t n) {
  char tb[160];
  CData *cd = cdata_test(L, S, idx);
  if (cd != NULL) {
    snprintf(buf, n, "cdata<%s>", ctype_repr(S, cd->id, tb, sizeof tb));
  } else if (cconv_isctype(L, S, idx)) {
    CTypeID id = *(CTypeID *)lua_touserdata(L, idx);
    snprintf(buf, n, "ctype<%s>", ctype_repr(S, id, tb, sizeof tb));
  } else {
    snprintf(buf, n, "%s", luaL_typename(L, idx));
  }
  return buf;
}

static int cconv_err(lua_State *L, CTState *S, CTypeID to, int idx,
                     unsigned flags, const char *fn) {
  char from[200], tb[160], msg[400];
  cconv_typename(L, S, idx, from, sizeof from);
  ctype_repr(S, to, tb, sizeof tb);
  snprintf(msg, sizeof msg, "cannot convert '%s' to '%s'", from, tb);
  return cconv_raise(L, msg, flags, fn);
}

int cconv_error(lua_State *L, CTState *S, CTypeID to, int idx, unsigned flags) {
  return cconv_err(L, S, to, idx, flags, NULL);
}

int cconv_argerror(lua_State *L, CTState *S, CTypeID to, int idx, unsigned flags,
                   const char *fname) {
  return cconv_err(L, S, to, idx, flags, fname);
}

/* The same, when the source is a C value and not a stack slot. */
static int cconv_cerror(lua_State *L, CTState *S, CTypeID to, CTypeID from,
                        unsigned flags, const char *fn) {
  char fb[160], tb[160], msg[400];
  ctype_repr(S, from, fb, sizeof fb);
  ctype_repr(S, to, tb, sizeof tb);
  snprintf(msg, sizeof msg, "cannot convert 'cdata<%s>' to '%s'", fb, tb);
  return cconv_raise(L, msg, flags, fn);
}

static int cconv_toomany(lua_State *L, CTState *S, CTypeID id, unsigned flags,
                         const char *fn) {
  char tb[160], msg[300];
  snprintf(msg, sizeof msg, "too many initializers for '%s'",
           ctype_repr(S, id, tb, sizeof tb));
  return cconv_raise(L, msg, flags, fn);
}


/* ---------------------------------------------------------------------
** Raw loads and stores (memcpy: members of packed structs are unaligned)
** --------------------------------------------------------------------- */

/* C truncation toward zero; values outside int64 wrap modulo 2^64 (so
** 2^63..2^64-1 give the uint64_t bits), NaN and infinities give 0. */
static int64_t cconv_d2i(double d) {
  const double two63 = 9223372036854775808.0, two64 = 18446744073709551616.0;
  if (d >= -two63 && d < two63)
    return (int64_t)d;
  if (d != d)
    return 0;
  if (d >= two63 && d < two64)
    return (int64_t)(uint64_t)d;
  d = fmod(d, two64);
  if (d != d)
    return 0;
  if (d < 0)
    d += two64;
  if (d >= two64)
    return 0;
  return d >= two63 ? (int64_t)(uint64_t)d : (int64_t)d;
}

/* Size and signedness of an integer-like type (int, bool, enum). */
static size_t cconv_isize(CTState *S, const CType *ct, int *issigned) {
  if (ct->kind == CT_ENUM) {
    if (ct->child != 0) {
      const CType *u = ctype_get(S, ct->child);
      *issigned = !(u->flags & CTF_UNSIGNED);
      return u->size;
    }
    *issigned = !(ct->flags & CTF_UNSIGNED);
    return ct->size ? ct->size : 4;
  }
  *issigned = ct->kind == CT_INT && !(ct->flags & CTF_UNSIGNED);
  return ct->size;
}

static void cconv_putint(void *dst, size_t sz, uint64_t v) {
  switch (sz) {
  case 1: { uint8_t x = (uint8_t)v; memcpy(dst, &x, 1); break; }
  case 2: { uint16_t x = (uint16_t)v; memcpy(dst, &x, 2); break; }
  case 4: { uint32_t x = (uint32_t)v; memcpy(dst, &x, 4); break; }
  case 8: memcpy(dst, &v, 8); break;
  default: break;
  }
}

static uint64_t cconv_getint(const void *src, size_t sz, int issigned) {
  switch (sz) {
  case 1: { uint8_t x; memcpy(&x, src, 1);
    return issigned ? (uint64_t)(int64_t)(int8_t)x : x; }
  case 2: { uint16_t x; memcpy(&x, src, 2);
    return issigned ? (uint64_t)(int64_t)(int16_t)x : x; }
  case 4: { uint32_t x; memcpy(&x, src, 4);
    return issigned ? (uint64_t)(int64_t)(int32_t)x : x; }
  case 8: { uint64_t x; memcpy(&x, src, 8); return x; }
  default: return 0;
  }
}

static void cconv_putflt(void *dst, size_t sz, double d) {
  if (sz == sizeof(float)) {
    float f = (float)d;
    memcpy(dst, &f, sizeof f);
  } else if (sz == sizeof(double)) {
    memcpy(dst, &d, sizeof d);
  } else if (sz >= sizeof(long double)) {
    long double ld = d;
    memcpy(dst, &ld, sizeof ld);
  }
}

static double cconv_getflt(const void *src, size_t sz) {
  if (sz == sizeof(float)) {
    float f;
    memcpy(&f, src, sizeof f);
    return f;
  } else if (sz == sizeof(double)) {
    double d;
    memcpy(&d, src, sizeof d);
    return d;
  } else if (sz >= sizeof(long double)) {
    long double ld;
    memcpy(&ld, src, sizeof ld);
    return (double)ld;
  }
  return 0;
}

/* Load a numeric C value (complex: its real part).  0 if not numeric. */
static int cconv_load(CTState *S, const CType *ct, const void *src, CVal *v) {
  switch (ct->kind) {
  case CT_INT: case CT_ENUM: {
    int sg;
    size_t sz = cconv_isize(S, ct, &sg);
    v->i = (int64_t)cconv_getint(src, sz, sg);
    v->kind = (!sg && sz == 8) ? CV_UINT : CV_INT;
    return 1;
  }
  case CT_BOOL:
    v->kind = CV_INT;
    v->i = cconv_getint(src, ct->size, 0) != 0;
    return 1;
  case CT_FLOAT:
    v->kind = CV_FLT;
    v->d = cconv_getflt(src, ct->size);
    return 1;
  case CT_COMPLEX:
    v->kind = CV_FLT;
    v->d = cconv_getflt(src, ct->size / 2);
    return 1;
  default:
    return 0;
  }
}

static double cconv_vald(const CVal *v) {
  if (v->kind == CV_FLT) return v->d;
  if (v->kind == CV_UINT) return (double)(uint64_t)v->i;
  return (double)v->i;
}

/* Store a scalar into a numeric C type.  0 if the type is not numeric. */
static int cconv_store(CTState *S, const CType *ct, void *dst, const CVal *v) {
  switch (ct->kind) {
  case CT_INT: case CT_ENUM: {
    int sg;
    size_t sz = cconv_isize(S, ct, &sg);
    cconv_putint(dst, sz, v->kind == CV_FLT ? (uint64_t)cconv_d2i(v->d)
                                            : (uint64_t)v->i);
    return 1;
  }
  case CT_BOOL:
    cconv_putint(dst, ct->size, v->kind == CV_FLT ? v->d != 0 : v->i != 0);
    return 1;
  case CT_FLOAT:
    if (ct->size > sizeof(double) && v->kind != CV_FLT) {
      long double ld = v->kind == CV_UINT ? (long double)(uint64_t)v->i
                                          : (long double)v->i;
      memcpy(dst, &ld, sizeof ld);
    } else {
      cconv_putflt(dst, ct->size, cconv_vald(v));
    }
    return 1;
  case CT_COMPLEX: {
    size_t h = ct->size / 2;
    cconv_putflt(dst, h, cconv_vald(v));
    cconv_putflt((char *)dst + h, h, 0);
    return 1;
  }
  default:
    return 0;
  }
}

/* Address held or designated by a C value: pointers hold one; arrays,
** records and functions are one. */
static int cconv_addrof(const CType *ct, const void *src, void **p) {
  switch (ct->kind) {
  case CT_PTR:
    memcpy(p, src, sizeof *p);
    return 1;
  case CT_ARRAY: case CT_STRUCT: case CT_UNION: case CT_FUNC:
    *p = (void *)src;
    return 1;
  default:
    return 0;
  }
}

static void cconv_putptr(void *dst, const void *p) {
  memcpy(dst, &p, sizeof p);
}

/* An address into a pointer (or, under ffi.cast, an integer). */
static int cconv_storeaddr(CTState *S, const CType *ct, void *dst, void *p,
                           unsigned flags) {
  if (ct->kind == CT_PTR) {
    cconv_putptr(dst, p);
    return 1;
  }
  if ((flags & CCF_CAST) && ctype_isint(ct)) {
    CVal v;
    v.kind = CV_UINT;
    v.i = (int64_t)(uintptr_t)p;
    return cconv_store(S, ct, dst, &v);
  }
  return 0;
}

/* Bytes of a whole object of type ct, CCONV_UNKNOWN for VLA/VLS and `T[]`
** seen without an instance. */
static size_t cconv_objsize(const CType *ct) {
  if (ct->size == 0 && (ct->flags & (CTF_VLA | CTF_INCOMPLETE)))
    return CCONV_UNKNOWN;
  if ((ct->flags & CTF_VLA) && ctype_isrecord(ct))
    return CCONV_UNKNOWN;
  return ct->size;
}

/* Bytes of a record before its trailing VLA (what a table clears). */
static size_t cconv_fixedsize(CTState *S, const CType *ct) {
  if ((ct->flags & CTF_VLA) && ct->nfield > 0)
    return ctype_field(S, ct, ct->nfield - 1)->offset;
  return ct->size;
}

static int cconv_ischararray(CTState *S, const CType *ct) {
  const CType *e;
  if (ct->kind != CT_ARRAY) return 0;
  e = ctype_get(S, ct->child);
  return e->kind == CT_INT && e->size == 1;
}


/* ---------------------------------------------------------------------
** Pointer compatibility (LuaJIT's rules)
** --------------------------------------------------------------------- */

/* Pointee d (qualifiers dq) can receive pointee s (qualifiers sq):
** qualifiers may be added, not dropped; void matches anything at the top
** level (not nested: void ** is not int **); same-size integers match
** ignoring sign; enums are their underlying integer.  A loop, not a
** recursion: pointer chains can be as long as a type string. */
static int cconv_compat(CTState *S, CTypeID d, unsigned dq, CTypeID s,
                        unsigned sq, int nested) {
  const CType *dc, *sc;
  if (!nested && (sq & ~dq & CTF_QUALS))
    return 0;
  for (;;) {
    if (d == s)
      return 1;
    dc = ctype_get(S, d);
    sc = ctype_get(S, s);
    if (!nested && (dc->kind == CT_VOID || sc->kind == CT_VOID))
      return 1;
    if (dc->kind == CT_ENUM && dc->child) dc = ctype_get(S, dc->child);
    if (sc->kind == CT_ENUM && sc->child) sc = ctype_get(S, sc->child);
    if (dc == sc)
      return 1;
    if (dc->kind != sc->kind)
      return 0;
    switch (dc->kind) {
    case CT_INT: case CT_FLOAT: case CT_BOOL:
      return dc->size == sc->size;
    case CT_VOID:
      return 1;
    case CT_ARRAY:
      if (dc->count != sc->count || dc->size != sc->size)
        return 0;
      /* then the elements */
      /* fall through */
    case CT_PTR:
      d = dc->child;
      s = sc->child;
      nested = 1;
      break;
    default:
      return 0;
    }
  }
}


/* ---------------------------------------------------------------------
** C to C
** --------------------------------------------------------------------- */

/* The core of every cdata conversion.  src is the address of the source
** object (for a function: the function).  idx names the source in error
** messages (0: use sid).  squals: extra qualifiers of the source object
** (a reference to a const object). */
static void cconv_ct(lua_State *L, CTState *S, CTypeID did, void *dst,
                     CTypeID sid, const void *src, unsigned flags, int idx,
                     unsigned squals, const char *fn) {
  const CType *d = ctype_get(S, did), *s = ctype_get(S, sid);
  CVal v;
  void *p;
  if (s->kind == CT_REF) {          /* a C++ reference stands for its object */
    memcpy(&p, src, sizeof p);
    if (p == NULL)
      luaL_error(L, "NULL pointer dereference");
    src = p;
    squals |= s->flags & CTF_QUALS;
    sid = s->child;
    s = ctype_get(S, sid);
  }
  switch (d->kind) {
  case CT_INT: case CT_ENUM: case CT_BOOL: case CT_FLOAT:
    if (cconv_load(S, s, src, &v)) {
      cconv_store(S, d, dst, &v);
      return;
    }
    /* Under a cast, addresses become integers; a record's address only a
    ** pointer-sized one (ffi.cast("uintptr_t", s), never "int"). */
    if ((flags & CCF_CAST) && d->kind != CT_FLOAT &&
        (!ctype_isrecord(s) || d->size == sizeof(void *)) &&
        cconv_addrof(s, src, &p)) {
      cconv_storeaddr(S, d, dst, p, flags);
      return;
    }
    break;
  case CT_COMPLEX:
    if (s->kind == CT_COMPLEX) {
      size_t dh = d->size / 2, sh = s->size / 2;
      double re = cconv_getflt(src, sh), im = cconv_getflt((const char *)src + sh, sh);
      cconv_putflt(dst, dh, re);
      cconv_putflt((char *)dst + dh, dh, im);
      return;
    }
    if (cconv_load(S, s, src, &v)) {
      cconv_store(S, d, dst, &v);
      return;
    }
    break;
  case CT_PTR: case CT_REF: {
    CTypeID schild;
    unsigned sq;
    switch (s->kind) {
    case CT_PTR:
      memcpy(&p, src, sizeof p);
      schild = s->child;
      sq = s->flags & CTF_QUALS;
      break;
    case CT_ARRAY:                  /* arrays decay to a pointer to the element */
      p = (void *)src;
      schild = s->child;
      sq = (s->flags & CTF_QUALS) | squals;
      break;
    case CT_STRUCT: case CT_UNION: case CT_FUNC:
      p = (void *)src;              /* a record or function: its address */
      schild = sid;
      sq = squals;
      break;
    default:
      if (d->kind == CT_REF && s->kind != CT_VOID) {   /* T & from a T cdata */
        p = (void *)src;
        schild = sid;
        sq = squals;
        break;
      }
      if ((flags & CCF_CAST) && d->kind == CT_PTR && cconv_load(S, s, src, &v)) {
        int64_t a = v.kind == CV_FLT ? cconv_d2i(v.d) : v.i;
        cconv_putptr(dst, (void *)(uintptr_t)a);
        return;
      }
      goto fail;
    }
    if (!(flags & CCF_CAST) &&
        !cconv_compat(S, d->child, d->flags & CTF_QUALS, schild, sq, 0))
      goto fail;
    cconv_putptr(dst, p);
    return;
  }
  case CT_ARRAY:
    if (s->kind == CT_ARRAY && d->size != 0 && d->size == s->size &&
        !(d->flags & CTF_VLA) &&
        cconv_compat(S, d->child, CTF_QUALS, s->child, 0, 1)) {
      memmove(dst, src, d->size);
      return;
    }
    break;
  case CT_STRUCT: case CT_UNION: case CT_VECTOR:
    if (sid == did) {               /* aggregates copy only from their own type */
      memmove(dst, src, d->size);
      return;
    }
    break;
  default:
    break;
  }
fail:
  if (idx != 0)
    cconv_err(L, S, did, idx, flags, fn);
  else
    cconv_cerror(L, S, did, sid, flags, fn);
}

void cconv_ctoc(lua_State *L, CTState *S, CTypeID did, void *dst,
                CTypeID sid, const void *src, unsigned flags) {
  cconv_ct(L, S, did, dst, sid, src, flags, 0, 0, NULL);
}

/* A library function stands for code that exists only while its library
** is open: its cdata (the function cdata at idx, or the one behind the
** library closure at idx) keeps the library handle as user value 1 (none
** for ffi.C's functions).  Raises "library 'NAME' has been closed". */
static void cconv_checklib(lua_State *L, CTState *S, int idx) {
  int top = lua_gettop(L);
  idx = lua_absindex(L, idx);
  luaL_checkstack(L, 3, NULL);
  if (lua_type(L, idx) == LUA_TFUNCTION) {
    cffi_pushtable(L, S, CFFI_T_FUNCS);
    lua_pushvalue(L, idx);
    lua_rawget(L, -2);
    lua_remove(L, -2);
  } else {
    lua_pushvalue(L, idx);
  }
  if (lua_type(L, -1) == LUA_TUSERDATA &&
      lua_getiuservalue(L, -1, 1) == LUA_TUSERDATA) {
    CLib *lib = (CLib *)lua_touserdata(L, -1);
    clib_checkopen(L, lib);
  }
  lua_settop(L, top);
}

/* Address of the object a cdata stands for (a function cdata: the
** function's address, whether stored as a reference or as a value). */
static const void *cconv_cdaddr(CTState *S, CData *cd) {
  if (ctype_get(S, cd->id)->kind == CT_FUNC && !(cd->flags & CDF_REF))
    return *(void **)cdata_payload(cd);
  return cdata_ptr(cd);
}


/* ---------------------------------------------------------------------
** Lua to C
** --------------------------------------------------------------------- */

/* Strings: pointers into the Lua string, char arrays, enum constants. */
static int cconv_fromstring(lua_State *L, CTState *S, CTypeID id, void *dst,
                            int idx, unsigned flags) {
  const CType *ct = ctype_get(S, id);
  size_t len;
  const char *s = lua_tolstring(L, idx, &len);
  switch (ct->kind) {
  case CT_PTR: {
    const CType *pc = ctype_get(S, ct->child);
    int bytes = pc->kind == CT_VOID || (pc->kind == CT_INT && pc->size == 1);
    if ((flags & CCF_CAST) ||
        (bytes && ((flags & CCF_ARG) || (ct->flags & CTF_CONST)))) {
      cconv_putptr(dst, s);
      return 1;
    }
    return 0;
  }
  case CT_ARRAY:
    if (cconv_ischararray(S, ct)) {
      size_t size = cconv_objsize(ct);
      if (size == CCONV_UNKNOWN)    /* `char s[]`, `char s[?]`: no known room */
        return 0;
      memcpy(dst, s, len < size ? len + 1 : size);   /* no room: no NUL */
      return 1;
    }
    return 0;
  case CT_ENUM: {
    uint32_t i;
    for (i = 0; i < ct->nfield; i++) {
      const CField *f = ctype_field(S, ct, i);
      if (f->name != NULL && strlen(f->name) == len && memcmp(f->name, s, len) == 0) {
        CVal v;
        v.kind = CV_INT;
        v.i = f->value;
        return cconv_store(S, ct, dst, &v);
      }
    }
    return 0;
  }
  default:
    return 0;
  }
}

static void cconv_conv(lua_State *L, CTState *S, CTypeID id, void *dst, int idx,
                       unsigned flags, const char *fn) {
  const CType *ct = ctype_get(S, id);
  switch (lua_type(L, idx)) {
  case LUA_TNUMBER:
    switch (ct->kind) {
    case CT_INT: case CT_ENUM: {       /* the hot path of every call */
      int isint, sg;
      lua_Integer i = lua_tointegerx(L, idx, &isint);
      cconv_putint(dst, cconv_isize(S, ct, &sg),
                   isint ? (uint64_t)i : (uint64_t)cconv_d2i(lua_tonumber(L, idx)));
      return;
    }
    case CT_FLOAT:
      if (ct->size == sizeof(double)) {
        double d = lua_tonumber(L, idx);
        memcpy(dst, &d, sizeof d);
        return;
      }
      /* fall through */
    case CT_BOOL: case CT_COMPLEX: {
      CVal v;
      if (lua_isinteger(L, idx)) {
        v.kind = CV_INT;
        v.i = lua_tointeger(L, idx);
      } else {
        v.kind = CV_FLT;
        v.d = lua_tonumber(L, idx);
      }
      cconv_store(S, ct, dst, &v);
      return;
    }
    case CT_PTR:
      if (flags & CCF_CAST) {
        int isint;
        lua_Integer i = lua_tointegerx(L, idx, &isint);
        if (!isint) i = cconv_d2i(lua_tonumber(L, idx));
        cconv_putptr(dst, (void *)(uintptr_t)i);
        return;
      }
      break;
    default:
      break;
    }
    break;
  case LUA_TUSERDATA: {
    CData *cd = cdata_test(L, S, idx);
    if (cd != NULL) {
      if (cd->flags & CDF_FUNC)
        cconv_checklib(L, S, idx);
      cconv_ct(L, S, id, dst, cd->id, cconv_cdaddr(S, cd), flags, idx,
               (cd->flags & CDF_CONST) ? CTF_CONST : 0, fn);
      return;
    }
    if (!cconv_isctype(L, S, idx)) {    /* io files give their FILE * */
      luaL_Stream *fs = (luaL_Stream *)luaL_testudata(L, idx, LUA_FILEHANDLE);
      void *p = lua_touserdata(L, idx);
      if (fs != NULL) {
        if (fs->closef == NULL)         /* fclose freed the FILE */
          cconv_raise(L, "attempt to use a closed file", flags, fn);
        p = (void *)fs->f;
      }
      if (cconv_storeaddr(S, ct, dst, p, flags))
        return;
    }
    break;
  }
  case LUA_TNIL:
    if (ct->kind == CT_PTR) {
      cconv_putptr(dst, NULL);
      return;
    }
    break;
  case LUA_TBOOLEAN: {
    CVal v;
    v.kind = CV_INT;
    v.i = lua_toboolean(L, idx);
    if (ct->kind != CT_ENUM && cconv_store(S, ct, dst, &v))
      return;
    break;
  }
  case LUA_TSTRING:
    if (cconv_fromstring(L, S, id, dst, idx, flags))
      return;
    break;
  case LUA_TLIGHTUSERDATA:
    if (cconv_storeaddr(S, ct, dst, lua_touserdata(L, idx), flags))
      return;
    break;
  case LUA_TFUNCTION: {
    CData *cd = lua_iscfunction(L, idx) ? cdata_test(L, S, idx) : NULL;
    if (cd != NULL) {                   /* a library function */
      if (cd->flags & CDF_FUNC)
        cconv_checklib(L, S, idx);
      cconv_ct(L, S, id, dst, cd->id, cconv_cdaddr(S, cd), flags, idx, 0, fn);
      return;
    }
    if (ctype_isfuncptr(S, id)) {
      void *p = ccallback_implicit(L, S, id, idx);
      cconv_putptr(dst, p);
      return;
    }
    break;
  }
  case LUA_TTABLE:
    if (ctype_isagg(ct)) {
      cconv_table(L, S, id, (char *)dst, cconv_objsize(ct), lua_absindex(L, idx),
                  flags, fn, 0);
      return;
    }
    break;
  default:
    break;
  }
  cconv_err(L, S, id, idx, flags, fn);
}

void cconv_tocdata(lua_State *L, CTState *S, CTypeID id, void *dst, int idx,
                   unsigned flags) {
  cconv_conv(L, S, id, dst, idx, flags, NULL);
}

void cconv_toarg(lua_State *L, CTState *S, CTypeID id, void *dst, int idx,
                 unsigned flags, const char *fname) {
  cconv_conv(L, S, id, dst, idx, flags, fname);
}

/* cconv_conv for an object whose instance size is known (VLA/VLS
** members of an initialised instance): tables and strings use `size`
** (CCONV_UNKNOWN: nothing goes into a variable part).  depth: nesting of
** the initialiser so far. */
static void cconv_value(lua_State *L, CTState *S, CTypeID id, char *dst,
                        size_t size, int idx, unsigned flags, const char *fn,
                        int depth) {
  const CType *ct = ctype_get(S, id);
  int t = lua_type(L, idx);
  if (t == LUA_TTABLE && ctype_isagg(ct)) {
    cconv_table(L, S, id, dst, size, lua_absindex(L, idx), flags, fn, depth);
  } else if (t == LUA_TSTRING && size != CCONV_UNKNOWN && cconv_ischararray(S, ct)) {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    memcpy(dst, s, len < size ? len + 1 : size);
  } else {
    cconv_conv(L, S, id, dst, idx, flags, fn);
  }
}

/* A destination whose type leaves its size open (`T[]`, `T[?]`, a VLS)
** gets the room the caller knows; a type of fixed size keeps its own. */
void cconv_tosized(lua_State *L, CTState *S, CTypeID id, void *dst,
                   size_t size, int idx, unsigned flags) {
  const CType *ct = ctype_get(S, id);
  size_t own = cconv_objsize(ct);
  if (own != CCONV_UNKNOWN)
    size = own;
  else if (ctype_isrecord(ct) && size != CCONV_UNKNOWN &&
           size < cconv_fixedsize(S, ct))
    cconv_err(L, S, id, idx, flags, NULL);
  cconv_value(L, S, id, (char *)dst, size, idx, flags, NULL, 0);
}

/* Write a Lua value into a bitfield: converted as the field's declared type
** first (so bool fields take booleans), then truncated to the width. */
static void cconv_bitfield(lua_State *L, CTState *S, char *base, const CField *f,
                           int idx, unsigned flags, const char *fn) {
  uint64_t tmp = 0;
  int64_t v = 0;
  if (ctype_get(S, f->type)->size > sizeof tmp)
    cconv_err(L, S, f->type, idx, flags, fn);
  cconv_conv(L, S, f->type, &tmp, idx, flags, fn);
  cconv_toint64(S, f->type, &tmp, &v);
  cconv_setbits(base, f, v);
}


/* ---------------------------------------------------------------------
** Initialisers: tables and lists of values
** --------------------------------------------------------------------- */

/* Where the values of a struct initialiser come from. */
enum { CI_STACK, CI_POS, CI_NAME };
typedef struct CInit {
  int mode;
  int idx;             /* CI_STACK: first slot; else the table */
  lua_Integer pos;     /* CI_STACK: next offset; CI_POS: next table index */
  lua_Integer n;       /* CI_STACK: number of values */
  long count;          /* values used (a union stops after one) */
} CInit;

/* Push the value for the next field: 1 pushed, 0 no more values (stop),
** -1 nothing for this field (by-name tables). */
static int cconv_initnext(lua_State *L, CInit *in, const char *name) {
  switch (in->mode) {
  case CI_STACK:
    if (in->pos >= in->n) return 0;
    lua_pushvalue(L, in->idx + (int)in->pos++);
    return 1;
  case CI_POS:
    if (lua_rawgeti(L, in->idx, in->pos) == LUA_TNIL) {
      lua_pop(L, 1);
      return 0;
    }
    in->pos++;
    return 1;
  default:
    lua_pushstring(L, name);
    if (lua_rawget(L, in->idx) == LUA_TNIL) {
      lua_pop(L, 1);
      return -1;
    }
    return 1;
  }
}

/* Bytes available to field f in an instance of `size` bytes: its type's
** size, or what remains for a trailing VLA / flexible array. */
static size_t cconv_fieldsize(CTState *S, const CField *f, size_t size) {
  const CType *ft = ctype_get(S, f->type);
  if ((ft->size == 0 && (ft->flags & (CTF_VLA | CTF_INCOMPLETE))) ||
      (ctype_isrecord(ft) && (ft->flags & CTF_VLA))) {
    if (size == CCONV_UNKNOWN) return CCONV_UNKNOWN;
    return size > f->offset ? size - f->offset : 0;
  }
  return ft->size;
}

/* Fill the fields of record id in declaration order (transparent members
** inline).  Returns 0 when the values ran out (stop everything). */
static int cconv_walk(lua_State *L, CTState *S, CTypeID id, char *dst,
                      size_t size, CInit *in, unsigned flags, const char *fn,
                      int depth) {
  uint32_t k, n = ctype_get(S, id)->nfield;
  int isunion = ctype_get(S, id)->kind == CT_UNION;
  if (depth > CCONV_MAXDEPTH)
    cconv_raise(L, "initializer nested too deeply", flags, fn);
  for (k = 0; k < n; k++) {
    CField f = *ctype_field(S, ctype_get(S, id), k);   /* copy: the table may grow */
    size_t fsize;
    int r;
    if (f.flags & CFF_CONSTVAL)
      continue;
    fsize = cconv_fieldsize(S, &f, size);
    if (f.flags & CFF_ANON) {
      long before = in->count;
      if (!cconv_walk(L, S, f.type, dst + f.offset, fsize, in, flags, fn, depth + 1))
        return 0;
      if (isunion && in->count != before)
        return 1;
      continue;
    }
    if (f.name == NULL)
      continue;
    r = cconv_initnext(L, in, f.name);
    if (r == 0) return 0;
    if (r < 0) continue;
    if (f.flags & CFF_BITFIELD)
      cconv_bitfield(L, S, dst, &f, lua_gettop(L), flags, fn);
    else
      cconv_value(L, S, f.type, dst + f.offset, fsize, lua_gettop(L), flags, fn,
                  depth + 1);
    lua_pop(L, 1);
    in->count++;
    if (isunion)
      return 1;
  }
  return 1;
}

static void cconv_tabstruct(lua_State *L, CTState *S, CTypeID id, char *dst,
                            size_t size, int idx, unsigned flags, const char *fn,
                            int depth) {
  CInit in;
  memset(dst, 0, cconv_fixedsize(S, ctype_get(S, id)));
  in.idx = idx;
  in.n = 0;
  in.count = 0;
  if (lua_rawgeti(L, idx, 0) != LUA_TNIL) {
    in.mode = CI_POS; in.pos = 0;
  } else if (lua_rawgeti(L, idx, 1) != LUA_TNIL) {
    in.mode = CI_POS; in.pos = 1;
    lua_pop(L, 1);
  } else {                          /* neither [0] nor [1]: fields by name */
    in.mode = CI_NAME; in.pos = 0;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  cconv_walk(L, S, id, dst, size, &in, flags, fn, depth);
}

/* Arrays and vectors from a table: [0]- or 1-based, up to the first nil;
** a single element of a fixed-size array is replicated, the rest zeroed. */
static void cconv_tabarray(lua_State *L, CTState *S, CTypeID id, char *dst,
                           size_t size, int idx, unsigned flags, const char *fn,
                           int depth) {
  const CType *ct = ctype_get(S, id);
  CTypeID eid = ct->child;
  size_t esz = ctype_get(S, eid)->size, max, i;
  int fixed = !(ct->flags & (CTF_VLA | CTF_INCOMPLETE)) && size != CCONV_UNKNOWN;
  lua_Integer base;
  if (esz == 0)
    cconv_err(L, S, id, idx, flags, fn);
  max = size == CCONV_UNKNOWN ? 0 : size / esz;   /* unknown: no room */
  base = lua_rawgeti(L, idx, 0) == LUA_TNIL ? 1 : 0;
  lua_pop(L, 1);
  for (i = 0; ; i++) {
    if (lua_rawgeti(L, idx, base + (lua_Integer)i) == LUA_TNIL) {
      lua_pop(L, 1);
      break;
    }
    if (i >= max)
      cconv_toomany(L, S, id, flags, fn);
    cconv_value(L, S, eid, dst + i * esz, esz, lua_gettop(L), flags, fn, depth + 1);
    lua_pop(L, 1);
  }
  if (fixed) {
    size_t ofs = i * esz;
    if (i == 1)
      for (; ofs + esz <= size; ofs += esz) memcpy(dst + ofs, dst, esz);
    else if (ofs < size)
      memset(dst + ofs, 0, size - ofs);
  }
}

/* Complex from {re, im} ([0]- or 1-based) or {re = , im = }. */
static void cconv_tabcomplex(lua_State *L, CTState *S, CTypeID id, char *dst,
                             int idx, unsigned flags, const char *fn) {
  const CType *ct = ctype_get(S, id);
  size_t h = ct->size / 2;
  CTypeID eid = h == sizeof(float) ? CTID_FLOAT : CTID_DOUBLE;
  lua_Integer base = lua_rawgeti(L, idx, 0) == LUA_TNIL ? 1 : 0;
  int part;
  lua_pop(L, 1);
  if (ct->child != 0) eid = ct->child;
  for (part = 0; part < 2; part++) {
    if (lua_rawgeti(L, idx, base + part) == LUA_TNIL) {
      lua_pop(L, 1);
      lua_getfield(L, idx, part ? "im" : "re");
    }
    if (lua_isnil(L, -1))
      memset(dst + part * h, 0, h);
    else
      cconv_conv(L, S, eid, dst + part * h, lua_gettop(L), flags, fn);
    lua_pop(L, 1);
  }
}

static void cconv_table(lua_State *L, CTState *S, CTypeID id, char *dst,
                        size_t size, int idx, unsigned flags, const char *fn,
                        int depth) {
  if (depth > CCONV_MAXDEPTH)
    cconv_raise(L, "initializer nested too deeply", flags, fn);
  luaL_checkstack(L, 4, "initializer nested too deeply");
  switch (ctype_get(S, id)->kind) {
  case CT_ARRAY: case CT_VECTOR:
    cconv_tabarray(L, S, id, dst, size, idx, flags, fn, depth);
    break;
  case CT_COMPLEX:
    cconv_tabcomplex(L, S, id, dst, idx, flags, fn);
    break;
  default:
    cconv_tabstruct(L, S, id, dst, size, idx, flags, fn, depth);
    break;
  }
}

/* LuaJIT's rule for a single initialiser of an aggregate: a table, a string
** for an array or a cdata of the very type initialise the whole object;
** any other value is a flat list of one (replicated for arrays). */
static int cconv_multi(lua_State *L, CTState *S, const CType *ct, CTypeID id,
                       int idx) {
  CData *cd;
  int t;
  if (!(ct->kind == CT_ARRAY || ct->kind == CT_VECTOR || ctype_isrecord(ct)))
    return 0;
  t = lua_type(L, idx);
  if (t == LUA_TTABLE || (t == LUA_TSTRING && !ctype_isrecord(ct)))
    return 0;
  cd = cdata_test(L, S, idx);
  if (cd != NULL && cd->id == id)
    return 0;
  return 1;
}

void cconv_init(lua_State *L, CTState *S, CTypeID id, void *dst, size_t size,
                int first, int n) {
  const CType *ct = ctype_get(S, id);
  char *d = (char *)dst;
  if (n <= 0)
    return;
  first = lua_absindex(L, first);
  if (n == 1 && !cconv_multi(L, S, ct, id, first)) {
    cconv_value(L, S, id, d, size, first, CCF_INIT, NULL, 0);
    return;
  }
  switch (ct->kind) {
  case CT_ARRAY: case CT_VECTOR: {
    CTypeID eid = ct->child;
    size_t esz = ctype_get(S, eid)->size, i, ofs;
    if (esz == 0 || (size_t)n > size / esz)
      cconv_toomany(L, S, id, 0, NULL);
    for (i = 0; i < (size_t)n; i++)
      cconv_value(L, S, eid, d + i * esz, esz, first + (int)i, CCF_INIT, NULL, 0);
    if (n == 1)                     /* a single initialiser is replicated */
      for (ofs = esz; ofs + esz <= size; ofs += esz) memcpy(d + ofs, d, esz);
    return;
  }
  case CT_COMPLEX: {
    size_t h = ct->size / 2;
    CTypeID eid = ct->child ? ct->child : (h == sizeof(float) ? CTID_FLOAT : CTID_DOUBLE);
    if (n > 2)
      cconv_toomany(L, S, id, 0, NULL);
    cconv_conv(L, S, eid, d, first, CCF_INIT, NULL);
    cconv_conv(L, S, eid, d + h, first + 1, CCF_INIT, NULL);
    return;
  }
  case CT_STRUCT: case CT_UNION: {
    CInit in;
    in.mode = CI_STACK;
    in.idx = first;
    in.pos = 0;
    in.n = n;
    in.count = 0;
    cconv_walk(L, S, id, d, size, &in, CCF_INIT, NULL, 0);
    if (in.pos < in.n)
      cconv_toomany(L, S, id, 0, NULL);
    return;
  }
  default:
    cconv_toomany(L, S, id, 0, NULL);
  }
}


/* ---------------------------------------------------------------------
** C to Lua
** --------------------------------------------------------------------- */

void cconv_tolua(lua_State *L, CTState *S, CTypeID id, void *src, int parent) {
  const CType *ct = ctype_get(S, id);
  switch (ct->kind) {
  case CT_INT: case CT_ENUM: {
    int sg;
    size_t sz = cconv_isize(S, ct, &sg);
    lua_pushinteger(L, (lua_Integer)cconv_getint(src, sz, sg));
    return;
  }
  case CT_FLOAT:
    lua_pushnumber(L, cconv_getflt(src, ct->size));
    return;
  case CT_BOOL:
    lua_pushboolean(L, cconv_getint(src, ct->size, 0) != 0);
    return;
  case CT_PTR: {
    void *p;
    memcpy(&p, src, sizeof p);
    if (p == NULL)
      lua_pushnil(L);
    else
      cdata_pushptr(L, S, id, p);
    return;
  }
  case CT_REF: {
    void *p;
    CTypeID cid = ct->child;
    memcpy(&p, src, sizeof p);
    if (p == NULL) {
      lua_pushnil(L);
    } else {
      const CType *cc = ctype_get(S, cid);
      if (ctype_isrecord(cc) || cc->kind == CT_ARRAY)
        cdata_newref(L, S, cid, p, 0, (ct->flags & CTF_CONST) ? CDF_CONST : 0);
      else
        cconv_tolua(L, S, cid, p, 0);
    }
    return;
  }
  case CT_COMPLEX: case CT_VECTOR: {   /* boxed values: always a copy */
    CData *cd = cdata_new(L, S, id, ct->size);
    memcpy(cdata_payload(cd), src, ct->size);
    return;
  }
  case CT_ARRAY: case CT_STRUCT: case CT_UNION: case CT_FUNC:
    if (parent != 0 || ct->kind == CT_FUNC || cconv_objsize(ct) == CCONV_UNKNOWN) {
      cdata_newref(L, S, id, src, parent, 0);
    } else {
      size_t size = ct->size;
      CData *cd = cdata_new(L, S, id, size);
      memcpy(cdata_payload(cd), src, size);
    }
    return;
  default:
    lua_pushnil(L);
    return;
  }
}

/* The scalar class of a type for the inline fast paths of cffi.h; they
** follow the rules above (cconv_conv, cconv_tolua) for the values they
** take, so both agree by construction. */
int cconv_sclass(CTState *S, CTypeID id, unsigned flags) {
  const CType *ct = ctype_get(S, id);
  switch (ct->kind) {
  case CT_VOID:
    return CCS_VOID;
  case CT_BOOL:
    return ct->size == 1 ? CCS_BOOL : CCS_OTHER;
  case CT_INT: case CT_ENUM: {
    int sg;
    size_t sz = cconv_isize(S, ct, &sg);
    int u = !sg;
    switch (sz) {
    case 1: return CCS_I8 + u;
    case 2: return CCS_I16 + u;
    case 4: return CCS_I32 + u;
    case 8: return CCS_I64 + u;
    default: return CCS_OTHER;
    }
  }
  case CT_FLOAT:
    return ct->size == sizeof(float) ? CCS_FLOAT :
           ct->size == sizeof(double) ? CCS_DOUBLE : CCS_OTHER;
  case CT_PTR: {
    const CType *pc = ctype_get(S, ct->child);
    if ((flags & CCF_ARG) &&
        (pc->kind == CT_VOID || (pc->kind == CT_INT && pc->size == 1)))
      return CCS_STR;
    return CCS_PTR;
  }
  default:
    return CCS_OTHER;
  }
}

/* The plain cases of cconv_ct for a cdata to a pointer parameter: its
** pointer, array or record where the pointees are the same type or the
** parameter's is void, and no qualifier is dropped (cconv_compat's top
** level); the rest is left to cconv_conv. */
int cconv_fastptr(lua_State *L, CTState *S, CTypeID ptrid, CTypeID to,
                  unsigned quals, int idx, uint64_t *out) {
  const void *mt;
  const CData *cd;
  const CType *ct;
  unsigned sq;
  int tovoid;
  void *p;
  if (!lua_getmetatable(L, idx)) return 0;
  mt = lua_topointer(L, -1);
  lua_settop(L, -2);
  if (mt != S->cdmt && mt != S->cdmtgc) return 0;
  cd = (const CData *)lua_touserdata(L, idx);
  if (cd->id == ptrid) {            /* the very pointer type: its value */
    memcpy(&p, cdata_ptr(cd), sizeof p);
    *out = (uint64_t)(uintptr_t)p;
    return 1;
  }
  ct = ctype_get(S, cd->id);
  tovoid = ctype_get(S, to)->kind == CT_VOID;
  sq = (cd->flags & CDF_CONST) ? CTF_CONST : 0;
  switch (ct->kind) {
  case CT_PTR:
    if ((ct->flags & CTF_QUALS & ~quals) ||
        !(ct->child == to || tovoid || ctype_get(S, ct->child)->kind == CT_VOID))
      return 0;
    memcpy(&p, cdata_ptr(cd), sizeof p);
    *out = (uint64_t)(uintptr_t)p;
    return 1;
  case CT_ARRAY:                    /* decays to a pointer to its elements */
    if (((ct->flags & CTF_QUALS) | sq) & ~quals || !(ct->child == to || tovoid))
      return 0;
    break;
  case CT_STRUCT: case CT_UNION:    /* its address */
    if ((sq & ~quals) || !(cd->id == to || tovoid))
      return 0;
    break;
  default:
    return 0;
  }
  *out = (uint64_t)(uintptr_t)cdata_ptr(cd);
  return 1;
}

/* 1: an integer kind (int, bool, enum), *out its value (uint64_t keeps its
** bits); 2: a float (complex: real part), *out truncated; 0: neither. */
int cconv_toint64(CTState *S, CTypeID id, const void *src, int64_t *out) {
  CVal v;
  if (!cconv_load(S, ctype_get(S, id), src, &v))
    return 0;
  if (v.kind == CV_FLT) {
    *out = cconv_d2i(v.d);
    return 2;
  }
  *out = v.i;
  return 1;
}


/* ---------------------------------------------------------------------
** Bitfields: `offset` is the byte holding bit 0 of the field, `bitpos`
** the bit in it; the value spans the following bytes, little-endian.
** --------------------------------------------------------------------- */

int64_t cconv_getbits(const void *base, const CField *f, int issigned) {
  const uint8_t *p = (const uint8_t *)base + f->offset;
  unsigned pos = f->bitpos, need = f->bitsize, got = 0;
  uint64_t v = 0;
  if (need > 64) need = 64;
  while (got < need) {
    unsigned take = 8 - pos;
    if (take > need - got) take = need - got;
    v |= (uint64_t)((*p >> pos) & ((1u << take) - 1)) << got;
    got += take;
    pos = 0;
    p++;
  }
  if (issigned && need > 0 && need < 64 && ((v >> (need - 1)) & 1))
    v |= ~(uint64_t)0 << need;
  return (int64_t)v;
}

void cconv_setbits(void *base, const CField *f, int64_t val) {
  uint8_t *p = (uint8_t *)base + f->offset;
  unsigned pos = f->bitpos, need = f->bitsize, done = 0;
  uint64_t v = (uint64_t)val;
  if (need > 64) need = 64;
  while (done < need) {
    unsigned take = 8 - pos, mask;
    if (take > need - done) take = need - done;
    mask = ((1u << take) - 1) << pos;
    *p = (uint8_t)((*p & ~mask) | (((unsigned)(v >> done) << pos) & mask));
    done += take;
    pos = 0;
    p++;
  }
}
