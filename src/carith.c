/*
** carith.c: arithmetic and comparison of cdata: 64-bit integer arithmetic
** as LuaJIT does it, pointer arithmetic, ==, <, <=, and the fallback to a
** metatype's operator metamethods (also for ..).  The metamethods are set
** on the cdata metatables by carith_open.
*/
#include <string.h>

#include "cffi.h"

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

static void carith_arg(lua_State *L, CTState *S, int idx, CArith *a) {
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

/* Both operands of a binary metamethod (slots 1 and 2). */
static void carith_args(lua_State *L, CTState *S, CArith *a, CArith *b) {
  carith_arg(L, S, 1, a);
  carith_arg(L, S, 2, b);
}

/* A string against an enum cdata is the enum constant's value. */
static void carith_enumstr(lua_State *L, CTState *S, CArith *s, const CArith *e) {
  if (s->kind == CA_STR && e->cd != NULL &&
      ctype_get(S, e->cd->id)->kind == CT_ENUM) {
    uint64_t tmp = 0;
    cconv_tocdata(L, S, e->cd->id, &tmp, s->idx, 0);
    cconv_toint64(S, e->cd->id, &tmp, &s->i);
    s->kind = CA_INT;
  }
}

static void carith_pusharg(lua_State *L, const CArith *a) {
  if (a->kind == CA_INT)
    lua_pushinteger(L, (lua_Integer)a->i);
  else
    lua_pushnumber(L, a->d);
}

/* Operands of 64-bit arithmetic: Lua floats truncate to integers. */
static void carith_toint(lua_State *L, CTState *S, CArith *a) {
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

static int carith_isnum(const CArith *a) {
  return a->kind == CA_INT || a->kind == CA_FLT;
}

/* The message naming both operands' types: fmt has two %s. */
static int carith_error2(lua_State *L, CTState *S, const char *fmt) {
  char n1[200], n2[200];
  cconv_typename(L, S, 1, n1, sizeof n1);
  cconv_typename(L, S, 2, n2, sizeof n2);
  return luaL_error(L, fmt, n1, n2);
}


/* ---------------------------------------------------------------------
** Integers and pointers
** --------------------------------------------------------------------- */

static uint64_t carith_ipow(uint64_t x, uint64_t y, int uns) {
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

static uint64_t carith_shift(uint64_t x, int64_t n, int left) {
  if (n < 0) { n = -n; left = !left; }
  if (n >= 64) return 0;
  return left ? x << n : x >> n;
}

/* 64-bit integer arithmetic as LuaJIT does it (C division and remainder,
** unsigned when either side is uint64_t); the result is a Lua integer. */
static int carith_int64(lua_State *L, int op, const CArith *a, const CArith *b) {
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
  case LUA_OPPOW: r = carith_ipow(x, y, uns); break;
  case LUA_OPUNM: r = 0 - x; break;
  case LUA_OPBNOT: r = ~x; break;
  case LUA_OPBAND: r = x & y; break;
  case LUA_OPBOR: r = x | y; break;
  case LUA_OPBXOR: r = x ^ y; break;
  case LUA_OPSHL: r = carith_shift(x, (int64_t)y, 1); break;
  default: r = carith_shift(x, (int64_t)y, 0); break;   /* LUA_OPSHR */
  }
  lua_pushinteger(L, (lua_Integer)r);
  return 1;
}

/* Pointer arithmetic: p + n, n + p, p - n, p - q. */
static int carith_ptr(lua_State *L, CTState *S, int op, CArith *a, CArith *b) {
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
  if (!carith_isnum(na) || (op == LUA_OPSUB && pa != a))
    return 0;
  carith_toint(L, S, na);
  {
    uint64_t n = op == LUA_OPSUB ? 0 - (uint64_t)na->i : (uint64_t)na->i;
    char *np = carith_offset(pa->p, (int64_t)n, esz);
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


/* ---------------------------------------------------------------------
** Operators
** --------------------------------------------------------------------- */

/* Call metamethod `mm` of either operand's metatype with (1, 2). */
static int carith_callmm(lua_State *L, CTState *S, const CArith *a,
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

static int carith_arith(lua_State *L, int op, const char *mm) {
  CTState *S = cffi_upstate(L);
  int unary = op == LUA_OPUNM || op == LUA_OPBNOT;
  CArith a, b;
  carith_arg(L, S, 1, &a);
  if (unary) b = a; else carith_arg(L, S, 2, &b);
  carith_enumstr(L, S, &a, &b);
  carith_enumstr(L, S, &b, &a);
  if (carith_isnum(&a) && carith_isnum(&b)) {
    if (a.is64 || b.is64) {
      carith_toint(L, S, &a);
      carith_toint(L, S, &b);
      return carith_int64(L, op, &a, &b);
    }
    carith_pusharg(L, &a);
    if (!unary) carith_pusharg(L, &b);
    lua_arith(L, op);
    return 1;
  }
  if (!unary && carith_ptr(L, S, op, &a, &b))
    return 1;
  if (carith_callmm(L, S, &a, &b, mm, 1))
    return 1;
  if (unary) {
    char n1[200];
    cconv_typename(L, S, 1, n1, sizeof n1);
    return luaL_error(L, "attempt to perform arithmetic on '%s'", n1);
  }
  return carith_error2(L, S, "attempt to perform arithmetic on '%s' and '%s'");
}

#define CARITH_MM(name, op) \
  static int carith_mm_##name(lua_State *L) { return carith_arith(L, op, "__" #name); }
CARITH_MM(add, LUA_OPADD)
CARITH_MM(sub, LUA_OPSUB)
CARITH_MM(mul, LUA_OPMUL)
CARITH_MM(div, LUA_OPDIV)
CARITH_MM(mod, LUA_OPMOD)
CARITH_MM(pow, LUA_OPPOW)
CARITH_MM(unm, LUA_OPUNM)
CARITH_MM(idiv, LUA_OPIDIV)
CARITH_MM(band, LUA_OPBAND)
CARITH_MM(bor, LUA_OPBOR)
CARITH_MM(bxor, LUA_OPBXOR)
CARITH_MM(shl, LUA_OPSHL)
CARITH_MM(shr, LUA_OPSHR)
CARITH_MM(bnot, LUA_OPBNOT)

/* op: LUA_OPEQ, LUA_OPLT, LUA_OPLE.  Returns 1 with *res set, 0 if the
** operands cannot be compared natively. */
static int carith_cmpnative(lua_State *L, int op, const CArith *a,
                            const CArith *b, int *res) {
  if (carith_isnum(a) && carith_isnum(b)) {
    if ((a->uns || b->uns) && a->kind == CA_INT && b->kind == CA_INT) {
      uint64_t x = (uint64_t)a->i, y = (uint64_t)b->i;
      *res = op == LUA_OPEQ ? x == y : op == LUA_OPLT ? x < y : x <= y;
    } else {
      carith_pusharg(L, a);
      carith_pusharg(L, b);
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
  return 0;
}

static int carith_compare(lua_State *L, int op, const char *mm) {
  CTState *S = cffi_upstate(L);
  CArith a, b;
  int res;
  carith_args(L, S, &a, &b);
  if (op != LUA_OPEQ) {
    carith_enumstr(L, S, &a, &b);
    carith_enumstr(L, S, &b, &a);
  }
  if (carith_cmpnative(L, op, &a, &b, &res)) {
    lua_pushboolean(L, res);
    return 1;
  }
  if (carith_callmm(L, S, &a, &b, mm, 1)) {
    lua_pushboolean(L, lua_toboolean(L, -1));
    return 1;
  }
  if (op == LUA_OPEQ) {             /* == never raises */
    lua_pushboolean(L, a.kind == CA_AGG && b.kind == CA_AGG && a.p == b.p);
    return 1;
  }
  return carith_error2(L, S, "attempt to compare '%s' with '%s'");
}

static int carith_mm_eq(lua_State *L) { return carith_compare(L, LUA_OPEQ, "__eq"); }
static int carith_mm_lt(lua_State *L) { return carith_compare(L, LUA_OPLT, "__lt"); }
static int carith_mm_le(lua_State *L) { return carith_compare(L, LUA_OPLE, "__le"); }

/* `..` has no C meaning: only a metatype's __concat. */
static int carith_mm_concat(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CArith a, b;
  carith_args(L, S, &a, &b);
  if (carith_callmm(L, S, &a, &b, "__concat", 1))
    return 1;
  return carith_error2(L, S, "attempt to concatenate '%s' and '%s'");
}

static const luaL_Reg carith_meta[] = {
  {"__add", carith_mm_add},
  {"__sub", carith_mm_sub},
  {"__mul", carith_mm_mul},
  {"__div", carith_mm_div},
  {"__mod", carith_mm_mod},
  {"__pow", carith_mm_pow},
  {"__unm", carith_mm_unm},
  {"__idiv", carith_mm_idiv},
  {"__band", carith_mm_band},
  {"__bor", carith_mm_bor},
  {"__bxor", carith_mm_bxor},
  {"__shl", carith_mm_shl},
  {"__shr", carith_mm_shr},
  {"__bnot", carith_mm_bnot},
  {"__eq", carith_mm_eq},
  {"__lt", carith_mm_lt},
  {"__le", carith_mm_le},
  {"__concat", carith_mm_concat},
  {NULL, NULL}
};

void carith_open(lua_State *L, int stateidx) {
  lua_pushvalue(L, stateidx);
  luaL_setfuncs(L, carith_meta, 1);
}
